// ProjectE2eTest: the fixture every Project e2e test shares. Each test gets an admin client of the
// local control plane, the Project CRD, and (unless the subclass says no) its own operator
// process, run as the ServiceAccount of manifests/ with exactly its RBAC
// (harness::OperatorKubeconfig). Projects made through NewProjectName are deleted afterwards
// (cluster scoped, so names carry a random suffix); tests run one at a time (ctest RESOURCE_LOCK).
//
// Every wait is bounded and its failure prints the Project (metadata and status) and the tail of
// the operator's log.
//
//   TEST_F(ProjectE2eTest, Something) {
//     const std::string name = NewProjectName("hint");
//     ASSERT_TRUE(CreateProject(name, {{"deletionPolicy", "Delete"}}).ok());
//     ASSERT_TRUE(WaitForReady(name));
//   }
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "controller/kube/resource.h"
#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/harness.h"

namespace kubabase::e2e {

using namespace harness;  // NOLINT: the harness is the e2e tests' vocabulary

using kube::Resource;
using namespace std::chrono_literals;

inline const Resource& Projects() {
  static const Resource projects{.group = "kubabase.io",
                                 .version = "v1alpha1",
                                 .resource = "projects",
                                 .kind = "Project",
                                 .namespaced = false};
  return projects;
}

// Generous: the machine running these is small and shared.
constexpr auto kReadyTimeout = 180s;
constexpr auto kRestoreTimeout = 20s;
constexpr auto kGoneTimeout = 120s;

inline std::string RandomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 5; ++i) out.push_back(kChars[rng() % 36]);
  return out;
}

inline std::string ProjectNamespace(const std::string& project) { return "project-" + project; }

// The operator's default --shared-secrets-namespace: where a Project may take a Secret from when
// the Secret names it in kubabase.io/allowed-projects (docs/security.md). Tests create it when
// missing and never delete it (a namespace takes seconds to go, and the next test needs it).
inline constexpr char kSharedSecretsNamespace[] = "kubabase-shared";

inline std::string Labels(const Json& object) {
  return object.contains("metadata") && object["metadata"].contains("labels")
             ? object["metadata"]["labels"].dump()
             : "{}";
}

inline bool HasOwner(const Json& object, const std::string& uid) {
  Json::json_pointer p("/metadata/ownerReferences");
  if (!object.contains(p) || !object[p].is_array()) return false;
  for (const Json& ref : object[p]) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

inline bool ConditionIs(const Json& object, const std::string& type, const std::string& status) {
  Json condition = Condition(object, type);
  return condition.is_object() && condition.value("status", "") == status;
}

// "kind name: why" for a workload that is not fully ready.
inline bool WorkloadReady(const Json& workload, int64_t replicas, std::string* why) {
  const int64_t desired = IntAt(workload, "/spec/replicas");
  const int64_t ready = IntAt(workload, "/status/readyReplicas", 0);
  const int64_t updated = IntAt(workload, "/status/updatedReplicas", 0);
  const int64_t total = IntAt(workload, "/status/replicas", 0);
  *why = StringAt(workload, "/kind") + " " + StringAt(workload, "/metadata/name") +
         ": spec.replicas=" + std::to_string(desired) + " ready=" + std::to_string(ready) +
         " updated=" + std::to_string(updated) + " total=" + std::to_string(total);
  return desired == replicas && ready == replicas && updated == replicas && total == replicas &&
         IntAt(workload, "/status/observedGeneration") == IntAt(workload, "/metadata/generation");
}

// A test with a connection to the cluster, the CRD, and (unless the subclass says no) an operator.
class ProjectE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<kube::HttpApiClient>> client = ConnectToCluster(nullptr);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    Status crd = EnsureProjectCrd(*client_, 60s);
    ASSERT_TRUE(crd.ok()) << crd.ToString();
    if (WantsOperator()) {
      ASSERT_NO_FATAL_FAILURE(StartOperator());
    }
  }

  void TearDown() override {
    // Delete our Projects while the operator still runs (it removes its finalizer; Retain is the
    // quick path), then their namespaces without waiting (namespace deletion takes seconds).
    if (!operator_ || !operator_->Running()) {
      if (operator_) {
        std::printf("%s\n", operator_->LogTail(15).c_str());
        operator_.reset();
      }
      if (WantsOperator()) StartOperator();
    }
    for (const std::string& name : projects_) {
      (void)client_->MergePatch(Projects(), "", name, {{"spec", {{"deletionPolicy", "Retain"}}}});
      Status deleted = client_->Delete(Projects(), "", name);
      if (!deleted.ok() && !deleted.IsNotFound()) ADD_FAILURE() << deleted.ToString();
    }
    for (const std::string& name : projects_) {
      Status gone = WaitUntil(
          [&](std::string* why) {
            StatusOr<Json> got = client_->Get(Projects(), "", name);
            return !got.ok() && got.status().IsNotFound();
          },
          30s, "Project " + name + " to go");
      if (!gone.ok()) {
        ADD_FAILURE() << "cleanup: " << gone.ToString() << "\n" << Diagnostics(name);
        (void)client_->MergePatch(Projects(), "", name, {{"metadata", {{"finalizers", nullptr}}}});
      }
      (void)client_->Delete(Resource::Namespaces(), "", ProjectNamespace(name));
    }
    for (const auto& [ns, name] : secrets_) (void)client_->Delete(Resource::Secrets(), ns, name);
    if (operator_) {
      StatusOr<int> stopped = operator_->Stop(SIGTERM, 30s);
      EXPECT_TRUE(stopped.ok() && *stopped == 0)
          << (stopped.ok() ? "exit code " + std::to_string(*stopped) : stopped.status().ToString());
      if (HasFailure()) std::printf("%s\n", operator_->LogTail(60).c_str());
    }
  }

  virtual bool WantsOperator() const { return true; }
  virtual std::vector<std::string> OperatorArgs() const { return {}; }

  // An operator process as the ServiceAccount of manifests/, with OperatorArgs().
  StatusOr<std::unique_ptr<OperatorProcess>> StartOperatorProcess() {
    OperatorProcess::Options options;
    options.binary = OperatorBinary();
    KUBABASE_ASSIGN_OR_RETURN(options.kubeconfig, OperatorKubeconfig(*client_));
    options.extra_args = OperatorArgs();
    return OperatorProcess::Start(options);
  }

  void StartOperator() {
    StatusOr<std::unique_ptr<OperatorProcess>> started = StartOperatorProcess();
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    operator_ = std::move(*started);
    Status ready = operator_->WaitReady(60s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
  }

  // "e2e-<hint>-<random>", remembered for cleanup.
  std::string NewProjectName(const std::string& hint) {
    std::string name = "e2e-" + hint + "-" + RandomSuffix();
    projects_.push_back(name);
    return name;
  }

  static Json ProjectObject(const std::string& name, const Json& spec) {
    return {{"apiVersion", "kubabase.io/v1alpha1"},
            {"kind", "Project"},
            {"metadata", {{"name", name}, {"labels", {{"kubabase.io/e2e", "true"}}}}},
            {"spec", spec}};
  }

  StatusOr<Json> CreateProject(const std::string& name, const Json& spec = Json::object()) {
    return client_->Create(Projects(), "", ProjectObject(name, spec));
  }

  StatusOr<Json> GetProject(const std::string& name) {
    return client_->Get(Projects(), "", name);
  }

  ::testing::AssertionResult PatchSpec(const std::string& name, const Json& spec) {
    StatusOr<Json> patched = client_->MergePatch(Projects(), "", name, {{"spec", spec}});
    if (patched.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "patching spec of " << name << " with " << spec.dump()
                                         << ": " << patched.status().ToString();
  }

  StatusOr<Json> Get(const Resource& resource, const std::string& ns, const std::string& name) {
    return client_->Get(resource, ns, name);
  }

  // Creates namespace `name` unless it exists (it is not deleted afterwards).
  ::testing::AssertionResult EnsureNamespace(const std::string& name) {
    StatusOr<Json> created = client_->Create(
        Resource::Namespaces(), "",
        {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
    if (created.ok() || created.status().code() == StatusCode::kAlreadyExists) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "creating namespace " << name << ": "
                                         << created.status().ToString();
  }

  // Creates Secret ns/name holding `data` (encoded here), deleted after the test. `metadata` is
  // merged into its metadata (labels, annotations).
  ::testing::AssertionResult CreateSecret(const std::string& ns, const std::string& name,
                                          const std::map<std::string, std::string>& data,
                                          const Json& metadata = Json::object()) {
    Json encoded = Json::object();
    for (const auto& [key, value] : data) encoded[key] = project::Base64Encode(value);
    Json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", metadata},
                   {"data", encoded}};
    secret["metadata"]["name"] = name;
    StatusOr<Json> created = client_->Create(Resource::Secrets(), ns, secret);
    if (!created.ok()) {
      return ::testing::AssertionFailure() << "creating Secret " << ns << "/" << name << ": "
                                           << created.status().ToString();
    }
    secrets_.emplace_back(ns, name);
    return ::testing::AssertionSuccess();
  }

  // The Project (metadata without managedFields, status) and the operator's log tail.
  std::string Diagnostics(const std::string& name) {
    std::string out = "---- Project " + name + " ----\n";
    StatusOr<Json> project = GetProject(name);
    if (project.ok()) {
      Json shown = *project;
      if (shown.contains("metadata")) shown["metadata"].erase("managedFields");
      out += shown.dump(2) + "\n";
    } else {
      out += project.status().ToString() + "\n";
    }
    if (operator_) out += operator_->LogTail(40);
    return out;
  }

  // Polls until `condition` holds; on timeout the failure names `what`, the last thing seen and
  // the diagnostics of `project`.
  ::testing::AssertionResult Eventually(const std::string& project, const std::string& what,
                                        std::chrono::milliseconds timeout,
                                        const std::function<bool(std::string* why)>& condition) {
    Status waited = WaitUntil(condition, timeout, what);
    if (waited.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << waited.message() << "\n" << Diagnostics(project);
  }

  // Ready=True for the current generation: observedGeneration == metadata.generation on the
  // status and on the Ready condition.
  ::testing::AssertionResult WaitForReady(const std::string& name,
                                          std::chrono::milliseconds timeout = kReadyTimeout) {
    return Eventually(name, "Project " + name + " Ready=True at its current generation", timeout,
                      [&](std::string* why) {
                        StatusOr<Json> project = GetProject(name);
                        if (!project.ok()) {
                          *why = project.status().ToString();
                          return false;
                        }
                        const int64_t generation = IntAt(*project, "/metadata/generation");
                        Json ready = Condition(*project, "Ready");
                        *why = "phase=" + StringAt(*project, "/status/phase") + " generation=" +
                               std::to_string(generation) + " observedGeneration=" +
                               std::to_string(IntAt(*project, "/status/observedGeneration")) +
                               " Ready=" + ready.dump();
                        return ready.is_object() && ready.value("status", "") == "True" &&
                               IntAt(*project, "/status/observedGeneration") == generation &&
                               ready.value("observedGeneration", int64_t{-1}) == generation;
                      });
  }

  // The Events about Project `name` with `reason` (and `type`, when given), as the apiserver lists
  // them. The operator posts a cluster-scoped Project's Events to --events-namespace, which the
  // harness sets to "default".
  StatusOr<Json> ProjectEvents(const std::string& name, const std::string& reason,
                               const std::string& type = "") {
    return client_->List(Resource::Events(), "default",
                         Selecting("", "involvedObject.name=" + name + ",reason=" + reason +
                                           (type.empty() ? "" : ",type=" + type)));
  }

  // A Warning Event with `reason` about Project `name` (within 30 s).
  ::testing::AssertionResult WaitForWarning(const std::string& name, const std::string& reason) {
    return Eventually(name, "a Warning " + reason + " Event", 30s, [&](std::string* why) {
      StatusOr<Json> events = ProjectEvents(name, reason, "Warning");
      if (!events.ok()) {
        *why = events.status().ToString();
        return false;
      }
      *why = std::to_string((*events)["items"].size()) + " matching events";
      return !(*events)["items"].empty();
    });
  }

  // Ready=False with `reason` and a message naming each of `named` (what a user must read there).
  ::testing::AssertionResult WaitForNotReady(const std::string& name, const std::string& reason,
                                             const std::vector<std::string>& named,
                                             std::chrono::milliseconds timeout = 60s) {
    return Eventually(name, "Project " + name + " Ready=False reason " + reason, timeout,
                      [&](std::string* why) {
                        StatusOr<Json> project = GetProject(name);
                        if (!project.ok()) return false;
                        Json ready = Condition(*project, "Ready");
                        *why = ready.dump();
                        if (!ready.is_object() || ready.value("status", "") != "False" ||
                            ready.value("reason", "") != reason) {
                          return false;
                        }
                        for (const std::string& n : named) {
                          if (ready.value("message", "").find(n) == std::string::npos) return false;
                        }
                        return true;
                      });
  }

  // Waits until `resource` ns/name exists and `check` accepts it.
  ::testing::AssertionResult WaitForObject(const std::string& project, const Resource& resource,
                                           const std::string& ns, const std::string& name,
                                           const std::string& what,
                                           const std::function<bool(const Json&, std::string*)>& check,
                                           std::chrono::milliseconds timeout = kReadyTimeout) {
    return Eventually(project, resource.kind + " " + ns + "/" + name + " " + what, timeout,
                      [&](std::string* why) {
                        StatusOr<Json> got = Get(resource, ns, name);
                        if (!got.ok()) {
                          *why = got.status().ToString();
                          return false;
                        }
                        return check(*got, why);
                      });
  }

  ::testing::AssertionResult WaitForGone(const std::string& project, const Resource& resource,
                                         const std::string& ns, const std::string& name,
                                         std::chrono::milliseconds timeout = kGoneTimeout) {
    return Eventually(project, resource.kind + " " + (ns.empty() ? "" : ns + "/") + name + " gone",
                      timeout, [&](std::string* why) {
                        StatusOr<Json> got = Get(resource, ns, name);
                        if (got.ok()) {
                          *why = "still there, deletionTimestamp=" +
                                 StringAt(*got, "/metadata/deletionTimestamp");
                          return false;
                        }
                        *why = got.status().ToString();
                        return got.status().IsNotFound();
                      });
  }

  // Both generated Secrets' data, decoded.
  std::map<std::string, std::map<std::string, std::string>> KeySecrets(const std::string& project) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (std::string_view secret : {project::names::kDbCredentialsSecret,
                                    project::names::kApiKeysSecret}) {
      StatusOr<std::map<std::string, std::string>> data =
          SecretData(*client_, ProjectNamespace(project), std::string(secret));
      if (data.ok()) out[std::string(secret)] = *data;
    }
    return out;
  }

  std::vector<MetricSample> Metrics() {
    StatusOr<std::string> text = operator_->Scrape("/metrics");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? ParseMetrics(*text) : std::vector<MetricSample>{};
  }

  std::unique_ptr<kube::HttpApiClient> client_;
  std::unique_ptr<OperatorProcess> operator_;
  std::vector<std::string> projects_;
  std::vector<std::pair<std::string, std::string>> secrets_;  // CreateSecret's, for TearDown
};

}  // namespace kubabase::e2e
