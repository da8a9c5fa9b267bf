// Resources, quotas and plans (docs/security.md section 6): a Project gets what its plan allows
// and no more. Every container states requests and limits; the namespace holds the plan's
// ResourceQuota and LimitRange, which the apiserver enforces on anyone's pods; a spec beyond its
// plan is refused where its author looks. See project_fixture.h.
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "controller/base/quantity.h"
#include "controller/project/defaults.h"
#include "controller/project/plans.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

const Resource& ResourceQuotas() { return Resource::ResourceQuotas(); }
const Resource& LimitRanges() { return Resource::LimitRanges(); }

// "" when every container and init container of `pod_spec` states requests and limits of cpu and
// memory, else what is missing.
std::string MissingResources(const Json& pod_spec) {
  std::string missing;
  for (const char* list : {"containers", "initContainers"}) {
    if (!pod_spec.contains(list)) continue;
    for (const Json& container : pod_spec[list]) {
      for (const char* part : {"requests", "limits"}) {
        for (const char* resource : {"cpu", "memory"}) {
          const std::string pointer = fmt::format("/resources/{}/{}", part, resource);
          if (!container.contains(Json::json_pointer(pointer))) {
            missing += fmt::format(" {}{}", container.value("name", std::string("?")), pointer);
          }
        }
      }
    }
  }
  return missing;
}

// The quota's spec.hard equals the plan's, quantity by quantity.
bool HardIs(const Json& quota, const project::Plan& plan, std::string* why) {
  const Json hard = quota["spec"].value("hard", Json::object());
  *why = fmt::format("spec.hard={}", hard.dump());
  if (hard.size() != plan.quota.size()) return false;
  for (const auto& [key, value] : plan.quota) {
    if (!hard.contains(key) || !hard[key].is_string()) return false;
    if (ParseQuantity(hard[key].get<std::string>()) != ParseQuantity(value)) return false;
  }
  return true;
}

// A pod PSA "restricted" admits, asking for `resources` (none when null).
Json RestrictedPod(const std::string& name, const Json& resources) {
  Json container = {{"name", "extra"},
                    {"image", "busybox:1.36"},
                    {"securityContext",
                     {{"allowPrivilegeEscalation", false},
                      {"capabilities", {{"drop", Json::array({"ALL"})}}},
                      {"runAsNonRoot", true},
                      {"runAsUser", 1000},
                      {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
  if (!resources.is_null()) container["resources"] = resources;
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec", {{"containers", Json::array({container})}}}};
}

class PlansE2eTest : public ProjectE2eTest {};

TEST_F(PlansE2eTest, AReadyProjectHoldsItsPlansQuotaAndEveryContainerStatesRequestsAndLimits) {
  const std::string name = NewProjectName("plan");
  // postgres-meta too, so that every component with a container is rendered.
  ASSERT_TRUE(CreateProject(name, {{"meta", {{"enabled", true}}},
                                   {"rest", {{"resources", {{"limits", {{"memory", "512Mi"}}}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForReady(name));
  const std::string ns = ProjectNamespace(name);
  const project::Plan small = project::BuiltinPlans().at("small");

  StatusOr<Json> quota = Get(ResourceQuotas(), ns, "plan");
  ASSERT_TRUE(quota.ok()) << quota.status().ToString();
  std::string seen;
  EXPECT_TRUE(HardIs(*quota, small, &seen)) << seen;
  EXPECT_EQ(StringAt(*quota, "/metadata/labels/kubabase.io~1plan"), "small");
  EXPECT_EQ(StringAt(*quota, "/metadata/labels/kubabase.io~1project"), name);
  StatusOr<Json> project = GetProject(name);
  ASSERT_TRUE(project.ok());
  EXPECT_TRUE(HasOwner(*quota, StringAt(*project, "/metadata/uid")));
  // The quota controller counts the project's pods against it: it is the real thing.
  EXPECT_TRUE(WaitForObject(name, ResourceQuotas(), ns, "plan", "counting the project's pods",
                            [](const Json& q, std::string* why) {
                              *why = q.value("status", Json::object()).dump();
                              return ParseQuantity(StringAt(q, "/status/used/pods"))
                                         .value_or(0) >= 4;
                            },
                            60s));

  StatusOr<Json> range = Get(LimitRanges(), ns, "plan");
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(StringAt(*range, "/spec/limits/0/type"), "Container");
  EXPECT_EQ(StringAt(*range, "/spec/limits/0/default/cpu"), "500m");
  EXPECT_EQ(StringAt(*range, "/spec/limits/0/defaultRequest/memory"), "64Mi");
  EXPECT_EQ(StringAt(*range, "/spec/limits/1/type"), "PersistentVolumeClaim");
  EXPECT_EQ(StringAt(*range, "/spec/limits/1/max/storage"), "10Gi");

  // Every workload's pod template (the bootstrap Job's included) and every pod that runs.
  int templates = 0;
  for (const Resource* resource :
       {&Resource::Deployments(), &Resource::StatefulSets(), &Resource::Jobs()}) {
    StatusOr<Json> list = client_->List(*resource, ns, Selecting("kubabase.io/project=" + name));
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    for (const Json& workload : (*list)["items"]) {
      ++templates;
      EXPECT_EQ(MissingResources(workload["spec"]["template"]["spec"]), "")
          << resource->kind << " " << StringAt(workload, "/metadata/name");
    }
  }
  EXPECT_EQ(templates, 6) << "db, db-bootstrap-*, rest, auth, storage, meta";
  StatusOr<Json> pods = client_->List(Resource::Pods(), ns, {});
  ASSERT_TRUE(pods.ok()) << pods.status().ToString();
  EXPECT_GE((*pods)["items"].size(), 5u);
  for (const Json& pod : (*pods)["items"]) {
    EXPECT_EQ(MissingResources(pod["spec"]), "") << StringAt(pod, "/metadata/name");
  }
  // The spec's quantity replaces the default of that name only.
  StatusOr<Json> rest = Get(Resource::Deployments(), ns, "rest");
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(StringAt(*rest, "/spec/template/spec/containers/0/resources/limits/memory"), "512Mi");
  EXPECT_EQ(StringAt(*rest, "/spec/template/spec/containers/0/resources/limits/cpu"), "500m");

  // An author who deletes the quota (say, to lift it) finds it back.
  const std::string uid = StringAt(*quota, "/metadata/uid");
  ASSERT_TRUE(client_->Delete(ResourceQuotas(), ns, "plan").ok());
  EXPECT_TRUE(WaitForObject(name, ResourceQuotas(), ns, "plan", "restored",
                            [&](const Json& q, std::string* why) {
                              *why = fmt::format("uid {}", StringAt(q, "/metadata/uid"));
                              return StringAt(q, "/metadata/uid") != uid && HardIs(q, small, why);
                            },
                            kRestoreTimeout));
  // An edit that lifts it is put back too.
  ASSERT_TRUE(client_->MergePatch(ResourceQuotas(), ns, "plan",
                                  {{"spec", {{"hard", {{"limits.cpu", "1000"}}}}}})
                  .ok());
  EXPECT_TRUE(WaitForObject(name, ResourceQuotas(), ns, "plan", "repaired",
                            [&](const Json& q, std::string* why) { return HardIs(q, small, why); },
                            kRestoreTimeout));
}

TEST_F(PlansE2eTest, AnExtraPodBeyondTheQuotaIsRefusedByTheApiserver) {
  const std::string name = NewProjectName("quota");
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));
  const std::string ns = ProjectNamespace(name);
  // The quota's status is what admission checks against; wait until the controller filled it.
  ASSERT_TRUE(WaitForObject(name, ResourceQuotas(), ns, "plan", "with status.hard",
                            [](const Json& q, std::string* why) {
                              *why = q.value("status", Json::object()).dump();
                              return !StringAt(q, "/status/hard/limits.cpu").empty();
                            },
                            60s));

  // More CPU than the whole plan: refused at admission, whoever asks.
  StatusOr<Json> big = client_->Create(
      Resource::Pods(), ns,
      RestrictedPod("big", {{"requests", {{"cpu", "3"}, {"memory", "64Mi"}}},
                            {"limits", {{"cpu", "3"}, {"memory", "64Mi"}}}}));
  ASSERT_FALSE(big.ok()) << "a pod over the quota was admitted";
  EXPECT_EQ(big.status().code(), StatusCode::kPermissionDenied) << big.status().ToString();
  EXPECT_NE(big.status().message().find("exceeded quota: plan"), std::string::npos)
      << big.status().message();
  EXPECT_TRUE(Get(Resource::Pods(), ns, "big").status().IsNotFound());

  // A pod that states nothing gets the plan's defaults, so it too counts against the quota.
  StatusOr<Json> plain = client_->Create(Resource::Pods(), ns, RestrictedPod("plain", nullptr));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(StringAt(*plain, "/spec/containers/0/resources/limits/cpu"), "500m");
  EXPECT_EQ(StringAt(*plain, "/spec/containers/0/resources/requests/memory"), "64Mi");

  // Pods up to the plan's count, then no more: the 21st pod of plan small is refused.
  StatusOr<Json> listed = client_->List(Resource::Pods(), ns, {});
  ASSERT_TRUE(listed.ok());
  const Json tiny = {{"requests", {{"cpu", "1m"}, {"memory", "1Mi"}}},
                     {"limits", {{"cpu", "1m"}, {"memory", "1Mi"}}}};
  Status refused = Status::Ok();
  for (int i = 0; i < 25 && refused.ok(); ++i) {
    refused = client_->Create(Resource::Pods(), ns, RestrictedPod(fmt::format("tiny-{}", i), tiny))
                  .status();
  }
  ASSERT_FALSE(refused.ok()) << "25 more pods were admitted past a quota of 20";
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied) << refused.ToString();
  EXPECT_NE(refused.message().find("exceeded quota: plan"), std::string::npos)
      << refused.message();
  EXPECT_NE(refused.message().find("pods"), std::string::npos) << refused.message();
}

TEST_F(PlansE2eTest, ASpecBeyondItsPlanIsStalledNamingTheFieldAndNothingIsWritten) {
  const std::string name = NewProjectName("overplan");
  ASSERT_TRUE(CreateProject(name, {{"rest", {{"replicas", 3}}}}).ok());
  ASSERT_TRUE(WaitForNotReady(name, "PlanExceeded",
                              {"spec.rest.replicas: 3", "plan \"small\"", "maxReplicas 2"}));
  StatusOr<Json> stalled = GetProject(name);
  ASSERT_TRUE(stalled.ok());
  EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(name);
  EXPECT_EQ(StringAt(*stalled, "/status/phase"), "Failed");
  EXPECT_TRUE(WaitForWarning(name, "PlanExceeded"));
  StatusOr<Json> ns = Get(Resource::Namespaces(), "", ProjectNamespace(name));
  EXPECT_TRUE(!ns.ok() && ns.status().IsNotFound()) << "a refused Project got a namespace";

  // A volume over the cap.
  ASSERT_TRUE(PatchSpec(name, {{"rest", {{"replicas", 2}}},
                               {"database", {{"storage", {{"size", "20Gi"}}}}}}));
  ASSERT_TRUE(WaitForNotReady(name, "PlanExceeded",
                              {"spec.database.storage.size: 20Gi", "maxVolumeSize 10Gi"}));
  // A plan the operator does not have.
  ASSERT_TRUE(PatchSpec(name, {{"plan", "huge"}}));
  ASSERT_TRUE(WaitForNotReady(name, "UnknownPlan",
                              {"spec.plan: \"huge\"", "large, medium, small"}));
  // (No second Warning Event: the operator posts one when the Project becomes Stalled, and it
  // already was; the first refusal's Event is checked above.)
  ns = Get(Resource::Namespaces(), "", ProjectNamespace(name));
  EXPECT_TRUE(!ns.ok() && ns.status().IsNotFound()) << "a refused Project got a namespace";

  // A plan that allows it: Ready, under that plan's quota.
  ASSERT_TRUE(PatchSpec(name, {{"plan", "medium"}}));
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> quota = Get(ResourceQuotas(), ProjectNamespace(name), "plan");
  ASSERT_TRUE(quota.ok()) << quota.status().ToString();
  std::string seen;
  EXPECT_TRUE(HardIs(*quota, project::BuiltinPlans().at("medium"), &seen)) << seen;
  EXPECT_EQ(StringAt(*quota, "/metadata/labels/kubabase.io~1plan"), "medium");
}

// An admin's own plans, from a --plans-file.
class PlansFileE2eTest : public ProjectE2eTest {
 protected:
  void SetUp() override {
    path_ = fmt::format("/tmp/kubabase-plans-e2e-{}.yaml", RandomSuffix());
    std::FILE* file = std::fopen(path_.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs("plans:\n"
               "  solo:\n"
               "    quota: {limits.memory: 5Gi, pods: 12}\n"
               "    maxReplicas: 1\n"
               "    maxVolumeSize: 2Gi\n",
               file);
    std::fclose(file);
    ProjectE2eTest::SetUp();
  }
  void TearDown() override {
    ProjectE2eTest::TearDown();
    std::remove(path_.c_str());
  }
  std::vector<std::string> OperatorArgs() const override {
    return {"--plans-file=" + path_, "--default-plan=solo"};
  }
  std::string path_;
};

TEST_F(PlansFileE2eTest, TheAdminsPlansReplaceTheBuiltInOnes) {
  const std::string name = NewProjectName("solo");
  ASSERT_TRUE(CreateProject(name, {{"database", {{"storage", {{"size", "2Gi"}}}}},
                                   {"storage", {{"volume", {{"size", "1Gi"}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> quota = Get(ResourceQuotas(), ProjectNamespace(name), "plan");
  ASSERT_TRUE(quota.ok()) << quota.status().ToString();
  EXPECT_EQ(StringAt(*quota, "/metadata/labels/kubabase.io~1plan"), "solo");
  EXPECT_EQ(StringAt(*quota, "/spec/hard/limits.memory"), "5Gi");
  EXPECT_EQ(StringAt(*quota, "/spec/hard/pods"), "12");
  // "small" is not one of this operator's plans.
  ASSERT_TRUE(PatchSpec(name, {{"plan", "small"}}));
  ASSERT_TRUE(WaitForNotReady(name, "UnknownPlan", {"spec.plan: \"small\"", "its plans are solo"}));
}

}  // namespace
}  // namespace kubabase::e2e
