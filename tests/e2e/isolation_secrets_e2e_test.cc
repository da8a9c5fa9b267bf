// Tenant isolation, Secret references (docs/security.md, section 1): a Project's
// spec.auth.smtp.passwordSecretRef and spec.storage.s3.credentialsSecretRef make the operator,
// with its cluster-wide rights, read a Secret and copy it into the project namespace. Each test
// points them where a Project's author must not reach, as the author would, and shows the
// refusal: one reason and one message whatever the cause (so it tells nothing about whether a
// Secret exists), a Warning Event, and nothing of the Project written. With the Secret's consent
// (kubabase.io/allowed-projects) in the shared-secrets namespace, the copy is made.
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

const std::string kSmtpField = "spec.auth.smtp.passwordSecretRef";
const std::string kS3Field = "spec.storage.s3.credentialsSecretRef";

Json SmtpNaming(const std::string& ns, const std::string& name, const std::string& key) {
  return {{"auth",
           {{"smtp",
             {{"host", "smtp.example.test"},
              {"passwordSecretRef", {{"namespace", ns}, {"name", name}, {"key", key}}}}}}}};
}

Json S3Naming(const std::string& ns, const std::string& name) {
  return {{"storage",
           {{"backend", "s3"},
            {"s3",
             {{"endpoint", "http://minio.example.test:9000"},
              {"bucket", "attack"},
              {"credentialsSecretRef", {{"namespace", ns}, {"name", name}}}}}}}};
}

Json Consenting(const std::string& projects) {
  return {{"annotations",
           {{std::string(project::names::kAllowedProjectsAnnotation), projects}}}};
}

// `text` with every `from` replaced by `to`.
std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

class SecretRefsE2eTest : public ProjectE2eTest {
 protected:
  struct Attack {
    std::string what;
    std::string field;  // the spec field that names the Secret
    std::string ns;
    std::string secret;
    Json spec;
    std::string project;  // filled in when created
  };

  // Waits until Project `attack.project` is refused as every refused reference is, and checks
  // that nothing of it was written. Returns the Ready message with the parts that name this
  // attack (field, Secret, Project) replaced by placeholders: the same for every attack.
  std::string ExpectRefused(const Attack& attack) {
    SCOPED_TRACE(attack.what);
    const std::string& name = attack.project;
    const std::string ref = attack.ns + "/" + attack.secret;
    EXPECT_TRUE(WaitForNotReady(name, "SecretRefNotAllowed",
                                {attack.field + ": Secret " + ref +
                                     " does not exist or does not allow Project " + name + ".",
                                 "see docs/security.md"}));
    StatusOr<Json> stalled = GetProject(name);
    if (!stalled.ok()) {
      ADD_FAILURE() << stalled.status().ToString();
      return "";
    }
    EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(name);
    EXPECT_EQ(StringAt(Condition(*stalled, "Stalled"), "/reason"), "SecretRefNotAllowed");
    EXPECT_EQ(StringAt(*stalled, "/status/phase"), "Failed");
    const std::string message = StringAt(Condition(*stalled, "Ready"), "/message");
    EXPECT_TRUE(Eventually(name, "a Warning SecretRefNotAllowed Event", 30s, [&](std::string* why) {
      StatusOr<Json> events = ProjectEvents(name, "SecretRefNotAllowed", "Warning");
      if (!events.ok()) {
        *why = events.status().ToString();
        return false;
      }
      *why = std::to_string((*events)["items"].size()) + " events";
      for (const Json& event : (*events)["items"]) {
        if (StringAt(event, "/message") == message) return true;
        *why = "message " + StringAt(event, "/message");
      }
      return false;
    }));
    // Nothing written: no namespace, so no copy of anything in it.
    StatusOr<Json> ns = Get(Resource::Namespaces(), "", ProjectNamespace(name));
    EXPECT_TRUE(!ns.ok() && ns.status().IsNotFound()) << "a refused Project got its namespace";
    for (std::string_view copy : {project::names::kSmtpCredentialsSecret,
                                  project::names::kS3CredentialsSecret}) {
      StatusOr<Json> copied = Get(Resource::Secrets(), ProjectNamespace(name), std::string(copy));
      EXPECT_TRUE(!copied.ok() && copied.status().IsNotFound()) << copy << " was copied";
    }
    return Replaced(Replaced(Replaced(message, ref, "<secret>"), attack.field, "<field>"), name,
                    "<project>");
  }
};

TEST_F(SecretRefsE2eTest, EveryForbiddenOrMissingSecretGetsOneAnswerAndNothingIsCopied) {
  // What the attacks point at. The kube-system Secret even "consents" to every Project: the
  // namespace alone refuses it.
  const std::string cluster_secret = "e2e-cluster-token-" + RandomSuffix();
  ASSERT_TRUE(CreateSecret("kube-system", cluster_secret,
                           {{"AWS_ACCESS_KEY_ID", "cluster-id"},
                            {"AWS_SECRET_ACCESS_KEY", "cluster-credential"}},
                           Consenting("*")));
  const std::string victim = NewProjectName("victim");
  ASSERT_TRUE(CreateProject(victim).ok());
  ASSERT_TRUE(WaitForObject(victim, Resource::Secrets(), ProjectNamespace(victim),
                            std::string(project::names::kApiKeysSecret), "to exist",
                            [](const Json&, std::string*) { return true; }));
  ASSERT_TRUE(EnsureNamespace(kSharedSecretsNamespace));
  const std::string unshared = "e2e-unshared-" + RandomSuffix();
  ASSERT_TRUE(CreateSecret(kSharedSecretsNamespace, unshared, {{"password", "not-yours"}},
                           Consenting("someone-else, another-one")));

  std::vector<Attack> attacks = {
      {"(a) a kube-system Secret", kS3Field, "kube-system", cluster_secret,
       S3Naming("kube-system", cluster_secret), ""},
      {"(b) another project's JWT_SECRET", kSmtpField, ProjectNamespace(victim),
       std::string(project::names::kApiKeysSecret),
       SmtpNaming(ProjectNamespace(victim), std::string(project::names::kApiKeysSecret),
                  std::string(project::names::kJwtSecretKey)),
       ""},
      {"(c) a shared Secret that does not name the Project", kSmtpField, kSharedSecretsNamespace,
       unshared, SmtpNaming(kSharedSecretsNamespace, unshared, "password"), ""},
      {"(d) a Secret that does not exist", kS3Field, kSharedSecretsNamespace,
       "e2e-absent-" + RandomSuffix(), Json(), ""},
  };
  attacks[3].spec = S3Naming(kSharedSecretsNamespace, attacks[3].secret);
  for (Attack& attack : attacks) {
    attack.project = NewProjectName("steal");
    ASSERT_TRUE(CreateProject(attack.project, attack.spec).ok()) << attack.what;
  }
  std::vector<std::string> shapes;
  for (const Attack& attack : attacks) shapes.push_back(ExpectRefused(attack));
  for (size_t i = 1; i < shapes.size(); ++i) {
    EXPECT_EQ(shapes[i], shapes[0]) << attacks[i].what << " reads differently from "
                                    << attacks[0].what << ": the message tells them apart";
  }
  EXPECT_NE(shapes[0].find("<project>"), std::string::npos) << shapes[0];

  // No value of any of those Secrets is shown anywhere on the refused Projects.
  StatusOr<std::map<std::string, std::string>> keys =
      SecretData(*client_, ProjectNamespace(victim), std::string(project::names::kApiKeysSecret));
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  const std::string jwt_secret = keys->at(std::string(project::names::kJwtSecretKey));
  for (const Attack& attack : attacks) {
    StatusOr<Json> got = GetProject(attack.project);
    ASSERT_TRUE(got.ok());
    const std::string shown = got->dump();
    for (const std::string& value : {jwt_secret, std::string("cluster-credential"),
                                     std::string("not-yours")}) {
      EXPECT_EQ(shown.find(value), std::string::npos) << attack.what;
    }
  }
}

TEST_F(SecretRefsE2eTest, ASharedSecretIsCopiedOnceItNamesTheProject) {
  // Labelled for reload, so the consent reaches the Project at once (not at the next resync).
  ASSERT_TRUE(EnsureNamespace(kSharedSecretsNamespace));
  const std::string secret = "e2e-smtp-" + RandomSuffix();
  ASSERT_TRUE(CreateSecret(kSharedSecretsNamespace, secret, {{"password", "shared-password"}},
                           {{"labels", {{std::string(project::names::kReloadLabel), "true"}}}}));
  const std::string name = NewProjectName("consent");
  ASSERT_TRUE(CreateProject(name, SmtpNaming(kSharedSecretsNamespace, secret, "password")).ok());
  // Without the annotation: refused as if it were missing.
  ExpectRefused({"(e) before consent", kSmtpField, kSharedSecretsNamespace, secret, Json(), name});

  StatusOr<Json> consented = client_->MergePatch(
      Resource::Secrets(), kSharedSecretsNamespace, secret,
      {{"metadata", Consenting("another-project," + name)}});
  ASSERT_TRUE(consented.ok()) << consented.status().ToString();
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<std::map<std::string, std::string>> copy = SecretData(
      *client_, ProjectNamespace(name), std::string(project::names::kSmtpCredentialsSecret));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE(copy->count("password") && copy->at("password") == "shared-password");
}

// The admin's flags: the shared namespace turned off, one namespace of theirs allowed instead.
class AllowedSecretNamespacesE2eTest : public SecretRefsE2eTest {
 protected:
  std::vector<std::string> OperatorArgs() const override {
    return {"--shared-secrets-namespace=", "--allowed-secret-namespaces=" + allowed_};
  }
  void TearDown() override {
    SecretRefsE2eTest::TearDown();
    (void)client_->Delete(Resource::Namespaces(), "", allowed_);
  }
  const std::string allowed_ = "e2e-mail-secrets-" + RandomSuffix();
};

TEST_F(AllowedSecretNamespacesE2eTest, OnlyTheNamespacesTheAdminAllowsAreFollowed) {
  ASSERT_TRUE(EnsureNamespace(allowed_));
  ASSERT_TRUE(EnsureNamespace(kSharedSecretsNamespace));
  const std::string name = NewProjectName("allowedns");
  const std::string secret = "e2e-smtp-" + RandomSuffix();
  for (const std::string& ns : {allowed_, std::string(kSharedSecretsNamespace)}) {
    ASSERT_TRUE(CreateSecret(ns, secret, {{"password", "password-in-" + ns}}, Consenting(name)));
  }
  // kubabase-shared is off: even a consenting Secret there is refused, and the message says
  // where Secrets may come from now.
  ASSERT_TRUE(CreateProject(name, SmtpNaming(kSharedSecretsNamespace, secret, "password")).ok());
  ExpectRefused({"the shared namespace turned off", kSmtpField, kSharedSecretsNamespace, secret,
                 Json(), name});
  EXPECT_TRUE(WaitForNotReady(name, "SecretRefNotAllowed", {"or one of " + allowed_ + " whose"}));

  ASSERT_TRUE(PatchSpec(name, SmtpNaming(allowed_, secret, "password")));
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<std::map<std::string, std::string>> copy = SecretData(
      *client_, ProjectNamespace(name), std::string(project::names::kSmtpCredentialsSecret));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_TRUE(copy->count("password") && copy->at("password") == "password-in-" + allowed_);
}

}  // namespace
}  // namespace kubabase::e2e
