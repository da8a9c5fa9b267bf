#include "controller/project/plans.h"

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

TEST(BuiltinPlans, AreSmallMediumAndLargeEachHoldingTheDefaultProject) {
  const std::map<std::string, Plan> plans = BuiltinPlans();
  ASSERT_EQ(plans.size(), 3u);
  for (const char* name : {"small", "medium", "large"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(plans.count(name), 1u);
    EXPECT_EQ(plans.at(name).quota.size(), PlanQuotaKeys().size()) << "every quota key set";
    Defaults defaults;
    ProjectSpec spec;
    spec.plan = name;
    EXPECT_FALSE(CheckPlan(spec, defaults)) << CheckPlan(spec, defaults)->message;
  }
  EXPECT_EQ(Defaults().default_plan, "small");
}

TEST(ParsePlans, ReadsEveryField) {
  StatusOr<std::map<std::string, Plan>> plans = ParsePlans(R"(
plans:
  starter:
    quota: {requests.cpu: "1", requests.memory: 2Gi, limits.cpu: 4, limits.memory: 4Gi,
            requests.storage: 10Gi, pods: 12, persistentvolumeclaims: 2}
    limitRange:
      defaultRequest: {cpu: 20m, memory: 32Mi}
      default: {cpu: 200m, memory: 128Mi}
    maxReplicas: 1
    maxVolumeSize: 5Gi
  bare: {}
)",
                                                           "plans.yaml");
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ASSERT_EQ(plans->size(), 2u);
  const Plan& starter = plans->at("starter");
  EXPECT_EQ(starter.quota.at("limits.cpu"), "4");
  EXPECT_EQ(starter.quota.at("pods"), "12");
  EXPECT_EQ(starter.quota.size(), 7u);
  EXPECT_EQ(starter.container_defaults.requests,
            (std::map<std::string, std::string>{{"cpu", "20m"}, {"memory", "32Mi"}}));
  EXPECT_EQ(starter.container_defaults.limits.at("memory"), "128Mi");
  EXPECT_EQ(starter.max_replicas, 1);
  EXPECT_EQ(starter.max_volume_size, "5Gi");
  // Unstated: no quota, one replica, no volume cap, the built-in container defaults.
  const Plan& bare = plans->at("bare");
  EXPECT_TRUE(bare.quota.empty());
  EXPECT_EQ(bare.max_replicas, 1);
  EXPECT_EQ(bare.max_volume_size, "");
  EXPECT_EQ(bare.container_defaults, Plan().container_defaults);
}

TEST(ParsePlans, RefusesWhatCouldSilentlyLiftALimit) {
  for (const auto& [yaml, expected] : std::vector<std::pair<std::string, std::string>>{
           {"plans: [", "f: not YAML"},
           {"other: 1", "f: must hold a map `plans` of at least one plan by name"},
           {"plans: {}", "f: must hold a map `plans` of at least one plan by name"},
           {"plans: {a: {}}\nextra: 1", "f: extra: unknown field; the file has `plans` only"},
           {"plans: {Big: {}}", "f: plans.Big: a plan's name must be a lower-case DNS label"},
           {"plans: {a: {maxReplica: 2}}",
            "f: plans.a.maxReplica: unknown field; a plan has quota, limitRange, maxReplicas and "
            "maxVolumeSize"},
           {"plans: {a: {quota: {cpu: 1}}}",
            "f: plans.a.quota.cpu: not a quota a plan may set; one of requests.cpu, "
            "requests.memory, limits.cpu, limits.memory, requests.storage, pods, "
            "persistentvolumeclaims"},
           {"plans: {a: {quota: {pods: lots}}}",
            "f: plans.a.quota.pods: \"lots\" is not a non-negative quantity"},
           {"plans: {a: {quota: {limits.cpu: \"-1\"}}}",
            "f: plans.a.quota.limits.cpu: \"-1\" is not a non-negative quantity"},
           {"plans: {a: {maxReplicas: 0}}", "f: plans.a.maxReplicas: 0 is not a whole number"},
           {"plans: {a: {maxReplicas: \"2\"}}",
            "f: plans.a.maxReplicas: \"2\" is not a whole number"},
           {"plans: {a: {maxVolumeSize: big}}", "f: plans.a.maxVolumeSize: \"big\" is not"},
           {"plans: {a: {limitRange: {max: {cpu: 1}}}}",
            "f: plans.a.limitRange.max: unknown field; limitRange has defaultRequest and "
            "default"},
           {"plans: {a: {quota: 3}}", "f: plans.a.quota: must be a map of quantities"}}) {
    SCOPED_TRACE(yaml);
    StatusOr<std::map<std::string, Plan>> plans = ParsePlans(yaml, "f");
    ASSERT_FALSE(plans.ok());
    EXPECT_EQ(plans.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(plans.status().message().find(expected), std::string::npos)
        << plans.status().message();
  }
}

const ComputeResources kDefaults{.requests = {{"cpu", "50m"}, {"memory", "64Mi"}},
                                 .limits = {{"cpu", "500m"}, {"memory", "256Mi"}}};

TEST(ContainerResources, AreTheDefaultsWithTheSpecsQuantitiesOnTop) {
  EXPECT_EQ(ContainerResources(kDefaults, Json::object()),
            Json::parse(R"({"requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"cpu": "500m", "memory": "256Mi"}})"));
  EXPECT_EQ(ContainerResources(kDefaults, Json::parse(R"({"limits": {"memory": "1Gi"}})")),
            Json::parse(R"({"requests": {"cpu": "50m", "memory": "64Mi"},
                            "limits": {"cpu": "500m", "memory": "1Gi"}})"));
  // Both sides stated: taken as they are (the apiserver judges them).
  EXPECT_EQ(ContainerResources(kDefaults, Json::parse(R"({"requests": {"cpu": "2"},
                                                          "limits": {"cpu": "3"}})")),
            Json::parse(R"({"requests": {"cpu": "2", "memory": "64Mi"},
                            "limits": {"cpu": "3", "memory": "256Mi"}})"));
  // Claims are the spec's.
  EXPECT_EQ(ContainerResources(kDefaults, Json::parse(R"({"claims": [{"name": "gpu"}]})"))["claims"],
            Json::parse(R"([{"name": "gpu"}])"));
}

TEST(ContainerResources, OneSideOfAPairMovesTheDefaultOtherSideSoThePairStaysValid) {
  // A request above the default limit lifts the limit; a limit below the default request lowers
  // the request.
  EXPECT_EQ(ContainerResources(kDefaults, Json::parse(R"({"requests": {"memory": "1Gi", "cpu": 1}})")),
            Json::parse(R"({"requests": {"cpu": 1, "memory": "1Gi"},
                            "limits": {"cpu": 1, "memory": "1Gi"}})"));
  EXPECT_EQ(ContainerResources(kDefaults, Json::parse(R"({"limits": {"cpu": "10m"}})")),
            Json::parse(R"({"requests": {"cpu": "10m", "memory": "64Mi"},
                            "limits": {"cpu": "10m", "memory": "256Mi"}})"));
}

TEST(ContainerResources, EveryComponentWithAContainerDeclaresRequestsAndLimits) {
  for (const ComponentDef* def : Components()) {
    if (def->workload_resource == nullptr) continue;
    SCOPED_TRACE(def->key);
    for (const char* resource : {"cpu", "memory"}) {
      EXPECT_EQ(def->resources.requests.count(resource), 1u) << resource;
      EXPECT_EQ(def->resources.limits.count(resource), 1u) << resource;
    }
  }
}

TEST(CheckPlan, AnUnknownPlanNamesThePlansThereAre) {
  ProjectSpec spec;
  spec.plan = "xl";
  std::optional<Problem> refused = CheckPlan(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "UnknownPlan");
  EXPECT_EQ(refused->message,
            "spec.plan: \"xl\" is not a plan of this operator; its plans are large, medium, "
            "small. Set spec.plan to one of them, or leave it empty for the default (\"small\")");
}

TEST(CheckPlan, ReplicasOverThePlanNameTheFieldTheValueAndTheCap) {
  ProjectSpec spec;
  spec.rest.replicas = 3;
  std::optional<Problem> refused = CheckPlan(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "PlanExceeded");
  EXPECT_EQ(refused->message,
            "spec.rest.replicas: 3 is more than plan \"small\" allows (maxReplicas 2); lower it, "
            "or choose a larger spec.plan");
  spec.plan = "medium";
  EXPECT_FALSE(CheckPlan(spec, Defaults()));
  // Paused or not: unpausing must not break the plan.
  spec.plan = "";
  spec.paused = true;
  EXPECT_TRUE(CheckPlan(spec, Defaults()));
  // A disabled component asks for nothing.
  spec.paused = false;
  spec.rest.enabled = false;
  EXPECT_FALSE(CheckPlan(spec, Defaults()));
}

TEST(CheckPlan, AVolumeOverThePlanNamesTheFieldTheValueAndTheCap) {
  ProjectSpec spec;
  spec.database.storage.size = "20Gi";
  std::optional<Problem> refused = CheckPlan(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "PlanExceeded");
  EXPECT_EQ(refused->message,
            "spec.database.storage.size: 20Gi is more than plan \"small\" allows (maxVolumeSize "
            "10Gi); lower it, or choose a larger spec.plan");
  spec.database.storage.size = "10Gi";
  spec.storage.volume.size = "11Gi";
  ASSERT_TRUE(CheckPlan(spec, Defaults()));
  EXPECT_NE(CheckPlan(spec, Defaults())->message.find("spec.storage.volume.size: 11Gi"),
            std::string::npos);
  // With the s3 backend there is no volume to cap.
  spec.storage.backend = StorageBackend::kS3;
  EXPECT_FALSE(CheckPlan(spec, Defaults()));
}

TEST(CheckPlan, TheProjectsPeakOverAQuotaNamesTheKeyTheTotalAndTheLimit) {
  // The default project at its peak: db 1Gi, rest and auth 2 x 256Mi (one rolling-update pod
  // each), storage 2 x 512Mi, the bootstrap Job 256Mi = 3328Mi of limits.memory. 6Gi for the
  // database instead of 1Gi: 8448Mi, over small's 8Gi.
  ProjectSpec spec;
  spec.database.resources = Json::parse(R"({"limits": {"memory": "6Gi"}})");
  std::optional<Problem> refused = CheckPlan(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "PlanExceeded");
  EXPECT_EQ(refused->message,
            "quota limits.memory: the project needs 8448Mi at its peak, more than plan \"small\" "
            "allows (8Gi); every replica of every enabled component, one more pod per Deployment "
            "during a rolling update and the bootstrap Job add up to it, from "
            "spec.<component>.replicas and spec.<component>.resources; lower it, or choose a "
            "larger spec.plan");
  spec.plan = "medium";
  EXPECT_FALSE(CheckPlan(spec, Defaults()));
}

TEST(CheckPlan, AnAdminsPlanIsHonouredKeyByKey) {
  Defaults defaults;
  Plan tight;
  tight.max_replicas = 2;
  tight.quota = {{"pods", "7"}, {"requests.storage", "15Gi"}};
  defaults.plans = {{"tight", tight}};
  defaults.default_plan = "tight";
  ProjectSpec spec;
  // The volumes: 20Gi.
  std::optional<Problem> refused = CheckPlan(spec, defaults);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("quota requests.storage: the project needs 20Gi for its "
                                  "volumes, more than plan \"tight\" allows (15Gi); "
                                  "spec.database.storage.size and spec.storage.volume.size add "
                                  "up to it"),
            std::string::npos)
      << refused->message;
  // 8 pods at the peak: db, bootstrap, rest/auth/storage twice each.
  spec.storage.volume.size = "5Gi";
  refused = CheckPlan(spec, defaults);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("quota pods: the project needs 8 at its peak, more than plan "
                                  "\"tight\" allows (7)"),
            std::string::npos)
      << refused->message;
  spec.auth.enabled = false;  // 6 pods
  EXPECT_FALSE(CheckPlan(spec, defaults));
}

}  // namespace
}  // namespace kubabase::project
