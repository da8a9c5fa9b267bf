#include "controller/project/derive_status.h"

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

using kube::ObjectPtr;

ObjectPtr Workload(int replicas, int ready, int generation = 1, int observed = 1,
                   const std::string& image = "img:1") {
  return std::make_shared<const Json>(Json{
      {"metadata", {{"generation", generation}}},
      {"spec", {{"replicas", replicas},
                {"template", {{"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}}}}},
      {"status", {{"observedGeneration", observed}, {"replicas", replicas},
                  {"readyReplicas", ready}, {"updatedReplicas", replicas}}}});
}

ObjectPtr Job(const std::string& condition) {
  return std::make_shared<const Json>(
      Json{{"status", {{"conditions", {{{"type", condition}, {"status", "True"}}}}}}});
}

class DeriveStatusTest : public ::testing::Test {
 protected:
  DeriveStatusTest() {
    project_.name = "shop";
    project_.generation = 3;
  }
  ObservedChildren AllReady() {
    ObservedChildren c;
    c.namespace_object = std::make_shared<const Json>(Json::object());
    c.workloads["database"] = Workload(1, 1);
    c.bootstrap_job = Job("Complete");
    c.workloads["rest"] = Workload(1, 1);
    c.workloads["auth"] = Workload(1, 1);
    c.workloads["storage"] = Workload(1, 1);
    c.ingresses = {std::make_shared<const Json>(Json::object())};
    return c;
  }
  ProjectStatus Derive(ObservedChildren children, std::optional<Problem> problem = {}) {
    return DeriveStatus({.project = project_,
                         .defaults = defaults_,
                         .children = std::move(children),
                         .problem = std::move(problem),
                         .now = now_,
                         .bootstrap_job_name = "db-bootstrap-abc"});
  }
  std::string ConditionStatus(const ProjectStatus& s, const std::string& type) {
    const Condition* c = FindCondition(s, type);
    return c == nullptr ? "absent" : c->status;
  }

  Project project_;
  Defaults defaults_;
  Clock::WallTime now_ = Clock::WallTime{} + std::chrono::hours(24 * 365 * 56);
};

TEST_F(DeriveStatusTest, EverythingReadyIsPhaseReadyWithReadyTrueAtTheCurrentGeneration) {
  ProjectStatus s = Derive(AllReady());
  EXPECT_EQ(s.phase, Phase::kReady);
  EXPECT_EQ(s.observed_generation, 3);
  EXPECT_EQ(ConditionStatus(s, "Ready"), "True");
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "False");
  EXPECT_EQ(ConditionStatus(s, "Stalled"), "False");
  for (const Condition& c : s.conditions) EXPECT_EQ(c.observed_generation, 3) << c.type;
  EXPECT_EQ(s.namespace_, "project-shop");
  EXPECT_EQ(s.keys_secret.name, "api-keys");
  EXPECT_EQ(s.endpoints["rest"], "http://shop.kubabase.localhost/rest/v1");
  EXPECT_EQ(s.components.at("rest").ready, 1);
  EXPECT_EQ(s.components.at("rest").image, "img:1");
}

TEST_F(DeriveStatusTest, NoNamespaceYetIsPending) {
  EXPECT_EQ(Derive({}).phase, Phase::kPending);
}

TEST_F(DeriveStatusTest, ARollingOutComponentIsProvisioningAndReadyNamesIt) {
  ObservedChildren c = AllReady();
  c.workloads["auth"] = Workload(2, 1);
  ProjectStatus s = Derive(c);
  EXPECT_EQ(s.phase, Phase::kProvisioning);
  EXPECT_EQ(ConditionStatus(s, "AuthReady"), "False");
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "True");
  EXPECT_NE(FindCondition(s, "Ready")->message.find("auth"), std::string::npos);
}

TEST_F(DeriveStatusTest, AWorkloadWhoseControllerLagsIsNotReady) {
  ObservedChildren c = AllReady();
  c.workloads["rest"] = Workload(1, 1, /*generation=*/2, /*observed=*/1);
  EXPECT_EQ(ConditionStatus(Derive(c), "RestReady"), "False");
}

TEST_F(DeriveStatusTest, TheDatabaseIsReadyOnlyOnceTheBootstrapCompleted) {
  ObservedChildren c = AllReady();
  c.bootstrap_job = Job("SuccessCriteriaMet");
  EXPECT_EQ(ConditionStatus(Derive(c), "DatabaseReady"), "False");
  c.bootstrap_job = nullptr;
  EXPECT_EQ(ConditionStatus(Derive(c), "DatabaseReady"), "False");
}

TEST_F(DeriveStatusTest, AFailedBootstrapStallsWithAMessageSayingWhatToDo) {
  ObservedChildren c = AllReady();
  c.bootstrap_job = Job("Failed");
  ProjectStatus s = Derive(c);
  EXPECT_EQ(s.phase, Phase::kFailed);
  EXPECT_EQ(ConditionStatus(s, "Stalled"), "True");
  EXPECT_NE(FindCondition(s, "Stalled")->message.find("kubectl logs"), std::string::npos);
}

TEST_F(DeriveStatusTest, AReadyProjectThatBreaksAtTheSameGenerationIsDegraded) {
  project_.status = Derive(AllReady());
  ObservedChildren c = AllReady();
  c.workloads["database"] = Workload(1, 0);
  EXPECT_EQ(Derive(c).phase, Phase::kDegraded);
  project_.generation = 4;  // a spec edit rolling out is progress, not degradation
  EXPECT_EQ(Derive(c).phase, Phase::kProvisioning);
}

TEST_F(DeriveStatusTest, AFailureTheOperatorRetriesShowsAsReconcilingNeverAsFailed) {
  // The Services could not be created (the apiserver's Service IP range is full): what was
  // applied shows, and Ready says why the rest is missing.
  ObservedChildren c;
  c.namespace_object = std::make_shared<const Json>(Json::object());
  c.workloads["database"] = Workload(1, 0);
  ProjectStatus s = DeriveStatus(
      {.project = project_,
       .defaults = defaults_,
       .children = c,
       .now = now_,
       .bootstrap_job_name = "db-bootstrap-abc",
       .retrying = Problem{"ApplyFailed", "retrying: APPLY services project-shop/rest: failed to "
                                          "allocate a serviceIP: range is full"}});
  EXPECT_EQ(s.phase, Phase::kProvisioning);
  EXPECT_EQ(FindCondition(s, "Ready")->reason, "ApplyFailed");
  EXPECT_NE(FindCondition(s, "Ready")->message.find("range is full"), std::string::npos);
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "True");
  EXPECT_EQ(FindCondition(s, "Reconciling")->reason, "ApplyFailed");
  EXPECT_EQ(ConditionStatus(s, "Stalled"), "False");
  ASSERT_EQ(s.components.count("database"), 1u);
  EXPECT_EQ(s.components.at("database").desired, 1);
  // Without a namespace it is still provisioning, not pending: the operator is at work.
  c.namespace_object = nullptr;
  EXPECT_EQ(DeriveStatus({.project = project_, .defaults = defaults_, .children = c, .now = now_,
                          .retrying = Problem{"ApplyFailed", "x"}})
                .phase,
            Phase::kProvisioning);
}

TEST_F(DeriveStatusTest, ARetriedFailureDoesNotHideAReadyProject) {
  ProjectStatus s = DeriveStatus({.project = project_,
                                  .defaults = defaults_,
                                  .children = AllReady(),
                                  .now = now_,
                                  .bootstrap_job_name = "db-bootstrap-abc",
                                  .retrying = Problem{"ApplyFailed", "x"}});
  EXPECT_EQ(s.phase, Phase::kReady);
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "False");
}

TEST_F(DeriveStatusTest, AnOptionalComponentIsReportedOnlyWhileEnabled) {
  ProjectStatus off = Derive(AllReady());
  EXPECT_EQ(off.components.count("meta"), 0u);
  EXPECT_EQ(FindCondition(off, "MetaReady")->reason, "Disabled");
  project_.spec.basic["meta"].enabled = true;
  ObservedChildren c = AllReady();
  EXPECT_EQ(ConditionStatus(Derive(c), "MetaReady"), "False");
  EXPECT_EQ(Derive(c).phase, Phase::kProvisioning);
  c.workloads["meta"] = Workload(1, 1, 1, 1, "supabase/postgres-meta:v0.99.0");
  ProjectStatus on = Derive(c);
  EXPECT_EQ(on.phase, Phase::kReady);
  EXPECT_EQ(on.components.at("meta").image, "supabase/postgres-meta:v0.99.0");
  EXPECT_EQ(on.endpoints.count("meta"), 0u);  // no public route
}

TEST_F(DeriveStatusTest, AProblemIsStalledFailedAndNotReconciling) {
  ProjectStatus s = Derive(AllReady(), Problem{"HostConflict", "host x is taken"});
  EXPECT_EQ(s.phase, Phase::kFailed);
  EXPECT_EQ(ConditionStatus(s, "Ready"), "False");
  EXPECT_EQ(FindCondition(s, "Ready")->reason, "HostConflict");
  EXPECT_EQ(ConditionStatus(s, "Stalled"), "True");
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "False");
}

TEST_F(DeriveStatusTest, PausedWantsZeroReplicasAndSaysPaused) {
  project_.spec.paused = true;
  ObservedChildren c = AllReady();
  for (auto& [key, workload] : c.workloads) workload = Workload(0, 0);
  ProjectStatus s = Derive(c);
  EXPECT_EQ(s.phase, Phase::kPaused);
  EXPECT_EQ(s.components.at("rest").desired, 0);
  // A declared state reached: Ready (kstatus and Flux: Current), not reconciling.
  EXPECT_EQ(ConditionStatus(s, "Ready"), "True");
  EXPECT_EQ(FindCondition(s, "Ready")->reason, "Paused");
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "False");
}

TEST_F(DeriveStatusTest, PausingIsInProgressUntilEveryWorkloadIsAtZero) {
  project_.spec.paused = true;
  ObservedChildren c = AllReady();  // still running: the scale-down has not landed
  ProjectStatus s = Derive(c);
  EXPECT_EQ(s.phase, Phase::kProvisioning);
  EXPECT_EQ(ConditionStatus(s, "Ready"), "False");
  EXPECT_EQ(FindCondition(s, "Ready")->reason, "Pausing");
  EXPECT_EQ(ConditionStatus(s, "Reconciling"), "True");
  EXPECT_EQ(FindCondition(s, "Reconciling")->reason, "Pausing");
  EXPECT_EQ(ConditionStatus(s, "Stalled"), "False");
}

TEST_F(DeriveStatusTest, DisabledComponentsAreReadyAndLeaveNoEndpointOrComponent) {
  project_.spec.storage.enabled = false;
  ObservedChildren c = AllReady();
  c.workloads["storage"] = nullptr;
  ProjectStatus s = Derive(c);
  EXPECT_EQ(s.phase, Phase::kReady);
  EXPECT_EQ(FindCondition(s, "StorageReady")->reason, "Disabled");
  EXPECT_EQ(s.components.count("storage"), 0u);
  EXPECT_EQ(s.endpoints.count("storage"), 0u);
}

TEST_F(DeriveStatusTest, DeletingWinsOverEverything) {
  project_.deleting = true;
  EXPECT_EQ(Derive(AllReady(), Problem{"X", "y"}).phase, Phase::kDeleting);
}

TEST_F(DeriveStatusTest, UnchangedInputsGiveAnEqualStatusSoNothingIsWritten) {
  project_.status = Derive(AllReady());
  now_ += std::chrono::hours(1);
  ProjectStatus again = Derive(AllReady());
  EXPECT_FALSE(StatusChanged(project_.status, again));
}

TEST_F(DeriveStatusTest, LastTransitionTimeMovesOnlyWhenAConditionFlips) {
  ObservedChildren rolling = AllReady();
  rolling.workloads["rest"] = Workload(1, 0);
  project_.status = Derive(rolling);
  const std::string first = FindCondition(project_.status, "Ready")->last_transition_time;
  const std::string db_first = FindCondition(project_.status, "DatabaseReady")->last_transition_time;
  now_ += std::chrono::minutes(3);
  ProjectStatus ready = Derive(AllReady());
  EXPECT_NE(FindCondition(ready, "Ready")->last_transition_time, first);
  EXPECT_EQ(FindCondition(ready, "DatabaseReady")->last_transition_time, db_first);
  EXPECT_EQ(FindCondition(ready, "Ready")->last_transition_time, Rfc3339(now_));
}

}  // namespace
}  // namespace kubabase::project
