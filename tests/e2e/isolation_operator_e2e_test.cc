// The operator's own reach (docs/security.md section 5). Two things a stolen operator token or a
// careless user could do, each shown refused against the local control plane's real apiserver:
//   - write outside the namespaces the operator manages: the ValidatingAdmissionPolicy of
//     manifests/operator-reach-policy.yaml (installed with the operator's identity by
//     harness::InstallOperatorIdentity) refuses it, while the operator, running as that same
//     ServiceAccount, still brings Projects to Ready and deletes them under both policies;
//   - fill the operator's memory with objects labelled app.kubernetes.io/managed-by=kubabase
//     elsewhere: the watches drop them as they arrive, while watching and when listing at start.
// See project_fixture.h.
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "controller/kube/kubeconfig.h"
#include "controller/project/names.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

constexpr char kPolicyName[] = "kubabase-operator-reach";

// POST ...?dryRun=All: admission runs (the policy with it), nothing is stored.
const Resource& DryRunConfigMaps() {
  static const Resource kDryRun{"", "v1", "configmaps?dryRun=All", "ConfigMap", true};
  return kDryRun;
}

Json Metadata(const std::string& name, const Json& labels = Json::object()) {
  Json metadata = {{"name", name}};
  if (!labels.empty()) metadata["labels"] = labels;
  return metadata;
}

Json ManagedByUs() {
  return {{std::string(project::names::kManagedByLabel),
           std::string(project::names::kManagedByValue)}};
}

Json ConfigMapObject(const std::string& name, const Json& labels = Json::object(),
                     const Json& data = Json::object()) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", Metadata(name, labels)},
          {"data", data}};
}

Json NamespaceObject(const std::string& name, const Json& labels = Json::object()) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Metadata(name, labels)}};
}

class OperatorReachTest : public ProjectE2eTest {
 protected:
  void TearDown() override {
    for (const std::string& ns : namespaces_) (void)client_->Delete(Resource::Namespaces(), "", ns);
    ProjectE2eTest::TearDown();
  }

  // A client that authenticates as the operator's ServiceAccount, with the token the operator
  // under test runs with (a fresh TokenRequest of the same ServiceAccount).
  std::unique_ptr<kube::HttpApiClient> OperatorClient() {
    StatusOr<std::string> path = OperatorKubeconfig(*client_);
    EXPECT_TRUE(path.ok()) << path.status().ToString();
    if (!path.ok()) return nullptr;
    StatusOr<kube::ClientConfig> config = kube::LoadKubeconfig(*path, "");
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    if (!config.ok()) return nullptr;
    kube::HttpApiClientOptions options;
    options.qps = 100;
    options.burst = 200;
    options.user_agent = "kubabase-e2e-as-operator";
    StatusOr<std::unique_ptr<kube::HttpApiClient>> client =
        kube::HttpApiClient::Create(*config, options);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : nullptr;
  }

  // A namespace made by the admin, deleted in TearDown.
  void MakeNamespace(const std::string& name, const Json& labels = Json::object()) {
    StatusOr<Json> created = client_->Create(Resource::Namespaces(), "", NamespaceObject(name, labels));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    namespaces_.push_back(name);
  }

  // The apiserver loads a new policy a moment after it is written: wait until it refuses the
  // operator's dry-run write into kube-system.
  void WaitForPolicy(kube::ApiClient& as_operator) {
    Status enforced = WaitUntil(
        [&](std::string* why) {
          StatusOr<Json> created = as_operator.Create(DryRunConfigMaps(), "kube-system",
                                                      ConfigMapObject("e2e-reach-probe"));
          *why = created.ok() ? "the dry-run create was allowed" : created.status().ToString();
          return !created.ok() &&
                 created.status().message().find(kPolicyName) != std::string::npos;
        },
        30s, "the ValidatingAdmissionPolicy " + std::string(kPolicyName) + " to be enforced");
    ASSERT_TRUE(enforced.ok()) << enforced.ToString();
  }

  // `attempt` was refused by the policy: 403, the policy's name and `message` in the error.
  static ::testing::AssertionResult RefusedByPolicy(const Status& attempt,
                                                    const std::string& message) {
    if (attempt.ok()) return ::testing::AssertionFailure() << "allowed";
    if (attempt.code() != StatusCode::kPermissionDenied ||
        attempt.message().find(kPolicyName) == std::string::npos ||
        attempt.message().find(message) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "refused, but not by the policy with \"" << message << "\": " << attempt.ToString();
    }
    return ::testing::AssertionSuccess() << attempt.message();
  }

  double OperatorMetric(const std::string& name, const std::map<std::string, std::string>& match) {
    return SumMetric(Metrics(), name, match);
  }

  std::vector<std::string> namespaces_;
};

TEST_F(OperatorReachTest, ThePolicyAndItsBindingAreInstalledAndHaveNoTypeErrors) {
  StatusOr<Json> policy = client_->Get(ValidatingAdmissionPolicies(), "", kPolicyName);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  StatusOr<Json> binding = client_->Get(ValidatingAdmissionPolicyBindings(), "", kPolicyName);
  ASSERT_TRUE(binding.ok()) << binding.status().ToString();
  EXPECT_EQ(StringAt(*binding, "/spec/policyName"), kPolicyName);
  EXPECT_EQ((*binding)["spec"]["validationActions"], Json::array({"Deny"}));
  // The apiserver type-checks the expressions and reports problems in the status.
  Status checked = WaitUntil(
      [&](std::string* why) {
        StatusOr<Json> got = client_->Get(ValidatingAdmissionPolicies(), "", kPolicyName);
        if (!got.ok()) return false;
        *why = got->value("status", Json::object()).dump();
        return IntAt(*got, "/status/observedGeneration") == IntAt(*got, "/metadata/generation");
      },
      30s, "the policy's status to be observed");
  ASSERT_TRUE(checked.ok()) << checked.ToString();
  StatusOr<Json> got = client_->Get(ValidatingAdmissionPolicies(), "", kPolicyName);
  ASSERT_TRUE(got.ok());
  Json::json_pointer warnings("/status/typeChecking/expressionWarnings");
  EXPECT_TRUE(!got->contains(warnings) || (*got)[warnings].empty()) << (*got)["status"].dump(2);
}

TEST_F(OperatorReachTest, TheOperatorBringsProjectsToReadyAndDeletesThemUnderThePolicy) {
  std::unique_ptr<kube::HttpApiClient> as_operator = OperatorClient();
  ASSERT_NE(as_operator, nullptr);
  ASSERT_NO_FATAL_FAILURE(WaitForPolicy(*as_operator));
  const std::string deleted = NewProjectName("reach-delete");
  const std::string kept = NewProjectName("reach-retain");
  ASSERT_TRUE(CreateProject(deleted, {{"deletionPolicy", "Delete"}}).ok());
  ASSERT_TRUE(CreateProject(kept, {{"deletionPolicy", "Retain"}}).ok());
  ASSERT_TRUE(WaitForReady(deleted));
  ASSERT_TRUE(WaitForReady(kept));

  ASSERT_TRUE(client_->Delete(Projects(), "", deleted).ok());
  ASSERT_TRUE(client_->Delete(Projects(), "", kept).ok());
  EXPECT_TRUE(WaitForGone(deleted, Projects(), "", deleted));
  EXPECT_TRUE(WaitForGone(deleted, Resource::Namespaces(), "", ProjectNamespace(deleted)));
  EXPECT_TRUE(WaitForGone(kept, Projects(), "", kept));
  // Retain relabelled the namespace it keeps (a patch of a namespace the policy allows).
  StatusOr<Json> retained = Get(Resource::Namespaces(), "", ProjectNamespace(kept));
  ASSERT_TRUE(retained.ok()) << retained.status().ToString();
  EXPECT_EQ(StringAt(*retained, "/metadata/labels/kubabase.io~1retained"), "true")
      << Labels(*retained);

  // Not one of the operator's requests was refused along the way.
  EXPECT_EQ(OperatorMetric("kubabase_api_requests_total", {{"code", "403"}}), 0)
      << operator_->LogTail(40);
}

TEST_F(OperatorReachTest, TheOperatorsTokenIsRefusedOutsideTheNamespacesItManages) {
  std::unique_ptr<kube::HttpApiClient> as_operator = OperatorClient();
  ASSERT_NE(as_operator, nullptr);
  ASSERT_NO_FATAL_FAILURE(WaitForPolicy(*as_operator));
  const std::string suffix = RandomSuffix();
  const std::string foreign = "e2e-foreign-" + suffix;       // someone else's, unlabelled
  const std::string managed = "project-e2e-reach-" + suffix;  // as the operator makes them
  const std::string squatted = "project-e2e-squat-" + suffix;  // the prefix, not the label
  ASSERT_NO_FATAL_FAILURE(MakeNamespace(foreign));
  ASSERT_NO_FATAL_FAILURE(MakeNamespace(managed, ManagedByUs()));
  ASSERT_NO_FATAL_FAILURE(MakeNamespace(squatted));

  // The controls: the same token may write where the operator works, so every refusal below is
  // the policy's and not a broken token.
  ASSERT_TRUE(as_operator->Create(Resource::ConfigMaps(), managed, ConfigMapObject("ok")).ok());
  // An Event about a ConfigMap of the namespace it is posted in (the apiserver's validation).
  auto event = [&](const std::string& ns) -> Json {
    return {{"apiVersion", "v1"},
            {"kind", "Event"},
            {"metadata", Metadata("e2e-reach-" + suffix)},
            {"involvedObject", {{"kind", "ConfigMap"}, {"namespace", ns}, {"name", "x"}}},
            {"reason", "E2eReach"},
            {"message", "only in the events namespace"},
            {"type", "Normal"}};
  };
  StatusOr<Json> allowed_event = as_operator->Create(Resource::Events(), "default", event("default"));
  ASSERT_TRUE(allowed_event.ok()) << allowed_event.status().ToString();
  (void)client_->Delete(Resource::Events(), "default", "e2e-reach-" + suffix);

  const std::string outside = "only in namespaces named project-* that carry "
                              "app.kubernetes.io/managed-by=kubabase";
  // Secrets, ConfigMaps and workloads in kube-system and in a namespace that is not ours.
  const Json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", Metadata("stolen")},
                       {"stringData", {{"token", "x"}}}};
  EXPECT_TRUE(RefusedByPolicy(as_operator->Create(Resource::Secrets(), "kube-system", secret).status(),
                              "kubabase may write secrets " + outside + "; kube-system is not one"));
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->Create(Resource::ConfigMaps(), foreign, ConfigMapObject("x")).status(),
      "kubabase may write configmaps " + outside + "; " + foreign + " is not one"));
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->Create(Resource::ConfigMaps(), squatted, ConfigMapObject("x")).status(),
      "; " + squatted + " is not one"));
  const Json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", Metadata("miner")},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "miner"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "miner"}}}}},
          {"spec", {{"containers", Json::array({{{"name", "m"}, {"image", "busybox"}}})}}}}}}}};
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->Create(Resource::Deployments(), "kube-system", deployment).status(),
      "kubabase may write deployments " + outside));
  // Deleting someone else's objects too.
  ASSERT_TRUE(client_->Create(Resource::ConfigMaps(), foreign, ConfigMapObject("victim")).ok());
  EXPECT_TRUE(RefusedByPolicy(as_operator->Delete(Resource::ConfigMaps(), foreign, "victim"),
                              "kubabase may write configmaps"));

  // Namespaces: none without the prefix, none without the label, no taking one over.
  const std::string ns_rule = "kubabase may create, change or delete only namespaces named "
                              "project-* that carry app.kubernetes.io/managed-by=kubabase";
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->Create(Resource::Namespaces(), "", NamespaceObject("e2e-evil-" + suffix, ManagedByUs()))
          .status(),
      ns_rule));
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->Create(Resource::Namespaces(), "", NamespaceObject("project-e2e-bare-" + suffix))
          .status(),
      ns_rule));
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->MergePatch(Resource::Namespaces(), "", squatted, {{"metadata", {{"labels", ManagedByUs()}}}})
          .status(),
      ns_rule + " before and after the change; " + squatted + " is not one"));
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->MergePatch(Resource::Namespaces(), "", "kube-system",
                              {{"metadata", {{"labels", {{"e2e", "x"}}}}}})
          .status(),
      ns_rule));
  EXPECT_TRUE(RefusedByPolicy(as_operator->Delete(Resource::Namespaces(), "", foreign), ns_rule));

  // Events only in --events-namespace.
  EXPECT_TRUE(RefusedByPolicy(as_operator->Create(Resource::Events(), "kube-system", event("kube-system")).status(),
                              "kubabase may write Events only in namespace default "
                              "(its --events-namespace), not in kube-system"));

  // Nothing of it happened.
  EXPECT_TRUE(Get(Resource::Secrets(), "kube-system", "stolen").status().IsNotFound());
  EXPECT_TRUE(Get(Resource::ConfigMaps(), foreign, "x").status().IsNotFound());
  EXPECT_TRUE(Get(Resource::Deployments(), "kube-system", "miner").status().IsNotFound());
  EXPECT_TRUE(Get(Resource::ConfigMaps(), foreign, "victim").ok());
  EXPECT_TRUE(Get(Resource::Namespaces(), "", "e2e-evil-" + suffix).status().IsNotFound());
  StatusOr<Json> still = Get(Resource::Namespaces(), "", squatted);
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(StringAt(*still, "/metadata/labels/app.kubernetes.io~1managed-by"), "");
  EXPECT_TRUE(Get(Resource::Namespaces(), "", foreign).ok());
}

TEST_F(OperatorReachTest, TheTokenMayNotChangeAProjectsSpec) {
  std::unique_ptr<kube::HttpApiClient> as_operator = OperatorClient();
  ASSERT_NE(as_operator, nullptr);
  ASSERT_NO_FATAL_FAILURE(WaitForPolicy(*as_operator));
  const std::string name = NewProjectName("reach-spec");
  ASSERT_TRUE(CreateProject(name, {{"deletionPolicy", "Retain"}}).ok());
  EXPECT_TRUE(RefusedByPolicy(
      as_operator->MergePatch(Projects(), "", name, {{"spec", {{"deletionPolicy", "Delete"}}}})
          .status(),
      "kubabase may write only the status and the finalizers of a Project"));
  StatusOr<Json> project = GetProject(name);
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(StringAt(*project, "/spec/deletionPolicy"), "Retain");
}

// ---------------------------------------------------------------------------------------------
// The cache: 250 ConfigMaps of 900 KiB labelled as ours in a namespace that is not, about 220 MiB
// in all, against a memory limit of 256 MiB (manifests/deployment.yaml, the chart's default).

constexpr int kInflating = 250;
constexpr size_t kInflatingBytes = 900 * 1024;
// Half the memory limit: the operator idles at a few tens of MiB; 250 cached ConfigMaps alone
// would be over 220 MiB.
constexpr int64_t kRssBoundKiB = 128 * 1024;
// While a list is read one page (50 objects, here 45 MiB) is held as the response and as parsed
// JSON at once, on the HTTP client's threads: measured 145-175 MiB. Three quarters of the limit.
constexpr int64_t kListPeakBoundKiB = 192 * 1024;

class CacheInflationTest : public OperatorReachTest {
 protected:
  double CachedConfigMaps() {
    return OperatorMetric("kubabase_cache_objects", {{"resource", "configmaps"}});
  }
  double IgnoredConfigMaps() {
    return OperatorMetric("kubabase_cache_ignored_total", {{"resource", "configmaps"}});
  }

  // Creates kInflating large labelled ConfigMaps in `ns` with a few parallel clients.
  void Inflate(const std::string& ns) {
    const Json labels = {{std::string(project::names::kManagedByLabel),
                          std::string(project::names::kManagedByValue)},
                         {std::string(project::names::kProjectLabel), "e2e-victim"}};
    const std::string blob(kInflatingBytes, 'x');
    constexpr int kWriters = 5;
    std::atomic<int> next{0};
    std::vector<std::string> errors(kWriters);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        StatusOr<std::unique_ptr<kube::HttpApiClient>> client = ConnectToCluster(nullptr);
        if (!client.ok()) {
          errors[w] = client.status().ToString();
          return;
        }
        for (int i = next++; i < kInflating; i = next++) {
          StatusOr<Json> created =
              (*client)->Create(Resource::ConfigMaps(), ns,
                                ConfigMapObject("inflate-" + std::to_string(i), labels,
                                                {{"blob", blob}}));
          if (!created.ok() && !created.status().IsAlreadyExists()) {
            errors[w] = created.status().ToString();
            return;
          }
        }
      });
    }
    for (std::thread& t : writers) t.join();
    for (const std::string& error : errors) ASSERT_EQ(error, "");
  }
};

TEST_F(CacheInflationTest, LabelledConfigMapsOutsideItsNamespacesNeitherFillTheCacheNorItsMemory) {
  const std::string ns = "e2e-inflate-" + RandomSuffix();
  ASSERT_NO_FATAL_FAILURE(MakeNamespace(ns));
  const double cached_before = CachedConfigMaps();
  const double ignored_before = IgnoredConfigMaps();

  // While it watches: each arrives as an event and is dropped.
  ASSERT_NO_FATAL_FAILURE(Inflate(ns));
  Status seen = WaitUntil(
      [&](std::string* why) {
        const double ignored = IgnoredConfigMaps() - ignored_before;
        *why = std::to_string(ignored) + " ignored";
        return ignored >= kInflating;
      },
      120s, "the operator's watch to deliver every labelled ConfigMap");
  ASSERT_TRUE(seen.ok()) << seen.ToString() << "\n" << operator_->LogTail(20);
  EXPECT_LE(CachedConfigMaps(), cached_before) << "none of them was cached";
  EXPECT_LT(operator_->RssKiB(), kRssBoundKiB) << "VmRSS";

  // At start: listed (in pages of 50) and dropped page by page.
  StatusOr<int> stopped = operator_->Stop(SIGTERM, 30s);
  ASSERT_TRUE(stopped.ok() && *stopped == 0);
  operator_.reset();
  ASSERT_NO_FATAL_FAILURE(StartOperator());
  EXPECT_GE(IgnoredConfigMaps(), kInflating) << "the list returned them";
  EXPECT_LE(CachedConfigMaps(), cached_before);
  EXPECT_LT(operator_->PeakRssKiB(), kListPeakBoundKiB) << "VmHWM: the peak, during the list";
  EXPECT_LT(operator_->RssKiB(), kRssBoundKiB) << "VmRSS once listed: the dropped pages returned";
  std::printf("operator RSS after listing %d ConfigMaps of %zu KiB: %lld KiB (peak %lld KiB)\n",
              kInflating, kInflatingBytes / 1024, static_cast<long long>(operator_->RssKiB()),
              static_cast<long long>(operator_->PeakRssKiB()));
}

}  // namespace
}  // namespace kubabase::e2e
