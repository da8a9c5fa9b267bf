// The key Secrets (db-credentials, api-keys) are written once: created by POST, so of two writers
// racing on a new Project (an old leader's last reconcile and the new leader's first) one wins
// and the other uses the winner's keys; later applies carry the resourceVersion they read, so a
// reconcile never overwrites keys it has not seen. And keys that are not this project's are
// re-signed, while a key whose role is not a string is shown on the status (issue 10, items 8
// and 10).
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

class ReconcileKeysTest : public testing::ReconcilerFixture {
 protected:
  Json Secret(const std::string& name) { return Stored(Resource::Secrets(), "project-shop", name); }
  std::map<std::string, std::string> Values(const std::string& name) {
    return *SecretValues(Secret(name));
  }
  int SecretWrites(const std::string& verb, const std::string& name) {
    int n = 0;
    for (const auto& call : cluster_.calls()) {
      n += call.verb == verb && call.resource == "secrets" && call.name == name ? 1 : 0;
    }
    return n;
  }
  void SetKey(const std::string& secret, const std::string& key, const std::string& value) {
    Json s = Secret(secret);
    s["data"][key] = Base64Encode(value);
    cluster_.Put(Resource::Secrets(), s);
  }
};

TEST_F(ReconcileKeysTest, ANewProjectsKeySecretsAreCreatedByPostAndNeverAppliedAgain) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  for (const char* name : {"db-credentials", "api-keys"}) {
    EXPECT_EQ(SecretWrites("create", name), 1) << name;
    EXPECT_EQ(SecretWrites("apply", name), 0) << name;
  }
  const Json api_keys = Secret("api-keys");
  EXPECT_EQ(Values("api-keys").count("JWT_SECRET"), 1u);

  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Count("create", Resource::Secrets()), 0);
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0);
  EXPECT_EQ(Secret("api-keys")["metadata"]["resourceVersion"],
            api_keys["metadata"]["resourceVersion"]);
}

TEST_F(ReconcileKeysTest, WhenAnotherWriterCreatedTheKeysFirstTheirKeysWinAndOursAreNeverWritten) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  // The other writer's Secrets: those of a first reconcile. Then the cluster forgets them, and
  // they reappear just before our POST: we read "absent" and generated keys of our own.
  const Json their_db = Secret("db-credentials");
  const Json their_api = Secret("api-keys");
  cluster_.Remove(Resource::Secrets(), "project-shop", "db-credentials");
  cluster_.Remove(Resource::Secrets(), "project-shop", "api-keys");
  cluster_.BeforeNext("create", Resource::Secrets(), "db-credentials", [&] {
    cluster_.Put(Resource::Secrets(), their_db);
    cluster_.Put(Resource::Secrets(), their_api);
  });
  cluster_.ClearCalls();

  ASSERT_TRUE(Reconcile("shop").ok());

  // Our POST was refused (409), no other write touched the keys, and theirs are kept whole.
  EXPECT_EQ(SecretWrites("create", "db-credentials"), 1);
  EXPECT_EQ(SecretWrites("create", "api-keys"), 0);
  EXPECT_EQ(SecretWrites("apply", "db-credentials") + SecretWrites("apply", "api-keys"), 0);
  EXPECT_EQ(Values("db-credentials"), *SecretValues(their_db));
  EXPECT_EQ(Values("api-keys"), *SecretValues(their_api));
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
}

TEST_F(ReconcileKeysTest, TheFakeAnswersACreateOfAnExistingObjectWith409LikeTheApiserver) {
  cluster_.Put(Resource::Secrets(), {{"metadata", {{"name", "x"}, {"namespace", "n"}}}});
  const Json secret = {{"metadata", {{"name", "x"}, {"namespace", "n"}}}};
  StatusOr<Json> again = cluster_.Create(Resource::Secrets(), "n", secret);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().http_status(), 409);
}

TEST_F(ReconcileKeysTest, AKeyUpdateCarriesTheResourceVersionItReadSoItNeverOverwritesUnseenKeys) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  // ANON_KEY deleted: the next reconcile signs it again and applies api-keys. Between its read
  // and its apply someone sets a new JWT_SECRET: the apply must not put the old one back.
  Json edited = Secret("api-keys");
  edited["data"].erase("ANON_KEY");
  cluster_.Put(Resource::Secrets(), edited);
  const std::string rotated(48, 'n');
  cluster_.BeforeNext("apply", Resource::Secrets(), "api-keys",
                      [&] { SetKey("api-keys", "JWT_SECRET", rotated); });
  cluster_.ClearCalls();

  StatusOr<kube::Action> first = Reconcile("shop");
  EXPECT_EQ(first.status().code(), StatusCode::kAborted) << first.status().ToString();
  EXPECT_EQ(SecretWrites("apply", "api-keys"), 1);
  EXPECT_EQ(Values("api-keys").at("JWT_SECRET"), rotated) << "the newer JWT_SECRET is kept";

  // The next reconcile reads the new secret and signs the missing key with it.
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(Values("api-keys").at("JWT_SECRET"), rotated);
  EXPECT_TRUE(VerifyHs256(Values("api-keys").at("ANON_KEY"), rotated).ok());
}

TEST_F(ReconcileKeysTest, AKeyForAnotherProjectIsSignedAgainForThisOne) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const std::string secret = Values("api-keys").at("JWT_SECRET");
  const auto now = clock_.WallNow();
  SetKey("api-keys", "SERVICE_ROLE_KEY",
         SignHs256(ApiKeyClaims("service_role", "other-project", now), secret));
  ASSERT_TRUE(Reconcile("shop").ok());
  StatusOr<Json> claims = VerifyHs256(Values("api-keys").at("SERVICE_ROLE_KEY"), secret);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ((*claims)["ref"], "shop");
  EXPECT_EQ((*claims)["iss"], "supabase");
  EXPECT_EQ((*claims)["role"], "service_role");
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
}

TEST_F(ReconcileKeysTest, AKeyWhoseRoleIsNotAStringIsInvalidKeysOnTheStatusAndIsKept) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const std::string secret = Values("api-keys").at("JWT_SECRET");
  Json claims = ApiKeyClaims("anon", "shop", clock_.WallNow());
  claims["role"] = 42;
  const std::string hand_edited = SignHs256(claims, secret);
  SetKey("api-keys", "ANON_KEY", hand_edited);
  cluster_.ClearCalls();

  StatusOr<kube::Action> action = Reconcile("shop");  // before the fix: a type_error, forever
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(*action, kube::Action::RequeueAfter(options_.stalled_requeue));
  const std::string expected =
      "Secret api-keys key ANON_KEY: the JWT's role claim is not a string; set it to \"anon\" or "
      "delete the key to have it signed again";
  EXPECT_EQ(ConditionReason("shop", "Ready"), "InvalidKeys/False");
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "InvalidKeys/True");
  EXPECT_EQ(Condition("shop", "Stalled").value("message", ""), expected);
  EXPECT_EQ(EventCount("shop", "InvalidKeys", "Warning"), 1);
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0) << "the key is not overwritten";
  EXPECT_EQ(Values("api-keys").at("ANON_KEY"), hand_edited);

  // Deleting the key, as the message says, has it signed again.
  Json s = Secret("api-keys");
  s["data"].erase("ANON_KEY");
  cluster_.Put(Resource::Secrets(), s);
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
  EXPECT_EQ((*VerifyHs256(Values("api-keys").at("ANON_KEY"), secret))["role"], "anon");
}

}  // namespace
}  // namespace kubabase::project
