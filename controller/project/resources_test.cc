// The operator's caches hold only what can be a Project's child (docs/security.md section 5):
// anyone may label their objects app.kubernetes.io/managed-by=kubabase, so the watches' label
// selector alone would let them fill the operator's memory.
#include <string>

#include <gtest/gtest.h>

#include "controller/project/names.h"
#include "controller/project/resources.h"
#include "controller/project/testing/reconciler_fixture.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::ProjectObject;

Json Labelled(const std::string& ns, const std::string& name, const std::string& project) {
  Json metadata = {{"name", name},
                   {"labels",
                    {{std::string(names::kManagedByLabel), std::string(names::kManagedByValue)},
                     {std::string(names::kProjectLabel), project}}}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata}};
}

TEST(InItsProjectNamespaceTest, OnlyTheProjectsOwnNamespaceAndWhatIsInItQualify) {
  const kube::Filter ours = InItsProjectNamespace("project-");
  EXPECT_TRUE(ours(Labelled("project-shop", "db-bootstrap", "shop")));
  EXPECT_TRUE(ours(Labelled("", "project-shop", "shop"))) << "the Namespace itself";
  EXPECT_FALSE(ours(Labelled("kube-system", "db-bootstrap", "shop")));
  EXPECT_FALSE(ours(Labelled("project-other", "x", "shop"))) << "another project's namespace";
  EXPECT_FALSE(ours(Labelled("project-shop2", "x", "shop")));
  EXPECT_FALSE(ours(Labelled("project-sho", "x", "shop")));
  EXPECT_FALSE(ours(Labelled("xproject-shop", "x", "shop")));
  EXPECT_FALSE(ours(Labelled("", "kube-system", "shop"))) << "a Namespace not named for it";
  EXPECT_FALSE(ours(Labelled("project-", "x", ""))) << "an empty project label";
  Json unlabelled = Labelled("project-shop", "x", "shop");
  unlabelled["metadata"].erase("labels");
  EXPECT_FALSE(ours(unlabelled));
  Json odd = Labelled("project-shop", "x", "shop");
  odd["metadata"]["labels"][std::string(names::kProjectLabel)] = 7;
  EXPECT_FALSE(ours(odd)) << "not a string: ignored, not thrown";
  EXPECT_TRUE(InItsProjectNamespace("sb-")(Labelled("sb-shop", "x", "shop")));
  EXPECT_FALSE(InItsProjectNamespace("sb-")(Labelled("project-shop", "x", "shop")));
}

TEST(WatchSpecsTest, EveryOwnedResourceIsFilteredToProjectNamespaces) {
  Defaults defaults;
  defaults.namespace_prefix = "sb-";
  for (const kube::WatchSpec& spec : WatchSpecs(defaults)) {
    if (spec.resource.kind == "Project") {
      EXPECT_FALSE(spec.filter) << "every Project is the operator's";
      continue;
    }
    ASSERT_TRUE(spec.filter) << spec.resource.GroupResource();
    Json object = Labelled("sb-shop", "x", "shop");
    EXPECT_TRUE(spec.filter(object)) << spec.resource.GroupResource();
    object["metadata"]["namespace"] = "kube-system";
    EXPECT_FALSE(spec.filter(object)) << spec.resource.GroupResource();
  }
}

class CacheReachTest : public testing::ReconcilerFixture {};

TEST_F(CacheReachTest, LabelledObjectsElsewhereAreNotCachedAndConfigMapDataOnlyForRendersOwn) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  // Someone else's: our labels, even naming the Project, outside its namespace; and a large
  // labelled ConfigMap inside it that render does not make.
  Json foreign = Labelled("kube-system", "db-bootstrap", "shop");
  foreign["data"] = {{"blob", std::string(900 * 1024, 'x')}};
  cluster_.Put(Resource::ConfigMaps(), foreign);
  Json stray = Labelled("project-shop", "stray", "shop");
  stray["data"] = {{"blob", std::string(900 * 1024, 'x')}};
  cluster_.Put(Resource::ConfigMaps(), stray);
  Json ns = Labelled("", "project-evil", "shop");
  ns["apiVersion"] = "v1";
  ns["kind"] = "Namespace";
  cluster_.Put(Resource::Namespaces(), ns);

  CacheReader reader = cache_->Reader();
  EXPECT_EQ(reader.get(Resource::ConfigMaps(), "kube-system", "db-bootstrap"), nullptr);
  EXPECT_EQ(reader.get(Resource::Namespaces(), "", "project-evil"), nullptr);
  kube::ObjectPtr cached_stray = reader.get(Resource::ConfigMaps(), "project-shop", "stray");
  ASSERT_NE(cached_stray, nullptr) << "prune must still see it";
  EXPECT_FALSE(cached_stray->contains("data")) << "held as metadata only";
  kube::ObjectPtr bootstrap =
      reader.get(Resource::ConfigMaps(), "project-shop", std::string(names::kBootstrap));
  ASSERT_NE(bootstrap, nullptr);
  EXPECT_FALSE((*bootstrap)["data"].empty()) << "what Matches compares is kept whole";
  EXPECT_NE(reader.get(Resource::Namespaces(), "", "project-shop"), nullptr);

  // The stray one is pruned; then a steady state: nothing written, so Matches still holds for
  // every rendered object as this cache keeps it.
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_TRUE(Stored(Resource::ConfigMaps(), "project-shop", "stray").is_null());
  EXPECT_FALSE(Stored(Resource::ConfigMaps(), "kube-system", "db-bootstrap").is_null())
      << "never touched";
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Writes(), 0);
}

}  // namespace
}  // namespace kubabase::project
