// End to end, the operator under stress: two Projects claiming one host (the second is stalled,
// the first untouched), SIGKILL mid-provisioning (no Secret regenerated), SIGTERM (prompt exit 0),
// and a steady state that makes no writes (see project_fixture.h for the setup).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

// ---------------------------------------------------------------------------------------------
// Conflicts.

TEST_F(ProjectE2eTest, ASecondProjectClaimingAHostIsStalledAndTheFirstIsUntouched) {
  const std::string suffix = RandomSuffix();
  const std::string first = "e2e-hosta-" + suffix;
  const std::string second = "e2e-hostb-" + suffix;
  projects_.push_back(first);
  projects_.push_back(second);
  const std::string host = "shared-" + suffix + ".example.test";
  ASSERT_TRUE(CreateProject(first, {{"host", host}}).ok());
  ASSERT_TRUE(WaitForReady(first));
  StatusOr<Json> ingress_before = Get(Resource::Ingresses(), ProjectNamespace(first), "api");
  ASSERT_TRUE(ingress_before.ok());
  EXPECT_EQ(StringAt(*ingress_before, "/spec/rules/0/host"), host);

  std::this_thread::sleep_for(1100ms);  // a later creationTimestamp (second resolution)
  ASSERT_TRUE(CreateProject(second, {{"host", host}}).ok());
  EXPECT_TRUE(WaitForNotReady(second, "HostConflict", {host, first}));
  StatusOr<Json> stalled = GetProject(second);
  ASSERT_TRUE(stalled.ok());
  EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(second);
  EXPECT_EQ(IntAt(*stalled, "/status/observedGeneration"), IntAt(*stalled, "/metadata/generation"));

  // An Event about the second Project says so (cluster-scoped objects' Events go to "default").
  EXPECT_TRUE(Eventually(second, "a HostConflict Event for " + second, 30s, [&](std::string* why) {
    StatusOr<Json> events = ProjectEvents(second, "HostConflict");
    if (!events.ok()) {
      *why = events.status().ToString();
      return false;
    }
    for (const Json& event : (*events)["items"]) {
      if (StringAt(event, "/type") == "Warning" &&
          StringAt(event, "/involvedObject/kind") == "Project") {
        return true;
      }
    }
    *why = std::to_string((*events)["items"].size()) + " matching events";
    return false;
  }));

  // Nothing was made for the loser; the winner is as it was.
  StatusOr<Json> loser_namespace = Get(Resource::Namespaces(), "", ProjectNamespace(second));
  EXPECT_TRUE(!loser_namespace.ok() && loser_namespace.status().IsNotFound())
      << "the conflicting Project got a namespace";
  StatusOr<Json> winner = GetProject(first);
  ASSERT_TRUE(winner.ok());
  EXPECT_TRUE(ConditionIs(*winner, "Ready", "True")) << Diagnostics(first);
  StatusOr<Json> ingress_after = Get(Resource::Ingresses(), ProjectNamespace(first), "api");
  ASSERT_TRUE(ingress_after.ok());
  EXPECT_EQ(StringAt(*ingress_after, "/metadata/resourceVersion"),
            StringAt(*ingress_before, "/metadata/resourceVersion"))
      << "the first Project's Ingress was touched";
}

// ---------------------------------------------------------------------------------------------
// Crash safety.

TEST_F(ProjectE2eTest, AnOperatorKilledMidProvisioningConvergesWithoutRegeneratingSecrets) {
  const std::string name = NewProjectName("crash");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  // Kill it as soon as the first Secret exists: provisioning has begun, and is not finished.
  Status first_secret = WaitUntil(
      [&](std::string*) {
        return Get(Resource::Secrets(), ns, "api-keys").ok() ||
               Get(Resource::Secrets(), ns, "db-credentials").ok();
      },
      kReadyTimeout, "the first generated Secret", 20ms);
  ASSERT_TRUE(first_secret.ok()) << first_secret.ToString() << "\n" << Diagnostics(name);
  operator_->Kill();
  StatusOr<Json> at_kill = GetProject(name);
  ASSERT_TRUE(at_kill.ok());
  std::printf("killed the operator with SIGKILL at phase '%s'\n",
              StringAt(*at_kill, "/status/phase").c_str());
  EXPECT_FALSE(ConditionIs(*at_kill, "Ready", "True")) << "too late: the project was Ready";
  const auto secrets_at_kill = KeySecrets(name);
  ASSERT_FALSE(secrets_at_kill.empty());

  ASSERT_NO_FATAL_FAILURE(StartOperator());
  ASSERT_TRUE(WaitForReady(name));
  const auto secrets_after = KeySecrets(name);
  ASSERT_EQ(secrets_after.size(), 2u);
  for (const auto& [secret, data] : secrets_at_kill) {
    EXPECT_EQ(secrets_after.at(secret), data) << secret << " was regenerated after the restart";
  }
}

// ---------------------------------------------------------------------------------------------
// The process.

TEST_F(ProjectE2eTest, SigtermStopsTheOperatorPromptlyWithExitCodeZero) {
  const std::string name = NewProjectName("sigterm");
  ASSERT_TRUE(CreateProject(name).ok());
  // Mid-work: the namespace exists, the project is not Ready yet (or just became so).
  ASSERT_TRUE(WaitForObject(name, Resource::Namespaces(), "", ProjectNamespace(name), "exists",
                            [](const Json&, std::string*) { return true; }));
  const auto started = std::chrono::steady_clock::now();
  StatusOr<int> stopped = operator_->Stop(SIGTERM, 10s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << operator_->LogTail(30);
  std::printf("SIGTERM -> exit %d after %.2f s\n", *stopped, seconds);
  // The next operator (TearDown's) finishes the work; the Project is cleaned up as usual.
  operator_.reset();
}

// ---------------------------------------------------------------------------------------------
// Efficiency: a steady state makes zero writes.

class SteadyStateE2eTest : public ProjectE2eTest {
 protected:
  std::vector<std::string> OperatorArgs() const override { return {"--resync-period", "5s"}; }
};

TEST_F(SteadyStateE2eTest, ResyncsOfAReadyProjectMakeNoWriteRequests) {
  const std::string name = NewProjectName("steady");
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));
  auto writes = [](const std::vector<MetricSample>& samples) {
    double total = 0;
    for (const auto& [key, count] : WritesByVerbAndResource(samples)) total += count;
    return total;
  };
  // Let the last status write and the pods' last transitions settle: writes stop changing.
  double settled = -1;
  auto stable_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(Eventually(name, "write requests to stop for 6 s after Ready", 60s,
                         [&](std::string* why) {
                           double now_writes = writes(Metrics());
                           if (now_writes != settled) {
                             settled = now_writes;
                             stable_since = std::chrono::steady_clock::now();
                           }
                           *why = std::to_string(now_writes) + " writes";
                           return std::chrono::steady_clock::now() - stable_since > 6s;
                         }));
  std::vector<MetricSample> before = Metrics();
  const double reconciles_before = SumMetric(before, "kubabase_reconcile_total");
  std::this_thread::sleep_for(16s);  // three resync periods
  std::vector<MetricSample> after = Metrics();
  const double reconciles_after = SumMetric(after, "kubabase_reconcile_total");
  EXPECT_GE(reconciles_after - reconciles_before, 2)
      << "no resync happened; the test proves nothing\n" << operator_->LogTail(20);
  // The series compared below must be there: with the request metric or its verb label renamed
  // both scrapes would hold no writes and the diff would be empty. Creating the Project wrote its
  // children, and the watches read.
  for (const std::vector<MetricSample>* samples : {&before, &after}) {
    std::map<std::string, double> by_verb = RequestsByVerb(*samples);
    ASSERT_GT(by_verb["LIST"] + by_verb["WATCH"], 0)
        << "no LIST or WATCH counted in kubabase_api_requests_total{verb}: renamed? The test "
           "proves nothing";
    ASSERT_GT(writes(*samples), 0)
        << "the Project's creation counted no write in kubabase_api_requests_total{verb}: "
           "renamed? The test proves nothing";
  }
  const auto writes_before = WritesByVerbAndResource(before);
  const auto writes_after = WritesByVerbAndResource(after);
  std::string diff;
  for (const auto& [key, count] : writes_after) {
    double was = writes_before.count(key) ? writes_before.at(key) : 0;
    if (count != was) diff += "  " + key + ": +" + std::to_string(count - was) + "\n";
  }
  EXPECT_TRUE(diff.empty()) << "writes during " << (reconciles_after - reconciles_before)
                            << " steady-state reconciles:\n"
                            << diff << Diagnostics(name);
  std::printf("steady state: %.0f reconciles in 16 s, %zu kinds of write\n",
              reconciles_after - reconciles_before, diff.empty() ? size_t{0} : size_t{1});
}

}  // namespace
}  // namespace kubabase::e2e
