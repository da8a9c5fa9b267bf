// Prune: a reconcile deletes the children render no longer produces, and nothing else. One test
// per guard (the key Secrets, the project namespace, the managed-by label, the Job while paused),
// and what a disabled component leaves behind in the status.
#include <gtest/gtest.h>

#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"
#include "controller/project/testing/reconciler_fixture.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::FakeCache;
using testing::ProjectObject;

Json Labels(const std::string& project, bool managed_by_us) {
  Json labels = {{std::string(names::kProjectLabel), project}};
  if (managed_by_us) {
    labels[std::string(names::kManagedByLabel)] = std::string(names::kManagedByValue);
  }
  return labels;
}

Json ConfigMap(const std::string& ns, const std::string& name, Json labels) {
  Json metadata = {{"name", name}, {"namespace", ns}};
  if (!labels.empty()) metadata["labels"] = std::move(labels);
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", metadata},
          {"data", {{"note", "the user's"}}}};
}

class PruneTest : public testing::ReconcilerFixture {
 protected:
  // Reconciles `name` after changing its spec with `edit`.
  void ReconcileWithSpec(const std::string& name, const std::function<void(Json&)>& edit) {
    Json p = Stored(ProjectsResource(), "", name);
    edit(p["spec"]);
    cluster_.Put(ProjectsResource(), p);
    auto action = Reconcile(name);
    ASSERT_TRUE(action.ok()) << action.status().ToString();
  }
  std::vector<std::string> DeletedNames(const Resource& resource) {
    std::vector<std::string> out;
    for (const auto& call : cluster_.calls()) {
      if (call.verb == "delete" && call.resource == resource.GroupResource()) {
        out.push_back(call.ns + "/" + call.name);
      }
    }
    return out;
  }
};

TEST_F(PruneTest, AnObjectRenderNoLongerProducesIsDeleted) {
  // The baseline the guards below are measured against: a labelled leftover does go.
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Put(Resource::ConfigMaps(), ConfigMap("project-shop", "leftover", Labels("shop", true)));
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(DeletedNames(Resource::ConfigMaps()),
            std::vector<std::string>{"project-shop/leftover"});
  EXPECT_TRUE(Stored(Resource::ConfigMaps(), "project-shop", "leftover").is_null());
  EXPECT_EQ(EventCount("shop", "Pruned", "Normal"), 1);
}

TEST_F(PruneTest, TheKeySecretsAreNeverPrunedEvenWithEveryComponentDisabledAndPaused) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const Json keys = Stored(Resource::Secrets(), "project-shop", "api-keys")["data"];
  const Json passwords = Stored(Resource::Secrets(), "project-shop", "db-credentials")["data"];
  cluster_.ClearCalls();
  ReconcileWithSpec("shop", [](Json& spec) {
    spec["paused"] = true;
    for (const char* c : {"rest", "auth", "storage"}) spec[c] = {{"enabled", false}};
  });
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "rest").is_null()) << "pruned";
  EXPECT_EQ(DeletedNames(Resource::Secrets()), std::vector<std::string>{});
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "api-keys")["data"], keys);
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "db-credentials")["data"], passwords);
}

TEST_F(PruneTest, NothingOutsideTheProjectNamespaceIsPrunedNorItsNamesakeInside) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  // Labelled as ours but elsewhere (copied by hand, or left by an older namespace layout), and a
  // namesake of it in the project namespace that is the user's own (not in the cache).
  cluster_.Put(Resource::ConfigMaps(), ConfigMap("elsewhere", "notes", Labels("shop", true)));
  cluster_.Put(Resource::ConfigMaps(), ConfigMap("project-shop", "notes", Json::object()));
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(DeletedNames(Resource::ConfigMaps()), std::vector<std::string>{});
  EXPECT_FALSE(Stored(Resource::ConfigMaps(), "elsewhere", "notes").is_null());
  EXPECT_FALSE(Stored(Resource::ConfigMaps(), "project-shop", "notes").is_null());
}

TEST_F(PruneTest, AnObjectWithoutTheManagedByLabelIsNeverPrunedEvenByACacheThatHoldsIt) {
  // Production's cache never holds it (watched by managed-by); this cache, narrowed by the
  // project label only, does: the label check in prune is what keeps it.
  std::vector<kube::WatchSpec> wider = testing::ProductionWatchSpecs();
  for (kube::WatchSpec& spec : wider) {
    if (spec.resource.resource == "configmaps") {
      spec.label_selector = std::string(names::kProjectLabel);
    }
  }
  cache_ = std::make_unique<FakeCache>(cluster_, wider);
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Put(Resource::ConfigMaps(), ConfigMap("project-shop", "notes", Labels("shop", false)));
  ASSERT_NE(cache_->Reader().get(Resource::ConfigMaps(), "project-shop", "notes"), nullptr)
      << "the premise: this cache holds the user's ConfigMap";
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(DeletedNames(Resource::ConfigMaps()), std::vector<std::string>{});
  EXPECT_FALSE(Stored(Resource::ConfigMaps(), "project-shop", "notes").is_null());
}

TEST_F(PruneTest, PausingKeepsTheLastBootstrapJobInsteadOfPruningIt) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const std::vector<kube::ObjectPtr> jobs = cluster_.ObserveAll(Resource::Jobs());
  ASSERT_EQ(jobs.size(), 1u) << "the bootstrap Job";
  const std::string job = (*jobs[0])["metadata"]["name"].get<std::string>();
  cluster_.ClearCalls();
  ReconcileWithSpec("shop", [](Json& spec) { spec["paused"] = true; });
  EXPECT_EQ(Stored(Resource::Deployments(), "project-shop", "rest")["spec"]["replicas"], 0)
      << "the pause took effect";
  EXPECT_EQ(DeletedNames(Resource::Jobs()), std::vector<std::string>{});
  EXPECT_FALSE(Stored(Resource::Jobs(), "project-shop", job).is_null());
}

TEST_F(PruneTest, ADisabledComponentLeavesStatusComponentsAndEndpoints) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  ASSERT_TRUE(StatusOf("shop")["components"].contains("storage"));
  ASSERT_TRUE(StatusOf("shop")["endpoints"].contains("storage"));
  cluster_.ClearCalls();
  ReconcileWithSpec("shop", [](Json& spec) { spec["storage"] = {{"enabled", false}}; });
  const Json status = StatusOf("shop");
  EXPECT_FALSE(status["components"].contains("storage")) << status["components"].dump();
  EXPECT_FALSE(status["endpoints"].contains("storage")) << status["endpoints"].dump();
  EXPECT_TRUE(status["components"].contains("rest"));
  EXPECT_TRUE(status["endpoints"].contains("rest"));
  // What was sent, not only what the fake made of it: a status without storage, by apply (which
  // removes the fields we stop sending; a merge patch would keep them).
  int status_applies = 0;
  for (const auto& call : cluster_.calls()) {
    if (call.verb == "patch") {
      EXPECT_NE(call.resource, ProjectsResource().GroupResource()) << "status is never patched";
    }
    if (call.verb != "apply" || call.apply_options.subresource != "status") continue;
    ++status_applies;
    EXPECT_FALSE(call.body["status"].value("components", Json::object()).contains("storage"));
    EXPECT_FALSE(call.body["status"].value("endpoints", Json::object()).contains("storage"));
  }
  EXPECT_EQ(status_applies, 1);
}

}  // namespace
}  // namespace kubabase::project
