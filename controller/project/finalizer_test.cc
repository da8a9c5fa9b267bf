// Finalizer against FakeCluster: the control flow of Delete and Retain, and the guards that keep
// it to what is this Project's (its namespace, its owner references, its finalizer). What the
// apiserver's garbage collector then does is proven in tests/e2e.
#include "controller/project/finalizer.h"

#include <gtest/gtest.h>

#include "controller/project/names.h"
#include "controller/project/resources.h"
#include "controller/project/testing/fake_cluster.h"

namespace kubabase::project {
namespace {

using kube::Json;
using kube::Resource;
using testing::FakeCluster;

constexpr std::chrono::milliseconds kPoll{1500};

Json ProjectOwner(const std::string& name = "shop") {
  return {{"apiVersion", "kubabase.io/v1alpha1"}, {"kind", "Project"}, {"name", name},
          {"uid", "uid-" + name}, {"controller", true}, {"blockOwnerDeletion", true}};
}
Json OtherOwner() {
  return {{"apiVersion", "apps/v1"}, {"kind", "StatefulSet"}, {"name", "db"}, {"uid", "uid-db"}};
}
Json OurLabels(const std::string& project = "shop") {
  return {{std::string(names::kProjectLabel), project},
          {std::string(names::kManagedByLabel), std::string(names::kManagedByValue)}};
}
Json Child(const std::string& name, Json owners, Json labels = OurLabels()) {
  return {{"metadata", {{"name", name}, {"namespace", "project-shop"}, {"labels", labels},
                        {"ownerReferences", owners}}}};
}

struct Step {
  std::string reason;
  std::string message;
};

class FinalizerTest : public ::testing::Test {
 protected:
  // Stores Project shop, deleting, with `finalizers` and `policy`.
  void PutDeletingProject(const std::string& policy,
                          Json finalizers = Json::array({std::string(names::kFinalizer)})) {
    cluster_.Put(ProjectsResource(),
                 {{"apiVersion", "kubabase.io/v1alpha1"},
                  {"kind", "Project"},
                  {"metadata", {{"name", "shop"}, {"uid", "uid-shop"}, {"generation", 1},
                                {"finalizers", finalizers},
                                {"deletionTimestamp", "2026-06-01T00:00:00Z"}}},
                  {"spec", {{"deletionPolicy", policy}}}});
  }
  void PutNamespace(Json labels = OurLabels(), Json owners = Json::array({ProjectOwner()})) {
    cluster_.Put(Resource::Namespaces(),
                 {{"metadata", {{"name", "project-shop"}, {"labels", labels},
                                {"ownerReferences", owners}}}});
  }
  // The Project as the reconciler would parse it now (fresh resourceVersion).
  Project Current() {
    StatusOr<Project> p = ParseProject(Stored(ProjectsResource(), "", "shop"));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : Project{};
  }
  StatusOr<kube::Action> Finalize(const Project& project) {
    return finalizer_.Finalize(project, [this](std::string_view reason, std::string_view message) {
      steps_.push_back({std::string(reason), std::string(message)});
    });
  }
  Json Stored(const Resource& r, const std::string& ns, const std::string& name) {
    kube::ObjectPtr o = cluster_.Observe(r, ns, name);
    return o ? *o : Json();
  }
  Json FinalizersOfShop() {
    return Stored(ProjectsResource(), "", "shop")["metadata"].value("finalizers", Json::array());
  }
  // Writes other than the Project's own finalizer patch.
  int WritesToChildren() {
    int n = 0;
    for (const auto& call : cluster_.calls()) {
      const bool write = call.verb != "get" && call.verb != "list";
      n += write && call.resource != ProjectsResource().GroupResource();
    }
    return n;
  }

  FakeCluster cluster_;
  Finalizer finalizer_{cluster_, Defaults{}, kPoll};
  std::vector<Step> steps_;
};

TEST_F(FinalizerTest, DeletePolicyDeletesTheNamespaceAndWaitsUntilItIsGone) {
  cluster_.set_namespaces_terminate_slowly(true);
  PutDeletingProject("Delete");
  PutNamespace();
  auto first = Finalize(Current());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, kube::Action::RequeueAfter(kPoll));
  EXPECT_EQ(cluster_.Count("delete", Resource::Namespaces()), 1);
  ASSERT_EQ(steps_.size(), 1u);
  EXPECT_EQ(steps_[0].reason, "DeletingNamespace");
  EXPECT_EQ(FinalizersOfShop(), Json::array({std::string(names::kFinalizer)}))
      << "kept while the namespace terminates";

  // Still terminating: wait, without deleting again.
  auto waiting = Finalize(Current());
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(*waiting, kube::Action::RequeueAfter(kPoll));
  EXPECT_EQ(cluster_.Count("delete", Resource::Namespaces()), 1);
  EXPECT_EQ(FinalizersOfShop().size(), 1u);

  cluster_.Remove(Resource::Namespaces(), "", "project-shop");  // the namespace controller is done
  auto done = Finalize(Current());
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(*done, kube::Action::Done());
  EXPECT_EQ(FinalizersOfShop(), Json::array());
  EXPECT_EQ(steps_.back().reason, "Deleted");
}

TEST_F(FinalizerTest, RetainDeletesWorkloadsAndStripsOnlyThisProjectsOwnerReferences) {
  PutDeletingProject("Retain");
  PutNamespace(OurLabels(), Json::array({ProjectOwner(), ProjectOwner("other")}));
  for (const char* d : {"rest", "auth"}) {
    cluster_.Put(Resource::Deployments(), Child(d, Json::array({ProjectOwner()})));
  }
  cluster_.Put(Resource::Secrets(), Child("api-keys", Json::array({ProjectOwner()})));
  auto action = Finalize(Current());
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(*action, kube::Action::Done());
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "auth").is_null());
  const Json ns = Stored(Resource::Namespaces(), "", "project-shop");
  ASSERT_FALSE(ns.is_null()) << "Retain keeps the namespace";
  EXPECT_EQ(ns["metadata"]["labels"][std::string(names::kRetainedLabel)], "true");
  EXPECT_EQ(ns["metadata"]["labels"][std::string(names::kProjectLabel)], "shop")
      << "so a Project of the same name finds it";
  EXPECT_EQ(ns["metadata"]["ownerReferences"], Json::array({ProjectOwner("other")}))
      << "only this Project's reference goes";
  const Json keys = Stored(Resource::Secrets(), "project-shop", "api-keys");
  ASSERT_FALSE(keys.is_null());
  EXPECT_EQ(keys["metadata"]["ownerReferences"], Json::array());
  EXPECT_EQ(FinalizersOfShop(), Json::array());
  ASSERT_FALSE(steps_.empty());
  EXPECT_EQ(steps_.back().reason, "Retained");
}

TEST_F(FinalizerTest, APvcWithASecondOwnerKeepsThatOwner) {
  PutDeletingProject("Retain");
  PutNamespace();
  cluster_.Put(Resource::PersistentVolumeClaims(),
               Child("data-db-0", Json::array({ProjectOwner(), OtherOwner()})));
  ASSERT_TRUE(Finalize(Current()).ok());
  const Json pvc = Stored(Resource::PersistentVolumeClaims(), "project-shop", "data-db-0");
  ASSERT_FALSE(pvc.is_null()) << "data is never deleted";
  EXPECT_EQ(pvc["metadata"]["ownerReferences"], Json::array({OtherOwner()}));
}

TEST_F(FinalizerTest, AStaleResourceVersionFailsAbortedKeepsTheFinalizerAndTheRetrySucceeds) {
  PutDeletingProject("Retain");
  const Project stale = Current();
  // Someone edits the Project meanwhile (here: another controller adds its finalizer).
  Json edited = Stored(ProjectsResource(), "", "shop");
  edited["metadata"]["finalizers"].push_back("example.com/backup");
  cluster_.Put(ProjectsResource(), edited);  // a new resourceVersion

  auto failed = Finalize(stale);
  EXPECT_EQ(failed.status().code(), StatusCode::kAborted) << failed.status().ToString();
  EXPECT_EQ(FinalizersOfShop(),
            Json::array({std::string(names::kFinalizer), "example.com/backup"}))
      << "a stale write must not drop the finalizer added meanwhile";

  auto retried = Finalize(Current());  // the queue retries on fresh data
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(FinalizersOfShop(), Json::array({"example.com/backup"}));
}

TEST_F(FinalizerTest, ForeignFinalizersAreKeptWhenOursIsRemoved) {
  for (const char* policy : {"Delete", "Retain"}) {
    SCOPED_TRACE(policy);
    PutDeletingProject(policy, Json::array({"example.com/first", std::string(names::kFinalizer),
                                            "example.com/last"}));
    auto action = Finalize(Current());  // no namespace: nothing to wait for
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    EXPECT_EQ(*action, kube::Action::Done());
    EXPECT_EQ(FinalizersOfShop(), Json::array({"example.com/first", "example.com/last"}));
  }
}

TEST_F(FinalizerTest, ANamespaceLabelledForAnotherProjectIsNeverTouched) {
  for (const char* policy : {"Delete", "Retain"}) {
    SCOPED_TRACE(policy);
    PutDeletingProject(policy);
    PutNamespace(OurLabels("other"), Json::array({ProjectOwner()}));
    cluster_.Put(Resource::Deployments(), Child("rest", Json::array({ProjectOwner()})));
    cluster_.Put(Resource::Secrets(), Child("api-keys", Json::array({ProjectOwner()})));
    cluster_.ClearCalls();
    auto action = Finalize(Current());
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    EXPECT_EQ(*action, kube::Action::Done());
    EXPECT_EQ(WritesToChildren(), 0);
    EXPECT_FALSE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
    EXPECT_FALSE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
    EXPECT_EQ(FinalizersOfShop(), Json::array()) << "our finalizer goes: nothing of ours is left";
  }
}

TEST_F(FinalizerTest, AnUnlabelledNamespaceOfTheSameNameIsNeverTouched) {
  PutDeletingProject("Delete");
  PutNamespace(Json::object(), Json::array());
  cluster_.ClearCalls();
  auto action = Finalize(Current());
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(WritesToChildren(), 0);
  EXPECT_FALSE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
}

TEST_F(FinalizerTest, ANamespaceRetainedFromAnEarlierProjectOfTheSameNameIsNeverTouched) {
  // Labelled for "shop", but holding the uid of the Project that was deleted before this one.
  for (const char* policy : {"Delete", "Retain"}) {
    SCOPED_TRACE(policy);
    PutDeletingProject(policy);
    Json labels = OurLabels();
    labels[std::string(names::kRetainedLabel)] = "true";
    cluster_.Put(Resource::Namespaces(),
                 {{"metadata", {{"name", "project-shop"}, {"labels", labels},
                                {"annotations", {{std::string(names::kProjectUidAnnotation),
                                                  "uid-earlier"}}}}}});
    cluster_.Put(Resource::Secrets(), Child("api-keys", Json::array()));
    cluster_.ClearCalls();
    auto action = Finalize(Current());
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    EXPECT_EQ(*action, kube::Action::Done());
    EXPECT_EQ(WritesToChildren(), 0);
    EXPECT_FALSE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
    EXPECT_FALSE(Stored(Resource::Secrets(), "project-shop", "api-keys").is_null());
  }
}

TEST_F(FinalizerTest, AFailedReadOfTheNamespaceIsReturnedAndChangesNothing) {
  PutDeletingProject("Delete");
  PutNamespace();
  cluster_.FailNext("get", UnavailableError("apiserver restarting"));
  cluster_.ClearCalls();
  auto action = Finalize(Current());
  EXPECT_EQ(action.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(cluster_.Writes(), 0) << "an unknown namespace is not a gone namespace";
  EXPECT_EQ(FinalizersOfShop().size(), 1u);
}

}  // namespace
}  // namespace kubabase::project
