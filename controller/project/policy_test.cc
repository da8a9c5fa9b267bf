#include "controller/project/policy.h"

#include <gtest/gtest.h>

#include "controller/kube/resource.h"

namespace kubabase::project {
namespace {

TEST(AnnotationAllowed, IsExactOrAPrefixEndingInAStar) {
  EXPECT_TRUE(AnnotationAllowed("cert-manager.io/*", "cert-manager.io/cluster-issuer"));
  EXPECT_TRUE(AnnotationAllowed("example.com/x", "example.com/x"));
  EXPECT_TRUE(AnnotationAllowed("*", "anything/at-all"));
  EXPECT_FALSE(AnnotationAllowed("example.com/x", "example.com/xy"));
  EXPECT_FALSE(AnnotationAllowed("cert-manager.io/*", "evil.cert-manager.io/x"));
  EXPECT_FALSE(AnnotationAllowed("cert-manager.io/*", "cert-manager.iox/x"));
  EXPECT_FALSE(AnnotationAllowed("", "x"));
}

ProjectSpec WithAnnotations(std::map<std::string, std::string> annotations) {
  ProjectSpec spec;
  spec.ingress.annotations = std::move(annotations);
  return spec;
}

TEST(CheckPolicy, TheDefaultAllowsCertManagerOnly) {
  const Defaults defaults;
  EXPECT_FALSE(CheckPolicy(WithAnnotations({}), defaults));
  EXPECT_FALSE(CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults));
  // The ingress-nginx classes of CVE-2021-25742 and CVE-2025-1974, and plain strangers.
  for (const char* key : {"nginx.ingress.kubernetes.io/configuration-snippet",
                          "nginx.ingress.kubernetes.io/server-alias",
                          "nginx.ingress.kubernetes.io/auth-url",
                          "nginx.ingress.kubernetes.io/rewrite-target", "example.com/x"}) {
    std::optional<Problem> refused = CheckPolicy(WithAnnotations({{key, "v"}}), defaults);
    ASSERT_TRUE(refused) << key;
    EXPECT_EQ(refused->reason, "AnnotationNotAllowed");
    EXPECT_EQ(refused->message,
              std::string("spec.ingress.annotations: \"") + key +
                  "\" is not allowed; this operator allows cert-manager.io/* (its "
                  "--allowed-ingress-annotations). Remove the annotation, or ask the cluster "
                  "admin to allow it");
  }
}

TEST(CheckPolicy, NamesTheKeyButNeverRepeatsTheValue) {
  std::optional<Problem> refused = CheckPolicy(
      WithAnnotations({{"example.com/x", "more_set_headers \"X-Secret: s3cr3t\";"}}), Defaults{});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->message.find("s3cr3t"), std::string::npos) << refused->message;
}

TEST(CheckPolicy, AnAdminAllowlistIsHonouredAndAnEmptyOneAllowsNothing) {
  Defaults defaults;
  defaults.allowed_ingress_annotations = {"example.com/x", "team.example.com/*"};
  EXPECT_FALSE(CheckPolicy(WithAnnotations({{"example.com/x", "1"}, {"team.example.com/y", "2"}}),
                           defaults));
  EXPECT_TRUE(CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults));
  defaults.allowed_ingress_annotations.clear();
  std::optional<Problem> refused =
      CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("this operator allows none"), std::string::npos);
}

// ---- Secret references ----

kube::Json NamespaceObject(const std::string& name, bool ours) {
  kube::Json ns = {{"metadata", {{"name", name}}}};
  if (ours) ns["metadata"]["labels"] = {{"app.kubernetes.io/managed-by", "kubabase"}};
  return ns;
}

TEST(SecretSourceOf, OwnNamespaceSharedOrAllowedWithConsentNothingElse) {
  Defaults defaults;  // shared: kubabase-shared; allowed: none; prefix project-
  EXPECT_EQ(SecretSourceOf("project-shop", "project-shop", defaults, nullptr), SecretSource::kOwn);
  EXPECT_EQ(SecretSourceOf("kubabase-shared", "project-shop", defaults, nullptr),
            SecretSource::kConsenting);
  for (const char* ns : {"kube-system", "default", "kubabase-system", "project-blog", "mail"}) {
    EXPECT_EQ(SecretSourceOf(ns, "project-shop", defaults, nullptr), SecretSource::kRefused) << ns;
  }
  defaults.allowed_secret_namespaces = {"mail"};
  EXPECT_EQ(SecretSourceOf("mail", "project-shop", defaults, nullptr), SecretSource::kConsenting);
  defaults.shared_secrets_namespace.clear();  // "" disables the shared namespace
  EXPECT_EQ(SecretSourceOf("kubabase-shared", "project-shop", defaults, nullptr),
            SecretSource::kRefused);
}

TEST(SecretSourceOf, AnotherProjectsNamespaceIsRefusedEvenWhenTheAdminListedIt) {
  Defaults defaults;
  defaults.allowed_secret_namespaces = {"project-blog", "legacy-blog"};
  // By the prefix (a live or a retained project namespace)...
  EXPECT_EQ(SecretSourceOf("project-blog", "project-shop", defaults, nullptr),
            SecretSource::kRefused);
  // ... and by our label, whatever the name (say the prefix was changed since).
  const kube::Json ours = NamespaceObject("legacy-blog", true);
  EXPECT_EQ(SecretSourceOf("legacy-blog", "project-shop", defaults, &ours),
            SecretSource::kRefused);
  const kube::Json theirs = NamespaceObject("legacy-blog", false);
  EXPECT_EQ(SecretSourceOf("legacy-blog", "project-shop", defaults, &theirs),
            SecretSource::kConsenting);
  defaults.shared_secrets_namespace = "project-shared";
  EXPECT_EQ(SecretSourceOf("project-shared", "project-shop", defaults, nullptr),
            SecretSource::kRefused);
}

kube::Json SecretAnnotated(const kube::Json& annotations) {
  kube::Json secret = {{"metadata", {{"name", "smtp"}, {"namespace", "kubabase-shared"}}}};
  if (!annotations.is_null()) secret["metadata"]["annotations"] = annotations;
  return secret;
}

TEST(SecretAllowsProject, TheAnnotationListsTheProjectOrStar) {
  const std::string key = "kubabase.io/allowed-projects";
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated(nullptr), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{"other", "shop"}}), "shop"));
  EXPECT_TRUE(SecretAllowsProject(SecretAnnotated({{key, "shop"}}), "shop"));
  EXPECT_TRUE(SecretAllowsProject(SecretAnnotated({{key, "blog, shop ,wiki"}}), "shop"));
  EXPECT_TRUE(SecretAllowsProject(SecretAnnotated({{key, "*"}}), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, "blog,wiki"}}), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, "shop-2"}}), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, "sho*"}}), "shop")) << "no patterns";
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, ""}}), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, " , "}}), "shop"));
  EXPECT_FALSE(SecretAllowsProject(SecretAnnotated({{key, 1}}), "shop"));
}

TEST(SecretRefNotAllowed, OneReasonAndAMessageThatSaysWhereSecretsMayComeFrom) {
  Defaults defaults;
  Problem refused = SecretRefNotAllowed("spec.auth.smtp.passwordSecretRef", "kube-system",
                                        "bootstrap-token", "shop", "project-shop", defaults);
  EXPECT_EQ(refused.reason, "SecretRefNotAllowed");
  EXPECT_EQ(refused.message,
            "spec.auth.smtp.passwordSecretRef: Secret kube-system/bootstrap-token does not exist "
            "or does not allow Project shop. A Project may use a Secret of its own namespace "
            "project-shop, or one of kubabase-shared whose annotation "
            "kubabase.io/allowed-projects lists \"shop\" (or \"*\"); see docs/security.md");
  defaults.allowed_secret_namespaces = {"mail", "kubabase-shared", "project-blog"};
  EXPECT_NE(SecretRefNotAllowed("f", "a", "b", "shop", "project-shop", defaults)
                .message.find("one of kubabase-shared, mail whose"),
            std::string::npos)
      << "no duplicate, no project namespace";
  defaults = Defaults{};
  defaults.shared_secrets_namespace.clear();
  EXPECT_NE(SecretRefNotAllowed("f", "a", "b", "shop", "project-shop", defaults)
                .message.find("may use only Secrets of its own namespace project-shop; see"),
            std::string::npos);
}

TEST(HostAllowed, IsTheDomainOrASubdomainOfIt) {
  EXPECT_TRUE(HostAllowed("apps.example.com", "apps.example.com"));
  EXPECT_TRUE(HostAllowed("apps.example.com", "shop.apps.example.com"));
  EXPECT_TRUE(HostAllowed("apps.example.com", "a.b.apps.example.com"));
  EXPECT_FALSE(HostAllowed("apps.example.com", "evilapps.example.com"));
  EXPECT_FALSE(HostAllowed("apps.example.com", "apps.example.com.evil.net"));
  EXPECT_FALSE(HostAllowed("apps.example.com", "example.com"));
}

ProjectSpec WithHost(std::string host) {
  ProjectSpec spec;
  spec.host = std::move(host);
  return spec;
}

TEST(CheckPolicy, AHostOutsideTheBaseDomainIsRefusedByDefault) {
  Defaults defaults;
  defaults.base_domain = "apps.example.com";
  EXPECT_FALSE(CheckPolicy(WithHost(""), defaults));  // <name>.<base domain>
  EXPECT_FALSE(CheckPolicy(WithHost("shop.apps.example.com"), defaults));
  std::optional<Problem> refused = CheckPolicy(WithHost("login.bank.example"), defaults);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "HostNotAllowed");
  EXPECT_EQ(refused->message,
            "spec.host \"login.bank.example\" is not allowed; this operator serves hosts under "
            "apps.example.com (its --allowed-host-suffixes). Choose a host there, or ask the "
            "cluster admin to allow the domain");
}

TEST(CheckPolicy, AdminHostSuffixesReplaceTheBaseDomain) {
  Defaults defaults;
  defaults.base_domain = "apps.example.com";
  defaults.allowed_host_suffixes = {"customers.example.net", "example.org"};
  EXPECT_FALSE(CheckPolicy(WithHost("a.customers.example.net"), defaults));
  EXPECT_FALSE(CheckPolicy(WithHost("example.org"), defaults));
  std::optional<Problem> refused = CheckPolicy(WithHost("shop.apps.example.com"), defaults);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("under customers.example.net, example.org"), std::string::npos)
      << refused->message;
}

TEST(CheckPolicy, RefusesASpecBeyondItsPlan) {
  ProjectSpec spec;
  spec.auth.replicas = 5;
  std::optional<Problem> refused = CheckPolicy(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "PlanExceeded");
  EXPECT_EQ(refused->message,
            "spec.auth.replicas: 5 is more than plan \"small\" allows (maxReplicas 2); lower it, "
            "or choose a larger spec.plan");
  spec.auth.replicas = 1;
  spec.plan = "tiny";
  refused = CheckPolicy(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "UnknownPlan");
  spec.plan = "large";
  EXPECT_FALSE(CheckPolicy(spec, Defaults()));
}

}  // namespace
}  // namespace kubabase::project
