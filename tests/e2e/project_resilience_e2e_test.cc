// End to end, the operator under stress: two Projects claiming one host (the second is stalled,
// the first untouched), SIGKILL mid-provisioning (no Secret regenerated), SIGTERM (prompt exit 0),
// an admission webhook that cannot be reached failing every Service write (shown at once, never
// Failed, recovered from), and a steady state that makes no writes (see project_fixture.h for the
// setup).
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
  const std::string host = "shared-" + suffix + ".kubabase.localhost";
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
// A failure that persists: an admission webhook nobody serves.

// A ValidatingWebhookConfiguration, failurePolicy Fail, on CREATE and UPDATE of the Services of
// one Project (objectSelector kubabase.io/project=<name>, so no other test's Services are
// touched), calling https://127.0.0.1:<a free port>/validate where nothing listens: the apiserver
// answers each of those writes 500 InternalError "failed calling webhook ... connection
// refused", as it does when a cluster's policy webhook is down. TearDown deletes it before the
// Projects, whatever the test did.
class UnreachableWebhookE2eTest : public ProjectE2eTest {
 protected:
  static constexpr char kWebhookName[] = "unreachable.e2e.kubabase.io";

  static const Resource& ValidatingWebhookConfigurations() {
    static const Resource resource{.group = "admissionregistration.k8s.io",
                                   .version = "v1",
                                   .resource = "validatingwebhookconfigurations",
                                   .kind = "ValidatingWebhookConfiguration",
                                   .namespaced = false};
    return resource;
  }

  void TearDown() override {
    if (client_ != nullptr) {
      if (!probe_.empty()) (void)client_->Delete(Resource::Services(), "default", probe_);
      if (!webhook_.empty()) {
        Status deleted = client_->Delete(ValidatingWebhookConfigurations(), "", webhook_);
        if (!deleted.ok() && !deleted.IsNotFound()) {
          ADD_FAILURE() << "cleanup: delete ValidatingWebhookConfiguration " << webhook_ << ": "
                        << deleted.ToString();
        }
      }
    }
    ProjectE2eTest::TearDown();
  }

  // Registers the webhook for `project`'s Services and waits until the apiserver enforces it: a
  // headless probe Service in "default" carrying only the project label (the operator watches
  // only what is labelled managed-by kubabase, so it never sees the probe) is refused with 500.
  ::testing::AssertionResult RegisterUnreachableWebhook(const std::string& project) {
    const int port = FreeLocalPort();
    if (port == 0) return ::testing::AssertionFailure() << "no free local port";
    url_ = "https://127.0.0.1:" + std::to_string(port) + "/validate";
    const std::string name = "e2e-unreachable-" + project;
    const Json labels = {{std::string(project::names::kProjectLabel), project}};
    Json configuration = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "ValidatingWebhookConfiguration"},
        {"metadata", {{"name", name}, {"labels", {{"kubabase.io/e2e", "true"}}}}},
        {"webhooks",
         {{{"name", kWebhookName},
           {"clientConfig", {{"url", url_}}},
           {"rules",
            {{{"apiGroups", {""}},
              {"apiVersions", {"v1"}},
              {"operations", {"CREATE", "UPDATE"}},
              {"resources", {"services"}},
              {"scope", "Namespaced"}}}},
           {"objectSelector", {{"matchLabels", labels}}},
           {"failurePolicy", "Fail"},
           {"sideEffects", "None"},
           {"admissionReviewVersions", {"v1"}},
           {"timeoutSeconds", 2}}}}};
    StatusOr<Json> created = client_->Create(ValidatingWebhookConfigurations(), "", configuration);
    if (!created.ok()) {
      return ::testing::AssertionFailure()
             << "create ValidatingWebhookConfiguration " << name << ": "
             << created.status().ToString();
    }
    webhook_ = name;
    probe_ = "e2e-webhook-probe-" + RandomSuffix();
    const Json probe = {{"apiVersion", "v1"},
                        {"kind", "Service"},
                        {"metadata", {{"name", probe_}, {"labels", labels}}},
                        {"spec", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}}};
    Status enforced = WaitUntil(
        [&](std::string* why) {
          StatusOr<Json> admitted = client_->Create(Resource::Services(), "default", probe);
          if (admitted.ok() || admitted.status().IsAlreadyExists()) {
            *why = "a probe Service was admitted";
            (void)client_->Delete(Resource::Services(), "default", probe_);
            return false;
          }
          *why = admitted.status().ToString();
          return admitted.status().http_status() == 500 &&
                 admitted.status().message().find("failed calling webhook") != std::string::npos;
        },
        30s, "the apiserver to call webhook " + name + " (500 failed calling webhook)");
    if (!enforced.ok()) return ::testing::AssertionFailure() << enforced.ToString();
    probe_.clear();
    return ::testing::AssertionSuccess();
  }

  // Deletes the webhook now (the test goes on without it).
  ::testing::AssertionResult RemoveWebhook() {
    Status deleted = client_->Delete(ValidatingWebhookConfigurations(), "", webhook_);
    if (!deleted.ok()) {
      return ::testing::AssertionFailure()
             << "delete ValidatingWebhookConfiguration " << webhook_ << ": " << deleted.ToString();
    }
    webhook_.clear();
    return ::testing::AssertionSuccess();
  }

  std::string webhook_;
  std::string probe_;
  std::string url_;
};

TEST_F(UnreachableWebhookE2eTest, EveryServiceWriteFailingShowsApplyFailedAtOnceThenBecomesReady) {
  const std::string name = NewProjectName("webhook");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(RegisterUnreachableWebhook(name));

  // Never Failed, never Stalled: the failure is transient as far as the operator can tell.
  std::string seen_failed;
  auto note_failed = [&](const Json& project) {
    if (seen_failed.empty() && (StringAt(project, "/status/phase") == "Failed" ||
                                ConditionIs(project, "Stalled", "True"))) {
      seen_failed = project.contains("status") ? project["status"].dump() : "{}";
    }
  };

  const auto created = std::chrono::steady_clock::now();
  ASSERT_TRUE(CreateProject(name).ok());
  // The first reconcile's first Service apply is refused, and that reconcile says so.
  Json failing;
  ASSERT_TRUE(Eventually(name, "Ready=False reason ApplyFailed naming the webhook", 60s,
                         [&](std::string* why) {
                           StatusOr<Json> project = GetProject(name);
                           if (!project.ok()) {
                             *why = project.status().ToString();
                             return false;
                           }
                           note_failed(*project);
                           Json ready = Condition(*project, "Ready");
                           *why = "phase=" + StringAt(*project, "/status/phase") +
                                  " Ready=" + ready.dump();
                           if (!ready.is_object() || ready.value("status", "") != "False" ||
                               ready.value("reason", "") != "ApplyFailed") {
                             return false;
                           }
                           failing = *project;
                           return true;
                         }));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - created).count();
  std::printf("Ready=False ApplyFailed %.2f s after the Project was created; status:\n%s\n",
              seconds, failing["status"].dump(2).c_str());

  Json ready = Condition(failing, "Ready");
  const std::string message = ready.value("message", "");
  EXPECT_EQ(message.rfind("retrying: ", 0), 0u) << message;
  for (const std::string& named :
       {"APPLY services " + ns + "/", std::string("failed calling webhook"),
        std::string(kWebhookName), url_}) {
    EXPECT_NE(message.find(named), std::string::npos) << "the message does not name " << named
                                                      << ": " << message;
  }
  EXPECT_EQ(message.find('\n'), std::string::npos) << "not sanitised to one line: " << message;
  EXPECT_LE(message.size(), 512u);
  EXPECT_EQ(ready.value("observedGeneration", int64_t{-1}), IntAt(failing, "/metadata/generation"));
  Json reconciling = Condition(failing, "Reconciling");
  EXPECT_EQ(reconciling.value("status", ""), "True") << reconciling.dump();
  EXPECT_EQ(reconciling.value("reason", ""), "ApplyFailed") << reconciling.dump();
  EXPECT_EQ(reconciling.value("message", ""), message);
  EXPECT_FALSE(ConditionIs(failing, "Stalled", "True")) << Diagnostics(name);
  EXPECT_EQ(StringAt(failing, "/status/phase"), "Provisioning") << Diagnostics(name);
  EXPECT_TRUE(seen_failed.empty()) << "a webhook that cannot be reached showed as Failed/Stalled: "
                                   << seen_failed;

  // What was applied before the refusal is there (the key Secrets come before any Service), and
  // no value of theirs is in the status.
  const auto secrets = KeySecrets(name);
  ASSERT_EQ(secrets.size(), 2u) << "the key Secrets were not applied before the Services";
  const std::string status_text = failing["status"].dump();
  for (const auto& [secret, data] : secrets) {
    for (const auto& [key, value] : data) {
      if (value.empty() || key == project::names::kSupabaseUrlKey) continue;  // an address
      EXPECT_EQ(status_text.find(value), std::string::npos)
          << "the value of " << secret << "/" << key << " is in the Project's status";
    }
  }
  // The refused Services do not exist.
  for (const char* service : {"db", "rest", "auth", "storage"}) {
    StatusOr<Json> got = Get(Resource::Services(), ns, service);
    EXPECT_TRUE(!got.ok() && got.status().IsNotFound())
        << "Service " << ns << "/" << service << " was admitted despite the webhook";
  }
  // A Warning Event says so too.
  EXPECT_TRUE(Eventually(name, "a Warning ApplyFailed Event for " + name, 30s,
                         [&](std::string* why) {
                           StatusOr<Json> events = ProjectEvents(name, "ApplyFailed", "Warning");
                           if (!events.ok()) {
                             *why = events.status().ToString();
                             return false;
                           }
                           *why = std::to_string((*events)["items"].size()) + " matching events";
                           return !(*events)["items"].empty();
                         }));

  // The webhook gone, the operator's next retry applies the Services: Ready, the failure cleared.
  ASSERT_TRUE(RemoveWebhook());
  const auto removed = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually(name, "Project " + name + " Ready=True at its current generation",
                         kReadyTimeout, [&](std::string* why) {
                           StatusOr<Json> project = GetProject(name);
                           if (!project.ok()) {
                             *why = project.status().ToString();
                             return false;
                           }
                           note_failed(*project);
                           const int64_t generation = IntAt(*project, "/metadata/generation");
                           Json now_ready = Condition(*project, "Ready");
                           *why = "phase=" + StringAt(*project, "/status/phase") +
                                  " Ready=" + now_ready.dump();
                           return now_ready.value("status", "") == "True" &&
                                  now_ready.value("observedGeneration", int64_t{-1}) == generation;
                         }));
  std::printf("Ready %.2f s after the webhook was deleted\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - removed).count());
  StatusOr<Json> recovered = GetProject(name);
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE(ConditionIs(*recovered, "Reconciling", "False")) << Diagnostics(name);
  EXPECT_TRUE(ConditionIs(*recovered, "Stalled", "False")) << Diagnostics(name);
  EXPECT_EQ(StringAt(*recovered, "/status/phase"), "Ready");
  EXPECT_TRUE(seen_failed.empty()) << "showed as Failed/Stalled on the way: " << seen_failed;
  for (const char* service : {"db", "rest", "auth", "storage"}) {
    EXPECT_TRUE(Get(Resource::Services(), ns, service).ok())
        << "no Service " << ns << "/" << service;
  }
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
