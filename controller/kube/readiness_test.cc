#include "controller/kube/readiness.h"

#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

Json Rollout(int want, int ready, int updated, int total, int generation = 1, int observed = 1) {
  return {{"metadata", {{"generation", generation}}},
          {"spec", {{"replicas", want}}},
          {"status", {{"observedGeneration", observed}, {"readyReplicas", ready},
                      {"updatedReplicas", updated}, {"replicas", total}}}};
}

TEST(WorkloadReadyTest, ReadyWhenEveryDesiredReplicaIsUpdatedAndReady) {
  EXPECT_TRUE(WorkloadReady(Rollout(2, 2, 2, 2)));
  EXPECT_FALSE(WorkloadReady(Rollout(2, 1, 2, 2)));
  EXPECT_FALSE(WorkloadReady(Rollout(2, 2, 1, 2)));
}

TEST(WorkloadReadyTest, NotReadyWhileOldPodsOfARolloutRemain) {
  EXPECT_FALSE(WorkloadReady(Rollout(2, 2, 2, 3)));
}

TEST(WorkloadReadyTest, NotReadyUntilTheControllerObservedTheGeneration) {
  EXPECT_FALSE(WorkloadReady(Rollout(1, 1, 1, 1, /*generation=*/3, /*observed=*/2)));
}

TEST(WorkloadReadyTest, ZeroReplicasIsReadyOnlyWhenThePodsAreGone) {
  Json scaled = {{"spec", {{"replicas", 0}}}, {"status", {{"replicas", 1}}}};
  EXPECT_FALSE(WorkloadReady(scaled));
  scaled["status"]["replicas"] = 0;
  EXPECT_TRUE(WorkloadReady(scaled));
}

TEST(WorkloadReadyTest, MalformedObjectsAreNotReady) {
  EXPECT_FALSE(WorkloadReady(Json::array()));
  EXPECT_FALSE(WorkloadReady(Json{{"status", "ready"}}));
}

TEST(JobCompleteTest, CompleteAndFailedComeFromTrueConditions) {
  bool failed = true;
  Json job = {{"status", {{"conditions", {{{"type", "Complete"}, {"status", "True"}}}}}}};
  EXPECT_TRUE(JobComplete(job, &failed));
  EXPECT_FALSE(failed);
  job["status"]["conditions"] = {{{"type", "Failed"}, {"status", "True"}},
                                 {{"type", "Complete"}, {"status", "False"}}};
  EXPECT_FALSE(JobComplete(job, &failed));
  EXPECT_TRUE(failed);
  EXPECT_FALSE(JobComplete(Json::object(), &failed));
  EXPECT_FALSE(failed);
}

}  // namespace
}  // namespace kubabase::kube
