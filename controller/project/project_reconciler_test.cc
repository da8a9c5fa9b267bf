// Control flow of one reconcile against FakeCluster (a test double; the API's real behaviour is
// proven in tests/e2e). Each test reads as the behaviour the issue asks for.
#include "controller/project/project_reconciler.h"

#include <gtest/gtest.h>

#include "controller/project/names.h"
#include "controller/project/resources.h"
#include "controller/project/testing/reconciler_fixture.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::ProjectObject;

class ProjectReconcilerTest : public testing::ReconcilerFixture {};

TEST_F(ProjectReconcilerTest, ANewProjectGetsItsFinalizerEveryChildAndAStatus) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  auto action = Reconcile("shop");
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  Json project = Stored(ProjectsResource(), "", "shop");
  EXPECT_EQ(project["metadata"]["finalizers"], Json::array({"kubabase.io/finalizer"}));
  EXPECT_FALSE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  EXPECT_FALSE(Stored(Resource::Secrets(), "project-shop", "api-keys").is_null());
  EXPECT_FALSE(Stored(Resource::StatefulSets(), "project-shop", "db").is_null());
  for (const char* d : {"rest", "auth", "storage"}) {
    EXPECT_FALSE(Stored(Resource::Deployments(), "project-shop", d).is_null()) << d;
  }
  EXPECT_FALSE(Stored(Resource::Ingresses(), "project-shop", "api").is_null());
  EXPECT_EQ(StatusOf("shop")["phase"], "Provisioning");
  EXPECT_EQ(StatusOf("shop")["observedGeneration"], 1);
  const std::string reconciling = ConditionReason("shop", "Reconciling");
  EXPECT_EQ(reconciling.substr(reconciling.size() - 5), "/True") << reconciling;
  EXPECT_EQ(EventCount("shop", "Created", "Normal"), 1);
  // The operator never writes spec: the only Project writes are the finalizer and the status.
  for (const auto& call : cluster_.calls()) {
    if (call.resource != "projects.kubabase.io") continue;
    EXPECT_FALSE(call.body.contains("spec")) << call.verb;
  }
}

TEST_F(ProjectReconcilerTest, ASteadyStateReconcileMakesZeroWrites) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Writes(), 0);
  for (const auto& call : cluster_.calls()) {
    EXPECT_NE(call.verb, "list") << "a reconcile reads the cache, not the API, for children";
  }
}

TEST_F(ProjectReconcilerTest, KeysAreReadFromTheApiAndNeverRegenerated) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const Json keys = Stored(Resource::Secrets(), "project-shop", "api-keys")["data"];
  const Json passwords = Stored(Resource::Secrets(), "project-shop", "db-credentials")["data"];
  cluster_.Remove(Resource::Deployments(), "project-shop", "rest");
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "api-keys")["data"], keys);
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "db-credentials")["data"], passwords);
}

TEST_F(ProjectReconcilerTest, AFailedSecretReadIsRetriedAndNeverMeansNewKeys) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const Json keys = Stored(Resource::Secrets(), "project-shop", "api-keys")["data"];
  cluster_.FailNext("get", UnavailableError("apiserver restarting"));
  cluster_.ClearCalls();
  auto action = Reconcile("shop");
  EXPECT_EQ(action.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0);
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "api-keys")["data"], keys);
  EXPECT_NE(StatusOf("shop")["phase"], "Failed");
}

TEST_F(ProjectReconcilerTest, ADeletedChildIsRestoredWithOneWrite) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Remove(Resource::Services(), "project-shop", "auth");
  cluster_.ClearCalls();
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Count("apply", Resource::Services()), 1);
  EXPECT_FALSE(Stored(Resource::Services(), "project-shop", "auth").is_null());
}

TEST_F(ProjectReconcilerTest, TransientApplyErrorsAreReturnedAndNeverShowAsFailed) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  cluster_.FailNext("apply", UnavailableError("etcdserver: leader changed"));
  auto action = Reconcile("shop");
  EXPECT_EQ(action.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(StatusOf("shop").value("phase", ""), "Failed");
}

TEST_F(ProjectReconcilerTest, AnApplyThatKeepsFailingShowsOnTheProjectWithinOneReconcile) {
  // What the apiserver answers when its Service IP range is full (HTTP 500), measured on the
  // local cluster: the Project must say so rather than show no status at all.
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  const std::string full =
      "Internal error occurred: failed to allocate a serviceIP: range is full";
  cluster_.FailNext("apply", InternalError(full));
  auto failed = Reconcile("shop");
  EXPECT_EQ(failed.status().code(), StatusCode::kInternal) << "retried with backoff by the queue";
  EXPECT_EQ(StatusOf("shop").value("phase", ""), "Provisioning");
  EXPECT_EQ(ConditionReason("shop", "Ready"), "ApplyFailed/False");
  EXPECT_EQ(ConditionReason("shop", "Reconciling"), "ApplyFailed/True");
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
  const Json status = StatusOf("shop");  // a local: range-for over a temporary's member dangles
  for (const Json& c : status["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_NE(c["message"].get<std::string>().find("range is full"), std::string::npos);
    }
  }
  const size_t events_after_first = events_.queued();
  EXPECT_GT(events_after_first, 0u) << "a Warning Event names the failure";

  // The same failure again: the status already says it; nothing more is written.
  cluster_.ClearCalls();
  cluster_.FailNext("apply", InternalError(full));
  EXPECT_FALSE(Reconcile("shop").ok());
  EXPECT_EQ(events_.queued(), events_after_first);

  // The range was widened: the next reconcile goes on and the reason is gone.
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_NE(ConditionReason("shop", "Ready"), "ApplyFailed/False");
  EXPECT_NE(ConditionReason("shop", "Reconciling"), "ApplyFailed/True");
}

TEST_F(ProjectReconcilerTest, ARefusedRequestIsReportedOnTheStatusOnceAndClearedByTheNextSuccess) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  const std::string refusal =
      "namespaces \"project-shop\" is forbidden: User \"system:serviceaccount:kubabase-system:"
      "kubabase\" cannot patch resource \"namespaces\"";
  cluster_.FailNext("apply", PermissionDeniedError(refusal));
  auto refused = Reconcile("shop");
  EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied) << "retried by the queue";
  EXPECT_EQ(ConditionReason("shop", "Ready"), "PermissionDenied/False");
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "PermissionDenied/True");
  EXPECT_EQ(StatusOf("shop").value("phase", ""), "Failed");
  const Json status = StatusOf("shop");
  for (const Json& c : status["conditions"]) {
    if (c["type"] == "Ready") {
      EXPECT_NE(c["message"].get<std::string>().find(refusal), std::string::npos) << c.dump();
    }
  }
  EXPECT_EQ(EventCount("shop", "PermissionDenied", "Warning"), 1);

  // Refused again: the status already says so; no write, no second Event.
  cluster_.ClearCalls();
  cluster_.FailNext("apply", PermissionDeniedError(refusal));
  EXPECT_EQ(Reconcile("shop").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(cluster_.Count("apply", ProjectsResource()), 0);
  EXPECT_EQ(EventCount("shop", "PermissionDenied", "Warning"), 1);

  // Fixed (the role was mended): the next reconcile clears it.
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_NE(ConditionReason("shop", "Ready"), "PermissionDenied/False");
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
  EXPECT_NE(StatusOf("shop").value("phase", ""), "Failed");
}

TEST_F(ProjectReconcilerTest, PausedScalesEveryWorkloadToZero) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop", {{"paused", true}}));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(Stored(Resource::StatefulSets(), "project-shop", "db")["spec"]["replicas"], 0);
  for (const char* d : {"rest", "auth", "storage"}) {
    EXPECT_EQ(Stored(Resource::Deployments(), "project-shop", d)["spec"]["replicas"], 0) << d;
  }
  EXPECT_EQ(StatusOf("shop")["phase"], "Paused");
}

TEST_F(ProjectReconcilerTest, DisablingAComponentPrunesItsObjects) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  Json p = Stored(ProjectsResource(), "", "shop");
  p["spec"]["storage"] = {{"enabled", false}};
  cluster_.Put(ProjectsResource(), p);
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "storage").is_null());
  EXPECT_TRUE(Stored(Resource::Services(), "project-shop", "storage").is_null());
  EXPECT_FALSE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
}

TEST_F(ProjectReconcilerTest, TheNewerOfTwoProjectsOnOneHostStallsAndWritesNoChild) {
  cluster_.Put(ProjectsResource(),
               ProjectObject("old", {{"host", "x.kubabase.localhost"}}, "2026-01-01T00:00:00Z"));
  cluster_.Put(ProjectsResource(),
               ProjectObject("new", {{"host", "x.kubabase.localhost"}}, "2026-02-01T00:00:00Z"));
  ASSERT_TRUE(Reconcile("old").ok());
  auto action = Reconcile("new");
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, kube::Action::RequeueAfter(options_.stalled_requeue));
  EXPECT_EQ(ConditionReason("new", "Stalled"), "HostConflict/True");
  EXPECT_EQ(ConditionReason("new", "Ready"), "HostConflict/False");
  EXPECT_EQ(StatusOf("new")["phase"], "Failed");
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-new").is_null());
  EXPECT_EQ(StatusOf("old")["phase"], "Provisioning");
  // The loser takes over once the winner moves away.
  Json moved = Stored(ProjectsResource(), "", "old");
  moved["spec"]["host"] = "y.kubabase.localhost";
  cluster_.Put(ProjectsResource(), moved);
  enqueued_.clear();
  ASSERT_TRUE(Reconcile("old").ok());
  EXPECT_NE(std::find(enqueued_.begin(), enqueued_.end(), "new"), enqueued_.end());
  ASSERT_TRUE(Reconcile("new").ok());
  EXPECT_EQ(ConditionReason("new", "Stalled"), "NotStalled/False");
}

TEST_F(ProjectReconcilerTest, AForeignNamespaceIsAConflictAndIsNotTouched) {
  cluster_.Put(Resource::Namespaces(), {{"metadata", {{"name", "project-shop"}}}});
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NamespaceConflict/True");
  EXPECT_EQ(cluster_.Count("apply", Resource::Namespaces()), 0);
  EXPECT_EQ(cluster_.Count("apply", Resource::Secrets()), 0);
}

TEST_F(ProjectReconcilerTest, ASpecTheSchemaLetThroughButWeCannotUseStallsWithoutWrites) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop", {{"rest", {{"replicas", -1}}}}));
  auto action = Reconcile("shop");
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(*action, kube::Action::RequeueAfter(options_.stalled_requeue));
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "InvalidSpec/True");
  EXPECT_NE(StatusOf("shop")["conditions"][0]["message"].get<std::string>().find(
                "spec.rest.replicas"),
            std::string::npos);
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
}

TEST_F(ProjectReconcilerTest, DeletePolicyDeletesTheNamespaceAndWaitsForItBeforeLettingGo) {
  cluster_.set_namespaces_terminate_slowly(true);
  cluster_.Put(ProjectsResource(), ProjectObject("shop", {{"deletionPolicy", "Delete"}}));
  ASSERT_TRUE(Reconcile("shop").ok());
  MarkDeleting("shop");
  auto waiting = Reconcile("shop");
  ASSERT_TRUE(waiting.ok());
  EXPECT_TRUE(waiting->requeue());
  EXPECT_EQ(cluster_.Count("delete", Resource::Namespaces()), 1);
  EXPECT_FALSE(Stored(ProjectsResource(), "", "shop")["metadata"]["finalizers"].empty());
  cluster_.Remove(Resource::Namespaces(), "", "project-shop");  // the namespace controller is done
  auto done = Reconcile("shop");
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(done->requeue());
  EXPECT_TRUE(Stored(ProjectsResource(), "", "shop")["metadata"]["finalizers"].empty());
}

TEST_F(ProjectReconcilerTest, RetainKeepsNamespaceKeysAndDataAndANewProjectAdoptsThem) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  const Json keys = Stored(Resource::Secrets(), "project-shop", "api-keys")["data"];
  // A PVC made by the StatefulSet controller from the volumeClaimTemplate, owned (say) by us.
  cluster_.Put(Resource::PersistentVolumeClaims(),
               {{"metadata", {{"name", "data-db-0"}, {"namespace", "project-shop"},
                              {"labels", {{"kubabase.io/project", "shop"},
                                          {"app.kubernetes.io/managed-by", "kubabase"}}},
                              {"ownerReferences", {{{"apiVersion", "kubabase.io/v1alpha1"},
                                                    {"kind", "Project"}, {"name", "shop"},
                                                    {"uid", "uid-shop"}}}}}}});
  MarkDeleting("shop");
  { auto r = Reconcile("shop"); ASSERT_TRUE(r.ok()) << r.status().ToString(); }
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
  EXPECT_TRUE(Stored(Resource::StatefulSets(), "project-shop", "db").is_null());
  EXPECT_TRUE(Stored(Resource::Ingresses(), "project-shop", "api").is_null());
  Json ns = Stored(Resource::Namespaces(), "", "project-shop");
  EXPECT_EQ(ns["metadata"]["labels"]["kubabase.io/retained"], "true");
  EXPECT_EQ(Stored(Resource::PersistentVolumeClaims(), "project-shop", "data-db-0")["metadata"]
                ["ownerReferences"],
            Json::array());
  EXPECT_TRUE(Stored(ProjectsResource(), "", "shop")["metadata"]["finalizers"].empty());

  // The Project is gone; a new one of the same name comes.
  cluster_.Remove(ProjectsResource(), "", "shop");
  ASSERT_TRUE(Reconcile("shop").ok());
  Json again = ProjectObject("shop");
  again["metadata"]["uid"] = "uid-shop-2";
  cluster_.Put(ProjectsResource(), again);
  ASSERT_TRUE(Reconcile("shop").ok());
  // Same name, another uid: not its data unless an admin says so.
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "RetainedDataExists/True");
  EXPECT_TRUE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
  EXPECT_EQ(EventCount("shop", "RetainedDataExists", "Warning"), 1);
  ns = Stored(Resource::Namespaces(), "", "project-shop");
  EXPECT_EQ(ns["metadata"]["annotations"]["kubabase.io/project-uid"], "uid-shop");
  ns["metadata"]["annotations"]["kubabase.io/adopt-uid"] = "uid-shop-2";
  cluster_.Put(Resource::Namespaces(), ns);
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
  EXPECT_EQ(Stored(Resource::Secrets(), "project-shop", "api-keys")["data"], keys);
  ns = Stored(Resource::Namespaces(), "", "project-shop");
  EXPECT_FALSE(ns["metadata"]["labels"].contains("kubabase.io/retained"));
  EXPECT_EQ(ns["metadata"]["annotations"]["kubabase.io/project-uid"], "uid-shop-2");
  EXPECT_FALSE(Stored(Resource::Deployments(), "project-shop", "rest").is_null());
  EXPECT_EQ(EventCount("shop", "Adopted", "Normal"), 1);
}

TEST_F(ProjectReconcilerTest, AProjectStalledOnRetainedDataLeavesThemWholeWhenDeleted) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  MarkDeleting("shop");
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Remove(ProjectsResource(), "", "shop");
  ASSERT_TRUE(Reconcile("shop").ok());
  // The stranger asks for deletionPolicy Delete, then deletes its Project.
  Json stranger = ProjectObject("shop", {{"deletionPolicy", "Delete"}});
  stranger["metadata"]["uid"] = "uid-stranger";
  cluster_.Put(ProjectsResource(), stranger);
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "RetainedDataExists/True");
  MarkDeleting("shop");
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Count("delete", Resource::Namespaces()), 0);
  EXPECT_FALSE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  EXPECT_FALSE(Stored(Resource::Secrets(), "project-shop", "api-keys").is_null());
  EXPECT_TRUE(Stored(ProjectsResource(), "", "shop")["metadata"]["finalizers"].empty());
}

TEST_F(ProjectReconcilerTest, AnOlderProjectMovingOntoALiveHostDoesNotTakeIt) {
  cluster_.Put(ProjectsResource(),
               ProjectObject("older", {{"host", "a.kubabase.localhost"}}, "2026-01-01T00:00:00Z"));
  cluster_.Put(ProjectsResource(),
               ProjectObject("victim", {{"host", "v.kubabase.localhost"}}, "2026-02-01T00:00:00Z"));
  ASSERT_TRUE(Reconcile("older").ok());
  ASSERT_TRUE(Reconcile("victim").ok());
  const std::string victim_ingress =
      Stored(Resource::Ingresses(), "project-victim", "api")["metadata"]["resourceVersion"];
  Json moved = Stored(ProjectsResource(), "", "older");
  moved["spec"]["host"] = "v.kubabase.localhost";
  cluster_.Put(ProjectsResource(), moved);
  ASSERT_TRUE(Reconcile("older").ok());
  EXPECT_EQ(ConditionReason("older", "Stalled"), "HostConflict/True");
  EXPECT_NE(Condition("older", "Ready")["message"].get<std::string>().find(
                "already served by Project victim"),
            std::string::npos);
  ASSERT_TRUE(Reconcile("victim").ok());
  EXPECT_EQ(ConditionReason("victim", "Stalled"), "NotStalled/False");
  EXPECT_EQ(Stored(Resource::Ingresses(), "project-victim", "api")["metadata"]["resourceVersion"],
            victim_ingress);
  const Json older_ingress = Stored(Resource::Ingresses(), "project-older", "api");
  for (const Json& rule : older_ingress["spec"]["rules"]) {
    EXPECT_EQ(rule["host"], "a.kubabase.localhost");  // its old route, nothing on the new host
  }
}

TEST_F(ProjectReconcilerTest, AFreshReconcilerKnowsTheOlderClaimBeforeReconcilingIt) {
  // After a restart the newer Project may come first: the index is seeded from the cache.
  cluster_.Put(ProjectsResource(),
               ProjectObject("old", {{"host", "x.kubabase.localhost"}}, "2026-01-01T00:00:00Z"));
  cluster_.Put(ProjectsResource(),
               ProjectObject("new", {{"host", "x.kubabase.localhost"}}, "2026-02-01T00:00:00Z"));
  ASSERT_TRUE(Reconcile("new").ok());
  EXPECT_EQ(ConditionReason("new", "Stalled"), "HostConflict/True");
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-new").is_null());
  ASSERT_TRUE(Reconcile("old").ok());
  EXPECT_EQ(ConditionReason("old", "Stalled"), "NotStalled/False");
}

TEST_F(ProjectReconcilerTest, AHostAnotherIngressOfTheClusterServesIsAConflict) {
  cluster_.Put(Resource::Ingresses(),
               {{"metadata", {{"name", "web"}, {"namespace", "team-x"}}},
                {"spec", {{"rules", {{{"host", "shop.kubabase.localhost"}}}}}}});
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "HostConflict/True");
  EXPECT_NE(Condition("shop", "Ready")["message"].get<std::string>().find("Ingress team-x/web"),
            std::string::npos);
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  cluster_.Remove(Resource::Ingresses(), "team-x", "web");
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "NotStalled/False");
  // Serving its host now, it no longer lists the cluster's Ingresses.
  const int lists = cluster_.Count("list", Resource::Ingresses());
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(cluster_.Count("list", Resource::Ingresses()), lists);
}

Json S3Naming(const std::string& ns, const std::string& name) {
  return {{"storage", {{"backend", "s3"},
                       {"s3", {{"endpoint", "http://minio.storage:9000"},
                               {"credentialsSecretRef", {{"namespace", ns}, {"name", name}}}}}}}};
}

Json S3Secret(const std::string& ns, const std::string& name, const Json& annotations) {
  Json secret = {{"metadata", {{"name", name}, {"namespace", ns}}},
                 {"data", {{"AWS_ACCESS_KEY_ID", Base64Encode("id")},
                           {"AWS_SECRET_ACCESS_KEY", Base64Encode("very-secret")}}}};
  if (!annotations.is_null()) secret["metadata"]["annotations"] = annotations;
  return secret;
}

TEST_F(ProjectReconcilerTest, ASharedSecretIsCopiedOnlyOnceItNamesTheProject) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop", S3Naming("kubabase-shared", "s3")));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "SecretRefNotAllowed/True");
  EXPECT_EQ(EventCount("shop", "SecretRefNotAllowed", "Warning"), 1);
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  const Json missing = StatusOf("shop")["conditions"];

  // There, but consenting to other Projects only: the very same status as missing.
  cluster_.Put(Resource::Secrets(),
               S3Secret("kubabase-shared", "s3", {{"kubabase.io/allowed-projects", "blog"}}));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(StatusOf("shop")["conditions"], missing) << "a refusal tells whether a Secret exists";
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  EXPECT_TRUE(Stored(Resource::Secrets(), "project-shop", "s3-credentials").is_null());

  cluster_.Put(Resource::Secrets(), S3Secret("kubabase-shared", "s3",
                                             {{"kubabase.io/allowed-projects", "blog, shop"}}));
  ASSERT_TRUE(Reconcile("shop").ok());
  Json copy = Stored(Resource::Secrets(), "project-shop", "s3-credentials");
  ASSERT_FALSE(copy.is_null());
  EXPECT_EQ(copy["data"]["AWS_SECRET_ACCESS_KEY"], Base64Encode("very-secret"));
  EXPECT_EQ(StatusOf("shop").dump().find("very-secret"), std::string::npos);
  EXPECT_EQ(StatusOf("shop").dump().find(Base64Encode("very-secret")), std::string::npos);
}

TEST_F(ProjectReconcilerTest, ASecretOfAnotherNamespaceIsNeverEvenRead) {
  // kube-system, and another project's keys (its namespace is ours, so the cache holds it).
  cluster_.Put(ProjectsResource(), ProjectObject("blog"));
  ASSERT_TRUE(Reconcile("blog").ok());
  for (const auto& [ns, name] : std::vector<std::pair<std::string, std::string>>{
           {"kube-system", "s3"}, {"project-blog", "api-keys"}}) {
    SCOPED_TRACE(ns);
    cluster_.Put(Resource::Secrets(),
                 S3Secret(ns, name, {{"kubabase.io/allowed-projects", "*"}}));  // even consenting
    cluster_.Put(ProjectsResource(), ProjectObject("shop", S3Naming(ns, name)));
    cluster_.ClearCalls();
    ASSERT_TRUE(Reconcile("shop").ok());
    EXPECT_EQ(ConditionReason("shop", "Stalled"), "SecretRefNotAllowed/True");
    for (const auto& call : cluster_.calls()) {
      EXPECT_FALSE(call.verb == "get" && call.resource == "secrets" && call.ns == ns)
          << "read " << ns << "/" << call.name;
    }
    EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
  }
}

TEST_F(ProjectReconcilerTest, ASecretOfTheProjectsOwnNamespaceNeedsNoConsent) {
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  cluster_.Put(Resource::Secrets(), S3Secret("project-shop", "my-s3", nullptr));
  cluster_.Put(ProjectsResource(), ProjectObject("shop", S3Naming("project-shop", "my-s3")));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_FALSE(Stored(Resource::Secrets(), "project-shop", "s3-credentials").is_null());
}

TEST_F(ProjectReconcilerTest, AnAllowedSecretLackingAKeyNamesTheKey) {
  Json secret = S3Secret("kubabase-shared", "s3", {{"kubabase.io/allowed-projects", "shop"}});
  secret["data"].erase("AWS_SECRET_ACCESS_KEY");
  cluster_.Put(Resource::Secrets(), secret);
  cluster_.Put(ProjectsResource(), ProjectObject("shop", S3Naming("kubabase-shared", "s3")));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(ConditionReason("shop", "Stalled"), "SecretKeyMissing/True");
  EXPECT_NE(StatusOf("shop").dump().find("lacks AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_TRUE(Stored(Resource::Namespaces(), "", "project-shop").is_null());
}

TEST_F(ProjectReconcilerTest, TheUserSecretsASpecNamesAreIndexedUntilTheProjectGoes) {
  SecretRefIndex refs;
  options_.secret_refs = &refs;
  Json s3 = {{"storage", {{"backend", "s3"},
                          {"s3", {{"endpoint", "http://minio.storage:9000"},
                                  {"credentialsSecretRef",
                                   {{"namespace", "minio"}, {"name", "shop-s3"}}}}}}}};
  cluster_.Put(ProjectsResource(), ProjectObject("shop", s3));
  // Stalled (minio is not an allowed namespace), and still indexed: had the admin allowed it, a
  // consent added to the Secret later would re-queue the Project through the reload watch.
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(refs.ProjectsNaming("minio", "shop-s3"), (std::vector<std::string>{"shop"}));

  MarkDeleting("shop");
  (void)Reconcile("shop");
  EXPECT_TRUE(refs.ProjectsNaming("minio", "shop-s3").empty());
}

TEST_F(ProjectReconcilerTest, DeletingAProjectNeverTouchesANamespaceThatIsNotOurs) {
  cluster_.Put(Resource::Namespaces(), {{"metadata", {{"name", "project-shop"}}}});
  Json p = ProjectObject("shop", {{"deletionPolicy", "Delete"}});
  p["metadata"]["finalizers"] = {"kubabase.io/finalizer"};
  p["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
  cluster_.Put(ProjectsResource(), p);
  auto action = Reconcile("shop");
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  EXPECT_EQ(cluster_.Count("delete"), 0);
  EXPECT_EQ(cluster_.Count("patch", Resource::Namespaces()), 0);
  EXPECT_TRUE(Stored(ProjectsResource(), "", "shop")["metadata"]["finalizers"].empty());
}

TEST_F(ProjectReconcilerTest, AConflictIsAnnouncedByOneWarningEventNotOnePerReconcile) {
  cluster_.Put(Resource::Namespaces(), {{"metadata", {{"name", "project-shop"}}}});
  cluster_.Put(ProjectsResource(), ProjectObject("shop"));
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(EventCount("shop", "NamespaceConflict", "Warning"), 1);
  ASSERT_TRUE(Reconcile("shop").ok());
  EXPECT_EQ(EventCount("shop", "NamespaceConflict", "Warning"), 1);
}

TEST_F(ProjectReconcilerTest, AGoneProjectIsForgotten) {
  auto action = Reconcile("nobody");
  ASSERT_TRUE(action.ok());
  EXPECT_FALSE(action->requeue());
  EXPECT_EQ(cluster_.Writes(), 0);
}

}  // namespace
}  // namespace kubabase::project
