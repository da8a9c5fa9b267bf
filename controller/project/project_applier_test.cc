// The kube::Applier as the reconciler configures it: field manager kubabase, the kinds of
// ChildKinds() (a Job immutable), against the fake cluster the reconciler tests use.
#include <gtest/gtest.h>

#include "controller/kube/apply.h"
#include "controller/kube/testing/apply_objects.h"
#include "controller/project/names.h"
#include "controller/project/resources.h"
#include "controller/project/testing/fake_cluster.h"

namespace kubabase::project {
namespace {

using kube::Json;
using kube::Resource;
using kube::testing::AsObserved;
using kube::testing::Deployment;
using testing::FakeCluster;

class ApplierTest : public ::testing::Test {
 protected:
  FakeCluster cluster_;
  kube::Metrics metrics_;
  kube::Applier applier_{cluster_, &metrics_, std::string(names::kFieldManager), ApplyKindOf};
  kube::ObservedLookup observed_ = [this](const Resource& r, std::string_view ns,
                                    std::string_view name) {
    return cluster_.Observe(r, ns, name);
  };
};

TEST_F(ApplierTest, CreatesWhatIsMissingWithFieldManagerKubabaseAndForce) {
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->created, std::vector<std::string>{"Deployment/rest"});
  ASSERT_EQ(cluster_.calls().size(), 1u);
  EXPECT_EQ(cluster_.calls()[0].verb, "apply");
  EXPECT_EQ(cluster_.calls()[0].ns, "project-a");
}

TEST_F(ApplierTest, ASteadyStateMakesNoWrites) {
  cluster_.Put(Resource::Deployments(), AsObserved(Deployment(1)));
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->unchanged, 1);
  EXPECT_FALSE(result->wrote());
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, ADriftedObjectIsUpdated) {
  cluster_.Put(Resource::Deployments(), AsObserved(Deployment(3)));
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->updated, std::vector<std::string>{"Deployment/rest"});
  EXPECT_EQ((*cluster_.Observe(Resource::Deployments(), "project-a", "rest"))["spec"]["replicas"],
            1);
}

TEST_F(ApplierTest, StopsAtTheFirstFailureAndNamesTheObject) {
  cluster_.FailNext("apply", UnavailableError("etcd leader changed"));
  Json service = {{"apiVersion", "v1"}, {"kind", "Service"},
                  {"metadata", {{"name", "rest"}, {"namespace", "project-a"}}}};
  auto result = applier_.ApplyAll({Deployment(1), service}, observed_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("APPLY deployments.apps project-a/rest: etcd"),
            std::string::npos)
      << result.status().message();
  EXPECT_EQ(cluster_.Count("apply"), 1);
}

TEST_F(ApplierTest, AnUnknownKindIsRejectedWithoutAWrite) {
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "x"}}}};
  auto result = applier_.ApplyAll({pod}, observed_);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, AnExistingJobIsNeverReappliedBecauseItsTemplateIsImmutable) {
  Json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"},
              {"metadata", {{"name", "db-bootstrap-abc"}, {"namespace", "project-a"}}},
              {"spec", {{"backoffLimit", 6}}}};
  Json observed = job;
  observed["spec"]["backoffLimit"] = 3;  // whatever differs, the Job stays as it is
  cluster_.Put(Resource::Jobs(), observed);
  auto result = applier_.ApplyAll({job}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, CountsAppliedObjectsByKind) {
  ASSERT_TRUE(applier_.ApplyAll({Deployment(1)}, observed_).ok());
  auto families = metrics_.registry()->Collect();
  double applied = -1;
  for (const auto& family : families) {
    if (family.name != "kubabase_objects_applied_total") continue;
    for (const auto& metric : family.metric) {
      if (metric.label.size() == 1 && metric.label[0].value == "Deployment") {
        applied = metric.counter.value;
      }
    }
  }
  EXPECT_EQ(applied, 1);
}

}  // namespace
}  // namespace kubabase::project
