// What a reconcile reads from where and how it writes: the key Secrets come from GETs (the cache
// holds no Secret value, as production's), every write is a forced server-side apply by field
// manager kubabase, and the status goes only through the status subresource.
#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/render/bootstrap_sql.h"
#include "controller/project/resources.h"
#include "controller/project/testing/reconciler_fixture.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::ProjectObject;

class ReconcileIoTest : public testing::ReconcilerFixture {
 protected:
  // The namespace and both key Secrets of Project `name` as a previous operator run left them,
  // with values this test chose (so a regenerated one cannot equal them by chance).
  void PutExistingKeys(const std::string& name) {
    const std::string ns = "project-" + name;
    const Json labels = {
        {std::string(names::kProjectLabel), name},
        {std::string(names::kManagedByLabel), std::string(names::kManagedByValue)}};
    cluster_.Put(Resource::Namespaces(), {{"metadata", {{"name", ns}, {"labels", labels}}}});
    Json passwords = Json::object();
    for (const std::string& role : LoginRoles()) {
      passwords[role] = Base64Encode("kept-password-of-" + role);
    }
    const std::string jwt_secret(64, 'j');
    const auto issued = clock_.WallNow() - std::chrono::hours(24 * 30);
    Json api = {
        {std::string(names::kJwtSecretKey), Base64Encode(jwt_secret)},
        {std::string(names::kAnonKeyKey),
         Base64Encode(SignHs256(ApiKeyClaims("anon", name, issued), jwt_secret))},
        {std::string(names::kServiceRoleKeyKey),
         Base64Encode(SignHs256(ApiKeyClaims("service_role", name, issued), jwt_secret))}};
    for (const auto& [secret, data] : {std::pair{names::kDbCredentialsSecret, passwords},
                                       std::pair{names::kApiKeysSecret, api}}) {
      cluster_.Put(Resource::Secrets(),
                   {{"metadata", {{"name", std::string(secret)}, {"namespace", ns},
                                  {"labels", labels}}},
                    {"type", "Opaque"},
                    {"data", data}});
    }
  }
  // The Secret's data without SUPABASE_URL (not a secret: always the project's current URL).
  Json KeyData(const std::string& ns, std::string_view secret) {
    Json data = Stored(Resource::Secrets(), ns, std::string(secret))["data"];
    if (data.is_object()) data.erase(std::string(names::kSupabaseUrlKey));
    return data;
  }
};

TEST_F(ReconcileIoTest, TheTestCacheHoldsOnlyWhatProductionsCacheHolds) {
  // A guard on the fixture itself: if this fails, the tests below prove less than they claim.
  PutExistingKeys("shop");
  cluster_.Put(Resource::ConfigMaps(),
               {{"metadata", {{"name", "users-own"}, {"namespace", "project-shop"},
                              {"labels", {{std::string(names::kProjectLabel), "shop"}}}}}});
  CacheReader reader = cache_->Reader();
  EXPECT_EQ(reader.get(Resource::ConfigMaps(), "project-shop", "users-own"), nullptr)
      << "not labelled managed-by=kubabase: production never caches it";
  kube::ObjectPtr api_keys = reader.get(Resource::Secrets(), "project-shop", "api-keys");
  ASSERT_NE(api_keys, nullptr);
  for (const auto& [key, value] : (*api_keys)["data"].items()) {
    EXPECT_EQ(value, "") << key << ": the cache keeps no Secret value";
  }
  EXPECT_EQ(reader.list_by_label(Resource::ConfigMaps(), names::kProjectLabel, "shop").size(), 0u);
}

TEST_F(ReconcileIoTest, KeysAlreadyInTheClusterKeepEveryValueBecauseTheyAreReadWithGet) {
  PutExistingKeys("shop");
  const Json passwords = KeyData("project-shop", names::kDbCredentialsSecret);
  const Json api = KeyData("project-shop", names::kApiKeysSecret);
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));

  auto action = Reconcile("shop");
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(KeyData("project-shop", names::kDbCredentialsSecret), passwords);
  EXPECT_EQ(KeyData("project-shop", names::kApiKeysSecret), api);
  int key_gets = 0;
  for (const auto& call : cluster_.calls()) {
    key_gets += call.verb == "get" && call.resource == "secrets" &&
                (call.name == names::kDbCredentialsSecret || call.name == names::kApiKeysSecret);
  }
  EXPECT_EQ(key_gets, 2);
}

TEST_F(ReconcileIoTest, ACacheThatHasNotSeenTheNewKeySecretsNeverMeansNewKeys) {
  // The race the reconciler's header names: the Secrets were just created, the cache lags.
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  cache_->Freeze(Resource::Secrets());  // the Secrets watch never delivers what we create
  ASSERT_TRUE(Reconcile("shop").ok());
  ASSERT_TRUE(cache_->Reader().list_by_label(Resource::Secrets(), names::kProjectLabel, "shop")
                  .empty())
      << "the premise: the cache has not seen the key Secrets";
  const Json passwords = KeyData("project-shop", names::kDbCredentialsSecret);
  const Json api = KeyData("project-shop", names::kApiKeysSecret);
  ASSERT_FALSE(passwords.is_null());
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(KeyData("project-shop", names::kDbCredentialsSecret), passwords);
  EXPECT_EQ(KeyData("project-shop", names::kApiKeysSecret), api);
}

TEST_F(ReconcileIoTest, EveryApplyIsForcedByFieldManagerKubabaseAndStatusGoesToItsSubresource) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  int status_applies = 0;
  int object_applies = 0;
  for (const auto& call : cluster_.calls()) {
    if (call.verb != "apply") continue;
    EXPECT_EQ(call.apply_options.field_manager, "kubabase") << call.resource << " " << call.name;
    EXPECT_TRUE(call.apply_options.force) << call.resource << " " << call.name;
    if (call.resource == ProjectsResource().GroupResource()) {
      EXPECT_EQ(call.apply_options.subresource, "status") << "the operator never applies spec";
      EXPECT_TRUE(call.body.contains("status"));
      EXPECT_FALSE(call.body.contains("spec"));
      ++status_applies;
    } else {
      EXPECT_EQ(call.apply_options.subresource, "") << call.resource << " " << call.name;
      ++object_applies;
    }
  }
  EXPECT_EQ(status_applies, 1);
  EXPECT_GT(object_applies, 10);
}

TEST_F(ReconcileIoTest, AStatusOnlyChangeIsOneStatusApplyAndNothingElse) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  ASSERT_TRUE(Reconcile("shop").ok());
  // The database becomes ready: only the status has news.
  Json db = Stored(Resource::StatefulSets(), "project-shop", "db");
  db["status"] = {{"observedGeneration", db["metadata"].value("generation", 0)},
                  {"replicas", 1}, {"readyReplicas", 1}, {"availableReplicas", 1},
                  {"updatedReplicas", 1}, {"currentReplicas", 1}};
  cluster_.Put(Resource::StatefulSets(), db);
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Writes(), 1);
  ASSERT_EQ(cluster_.Count("apply", ProjectsResource()), 1);
  for (const auto& call : cluster_.calls()) {
    if (call.verb == "apply") {
      EXPECT_EQ(call.apply_options.subresource, "status");
    }
  }
}

}  // namespace
}  // namespace kubabase::project
