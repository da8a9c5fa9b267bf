// The reasons the README promises for "something needs you": each one produced by a reconcile,
// seen where users look: Ready=False and Stalled=True with the reason and a message that says
// what to change, phase Failed, and one Warning Event with that reason.
#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"
#include "controller/project/testing/reconciler_fixture.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::ProjectObject;

class ReconcileReasonsTest : public testing::ReconcilerFixture {
 protected:
  // Ready=False and Stalled=True with `reason`, both messages containing every one of
  // `message_parts`, phase Failed, exactly one Warning Event with `reason` whose message does too.
  void ExpectStalled(const std::string& name, const std::string& reason,
                     const std::vector<std::string>& message_parts) {
    EXPECT_EQ(ConditionReason(name, "Ready"), reason + "/False");
    EXPECT_EQ(ConditionReason(name, "Stalled"), reason + "/True");
    EXPECT_EQ(StatusOf(name).value("phase", ""), "Failed");
    for (const char* type : {"Ready", "Stalled"}) {
      const std::string message = Condition(name, type).value("message", "");
      for (const std::string& part : message_parts) {
        EXPECT_NE(message.find(part), std::string::npos) << type << ": " << message;
      }
    }
    EXPECT_EQ(EventCount(name, reason, "Warning"), 1);
    for (const Json& e : Events(name)) {
      if (e.value("reason", "") != reason) continue;
      for (const std::string& part : message_parts) {
        EXPECT_NE(e.value("message", "").find(part), std::string::npos) << e.dump();
      }
    }
  }
  // Replaces data[key] of a Secret in the project namespace with `value` (already encoded).
  void CorruptKey(const std::string& secret, const std::string& key, const std::string& value) {
    Json s = Stored(Resource::Secrets(), "project-shop", secret);
    ASSERT_FALSE(s.is_null());
    s["data"][key] = value;
    cluster_.Put(Resource::Secrets(), s);
  }
  void ExpectStalledRequeue(const StatusOr<kube::Action>& action) {
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    EXPECT_EQ(*action, kube::Action::RequeueAfter(options_.stalled_requeue));
  }
};

TEST_F(ReconcileReasonsTest, AKeySecretWhoseDataIsNotBase64IsInvalidSecretAndIsNotOverwritten) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  CorruptKey("api-keys", "JWT_SECRET", "%%% not base64 %%%");
  cluster_.ClearCalls();
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "InvalidSecret", {"api-keys", "JWT_SECRET", "base64"});
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0) << "a key is never replaced";
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "api-keys")["data"]["JWT_SECRET"],
            "%%% not base64 %%%");
}

TEST_F(ReconcileReasonsTest, AnExistingJwtSecretShorterThan40CharactersIsInvalidKeys) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  CorruptKey("api-keys", "JWT_SECRET", Base64Encode(std::string(39, 's')));
  cluster_.ClearCalls();
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "InvalidKeys", {"api-keys", "JWT_SECRET", "40"});
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0) << "a key is never replaced";
  const std::string message = Condition("shop", "Ready").value("message", "");
  EXPECT_EQ(message.find(std::string(39, 's')), std::string::npos) << "never the value";

  // Fixed by the user (a longer secret): the next reconcile clears it.
  CorruptKey("api-keys", "JWT_SECRET", Base64Encode(std::string(40, 's')));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
}

TEST_F(ReconcileReasonsTest, AnApplyTheApiserverRejectsAs422IsApplyRejected) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  const std::string rejection =
      "Namespace \"project-shop\" is invalid: metadata.labels: Invalid value: \"x\"";
  cluster_.FailNext("apply", InvalidArgumentError(rejection).WithHttp(422, "Invalid"));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "ApplyRejected", {rejection});
}

TEST_F(ReconcileReasonsTest, AnApplyTheApiserverRejectsAs400IsApplyRejected) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Remove(Resource::Deployments(), "project-shop", "rest");  // the next apply is rest's
  const std::string rejection = "the body of the request was in an unknown format";
  cluster_.FailNext("apply", InvalidArgumentError(rejection).WithHttp(400, "BadRequest"));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "ApplyRejected", {rejection});
  EXPECT_FALSE(Stored(Resource::Deployments(), "project-shop", "auth").is_null())
      << "nothing was pruned after a failed apply";
}

TEST_F(ReconcileReasonsTest, ANamespaceThatIsNotOursIsNamespaceConflictWithOneWarningEvent) {
  cluster_.Put(Resource::Namespaces(), {{"metadata", {{"name", "project-shop"}}}});
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "NamespaceConflict", {"project-shop"});
}

TEST_F(ReconcileReasonsTest, AMissingNamedSecretIsSecretRefNotAllowedWithOneWarningEvent) {
  Json s3 = {{"storage", {{"backend", "s3"},
                          {"s3", {{"endpoint", "http://minio.storage:9000"},
                                  {"credentialsSecretRef",
                                   {{"namespace", "kubabase-shared"}, {"name", "shop-s3"}}}}}}}};
  cluster_.Put(ProjectsResource(), ProjectObject("shop", s3));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "SecretRefNotAllowed",
                {"kubabase-shared/shop-s3", "credentialsSecretRef", "does not exist or does not "
                 "allow Project shop", "docs/security.md"});
}

TEST_F(ReconcileReasonsTest, ANamedSecretOutsideTheAllowedNamespacesIsSecretRefNotAllowed) {
  Json s3 = {{"storage", {{"backend", "s3"},
                          {"s3", {{"endpoint", "http://minio.storage:9000"},
                                  {"credentialsSecretRef",
                                   {{"namespace", "minio"}, {"name", "shop-s3"}}}}}}}};
  cluster_.Put(ProjectsResource(), ProjectObject("shop", s3));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "SecretRefNotAllowed", {"minio/shop-s3", "credentialsSecretRef"});
}

TEST_F(ReconcileReasonsTest, ANamedSecretWhoseDataIsNotBase64IsInvalidSecret) {
  Json s3 = {{"storage", {{"backend", "s3"},
                          {"s3", {{"endpoint", "http://minio.storage:9000"},
                                  {"credentialsSecretRef",
                                   {{"namespace", "kubabase-shared"}, {"name", "shop-s3"}}}}}}}};
  cluster_.Put(Resource::Secrets(),
               {{"metadata", {{"name", "shop-s3"},
                              {"namespace", "kubabase-shared"},
                              {"annotations", {{"kubabase.io/allowed-projects", "shop"}}}}},
                {"data", {{"AWS_ACCESS_KEY_ID", Base64Encode("id")},
                          {"AWS_SECRET_ACCESS_KEY", "not base64!"}}}});
  cluster_.Put(ProjectsResource(), ProjectObject("shop", s3));
  ExpectStalledRequeue(Reconcile("shop"));
  ExpectStalled("shop", "InvalidSecret",
                {"kubabase-shared/shop-s3", "AWS_SECRET_ACCESS_KEY", "base64"});
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
}

}  // namespace
}  // namespace kubabase::project
