#include "controller/kube/cache.h"

#include "controller/kube/json_fields.h"

#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

Json Object(const std::string& ns, const std::string& name, const std::string& rv,
            Json labels = Json::object()) {
  Json metadata = {{"name", name}, {"resourceVersion", rv}, {"labels", labels}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata}};
}

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> names;
  for (const ObjectPtr& object : objects) names.push_back(KeyOf(*object));
  return names;
}

TEST(KeyOfTest, NamespacedObjectsAreKeyedNamespaceSlashNameAndClusterScopedByName) {
  EXPECT_EQ(KeyOf(Object("shop", "web", "1")), "shop/web");
  EXPECT_EQ(KeyOf(Object("", "acme", "1")), "acme");
  EXPECT_EQ(KeyOf(Json::object()), "");
  EXPECT_EQ(ResourceVersionOf(Object("", "a", "42")), "42");
  EXPECT_EQ(ResourceVersionOf(Json::array()), "");
}

TEST(StoreTest, UpsertThenGetReturnsTheStoredObjectAndTheOldOne) {
  Store store;
  auto [old1, new1] = store.Upsert(Object("shop", "web", "1"));
  EXPECT_EQ(old1, nullptr);
  auto [old2, new2] = store.Upsert(Object("shop", "web", "2"));
  EXPECT_EQ(old2, new1);
  ObjectPtr got = store.Get("shop", "web");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(ResourceVersionOf(*got), "2");
  EXPECT_EQ(store.Get("shop", "other"), nullptr);
  EXPECT_EQ(store.Get("", "web"), nullptr);
  EXPECT_EQ(store.Size(), 1u);
}

TEST(StoreTest, ASnapshotHeldByAReaderSurvivesLaterUpdatesAndDeletes) {
  Store store;
  store.Upsert(Object("shop", "web", "1"));
  ObjectPtr snapshot = store.Get("shop", "web");
  store.Upsert(Object("shop", "web", "2"));
  store.Delete("shop/web");
  EXPECT_EQ(ResourceVersionOf(*snapshot), "1");
  EXPECT_EQ(store.Get("shop", "web"), nullptr);
}

TEST(StoreTest, DeleteReturnsTheRemovedObjectOrNull) {
  Store store;
  store.Upsert(Object("", "acme", "7"));
  ObjectPtr gone = store.Delete("acme");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(ResourceVersionOf(*gone), "7");
  EXPECT_EQ(store.Delete("acme"), nullptr);
}

TEST(StoreTest, ListIsOrderedByKeyAndCanBeNarrowedToANamespace) {
  Store store;
  store.Upsert(Object("b", "x", "1"));
  store.Upsert(Object("a", "y", "1"));
  store.Upsert(Object("a", "x", "1"));
  store.Upsert(Object("ab", "z", "1"));  // a namespace that shares a prefix with "a"
  EXPECT_THAT(Names(store.List()), ElementsAre("a/x", "a/y", "ab/z", "b/x"));
  EXPECT_THAT(Names(store.List("a")), ElementsAre("a/x", "a/y"));
  EXPECT_THAT(Names(store.List("none")), IsEmpty());
}

TEST(StoreTest, LabelIndexFollowsUpsertsRelabelsAndDeletes) {
  Store store;
  store.Upsert(Object("p1", "db", "1", {{"kubabase.io/project", "acme"}}));
  store.Upsert(Object("p1", "rest", "1", {{"kubabase.io/project", "acme"}}));
  store.Upsert(Object("p2", "db", "1", {{"kubabase.io/project", "shop"}}));
  EXPECT_THAT(Names(store.ListByLabel("kubabase.io/project", "acme")),
              ElementsAre("p1/db", "p1/rest"));
  // Relabel: leaves the old value's bucket.
  store.Upsert(Object("p1", "rest", "2", {{"kubabase.io/project", "shop"}}));
  EXPECT_THAT(Names(store.ListByLabel("kubabase.io/project", "acme")), ElementsAre("p1/db"));
  EXPECT_THAT(Names(store.ListByLabel("kubabase.io/project", "shop")),
              ElementsAre("p1/rest", "p2/db"));
  store.Delete("p1/db");
  EXPECT_THAT(Names(store.ListByLabel("kubabase.io/project", "acme")), IsEmpty());
  EXPECT_THAT(Names(store.ListByLabel("no-such-label", "x")), IsEmpty());
}

TEST(StoreTest, HasSyncedOnlyAfterTheFirstReplace) {
  Store store;
  store.Upsert(Object("", "a", "1"));
  EXPECT_FALSE(store.HasSynced());
  (void)store.Replace({});
  EXPECT_TRUE(store.HasSynced());
}

TEST(StoreTest, ReplaceReportsAddedUpdatedAndDeletedButNotUnchangedObjects) {
  Store store;
  (void)store.Replace({Object("n", "same", "1"), Object("n", "changed", "1"),
                       Object("n", "gone", "1", {{"app", "x"}})});
  ObjectPtr same_before = store.Get("n", "same");
  Store::ReplaceResult result =
      store.Replace({Object("n", "same", "1"), Object("n", "changed", "2"), Object("n", "new", "3")});
  EXPECT_THAT(Names(result.added), ElementsAre("n/new"));
  ASSERT_EQ(result.updated.size(), 1u);
  EXPECT_EQ(ResourceVersionOf(*result.updated[0].first), "1");
  EXPECT_EQ(ResourceVersionOf(*result.updated[0].second), "2");
  EXPECT_THAT(Names(result.deleted), ElementsAre("n/gone"));
  EXPECT_EQ(result.unchanged, 1);
  EXPECT_EQ(store.Get("n", "same"), same_before) << "an unchanged object keeps its pointer";
  EXPECT_THAT(store.Keys(), ElementsAre("n/changed", "n/new", "n/same"));
  EXPECT_THAT(Names(store.ListByLabel("app", "x")), IsEmpty()) << "index rebuilt on replace";
}

TEST(TransformTest, DefaultTransformDropsManagedFieldsAndLastAppliedButKeepsOtherAnnotations) {
  Json object = Object("n", "a", "1");
  object["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"}}});
  object["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", "{\"big\":true}"},
      {"keep/me", "yes"}};
  DefaultTransform()(object);
  EXPECT_FALSE(object["metadata"].contains("managedFields"));
  EXPECT_EQ(object["metadata"]["annotations"], Json({{"keep/me", "yes"}}));

  Json only_last_applied = Object("n", "b", "1");
  only_last_applied["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  DefaultTransform()(only_last_applied);
  EXPECT_FALSE(only_last_applied["metadata"].contains("annotations"));

  Json not_an_object = "x";
  DefaultTransform()(not_an_object);  // tolerated, unchanged
  EXPECT_EQ(not_an_object, "x");
}

TEST(TransformTest, KeepSecretValuesBlanksEveryValueButTheKeptKeys) {
  Json secret = {{"kind", "Secret"},
                 {"metadata", {{"name", "s"}}},
                 {"data", {{"JWT_SECRET", "c2VjcmV0"}, {"ANON_KEY", "a2V5"}}},
                 {"stringData", {{"password", "hunter2"}}}};
  KeepSecretValues({"JWT_SECRET"})(secret);
  EXPECT_EQ(secret["data"], Json({{"JWT_SECRET", "c2VjcmV0"}, {"ANON_KEY", ""}}));
  EXPECT_EQ(secret["stringData"], Json({{"password", ""}}));
}

TEST(TransformTest, StoreAppliesItsTransformBeforeStoringOnUpsertAndReplace) {
  Store store(ChainTransforms(DefaultTransform(), KeepSecretValues({})));
  Json secret = Object("n", "s", "1");
  secret["data"] = {{"k", "dmFsdWU="}};
  secret["metadata"]["managedFields"] = Json::array();
  store.Upsert(secret);
  EXPECT_EQ((*store.Get("n", "s"))["data"]["k"], "");
  EXPECT_FALSE((*store.Get("n", "s"))["metadata"].contains("managedFields"));
  (void)store.Replace({secret});
  EXPECT_EQ((*store.Get("n", "s"))["data"]["k"], "");
}

TEST(TransformTest, KeepDataOnlyOfKeepsTheNamedConfigMapsDataAndDropsEveryOthers) {
  Json kept = Object("n", "db-bootstrap", "1");
  kept["data"] = {{"bootstrap.sql", "select 1;"}};
  Json other = Object("n", "someone-elses", "1");
  other["data"] = {{"big", std::string(4096, 'x')}};
  other["binaryData"] = {{"blob", "eHl6"}};
  const Transform transform = KeepDataOnlyOf({"db-bootstrap"});
  transform(kept);
  transform(other);
  EXPECT_EQ(kept["data"], Json({{"bootstrap.sql", "select 1;"}}));
  EXPECT_FALSE(other.contains("data"));
  EXPECT_FALSE(other.contains("binaryData"));
  EXPECT_EQ(other["metadata"]["name"], "someone-elses") << "metadata stays";
}

TEST(TransformTest, KeepIdentityOnlyLeavesAFewHundredBytesWhateverTheObject) {
  Json secret = Object("n", "s", "7", {{"kubabase.io/reload", "true"}});
  secret["metadata"]["uid"] = "u-1";
  secret["metadata"]["annotations"] = {{"a", std::string(100000, 'a')}};
  secret["data"] = {{std::string(200, 'k'), std::string(100000, 'v')}};
  KeepIdentityOnly()(secret);
  EXPECT_EQ(secret, Json({{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata",
                           {{"name", "s"}, {"namespace", "n"}, {"resourceVersion", "7"},
                            {"uid", "u-1"}}}}));
  EXPECT_LT(secret.dump().size(), 200u);
}

TEST(StoreTest, AFilterKeepsRefusedObjectsOutOfUpsertAndReplaceAndForgetsOnesThatStopQualifying) {
  // Admits objects labelled mine=yes only.
  Store store(DefaultTransform(), [](const Json& object) {
    return StringAt(object, {"metadata", "labels", "mine"}) == "yes";
  });
  EXPECT_TRUE(store.Admits(Object("n", "a", "1", {{"mine", "yes"}})));
  EXPECT_FALSE(store.Admits(Object("n", "a", "1")));

  auto [old_object, stored] = store.Upsert(Object("n", "theirs", "1", {{"mine", "no"}}));
  EXPECT_EQ(old_object, nullptr);
  EXPECT_EQ(stored, nullptr) << "refused: nothing stored";
  EXPECT_EQ(store.Size(), 0u);
  EXPECT_THAT(store.ListByLabel("mine", "no"), IsEmpty()) << "nor indexed";

  ASSERT_NE(store.Upsert(Object("n", "a", "1", {{"mine", "yes"}})).second, nullptr);
  // Relabelled so that it no longer qualifies: removed, the old object returned.
  auto [was, now] = store.Upsert(Object("n", "a", "2", {{"mine", "no"}}));
  ASSERT_NE(was, nullptr);
  EXPECT_EQ(ResourceVersionOf(*was), "1");
  EXPECT_EQ(now, nullptr);
  EXPECT_EQ(store.Get("n", "a"), nullptr);
  EXPECT_THAT(store.ListByLabel("mine", "yes"), IsEmpty());

  Store::ReplaceResult replaced = store.Replace({Object("n", "b", "3", {{"mine", "yes"}}),
                                                 Object("n", "c", "3", {{"mine", "no"}}),
                                                 Object("n", "d", "3")});
  EXPECT_THAT(store.Keys(), ::testing::ElementsAre("n/b"));
  EXPECT_EQ(replaced.added.size(), 1u);
  EXPECT_TRUE(store.HasSynced());
}

TEST(StoreTest, ConcurrentReadersAndAWriterSeeConsistentObjects) {
  Store store;
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      // Appended rather than `"n/o" + std::to_string(...)`: GCC 12 at -O3 reports a false
      // -Wrestrict in operator+(const char*, std::string&&) (GCC bug 105651).
      std::string name = "o";
      name += std::to_string(i % 50);
      store.Upsert(Object("n", name, std::to_string(i), {{"g", std::to_string(i % 3)}}));
      if (i % 7 == 0) store.Delete("n/" + name);
      if (i % 500 == 0) (void)store.Replace({Object("n", "o1", std::to_string(i))});
    }
  });
  size_t seen = 0;
  for (int i = 0; i < 2000; ++i) {
    for (const ObjectPtr& object : store.ListByLabel("g", "1")) {
      EXPECT_EQ((*object)["metadata"]["labels"]["g"], "1");
      ++seen;
    }
    seen += store.List("n").size();
  }
  writer.join();
  EXPECT_LE(store.Size(), 50u);
  (void)seen;
}

}  // namespace
}  // namespace kubabase::kube
