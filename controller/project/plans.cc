#include "controller/project/plans.h"

#include <algorithm>
#include <cmath>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "controller/base/quantity.h"
#include "controller/kube/yaml_json.h"

namespace kubabase::project {
namespace {

constexpr std::string_view kRequestsCpu = "requests.cpu";
constexpr std::string_view kRequestsMemory = "requests.memory";
constexpr std::string_view kLimitsCpu = "limits.cpu";
constexpr std::string_view kLimitsMemory = "limits.memory";
constexpr std::string_view kRequestsStorage = "requests.storage";
constexpr std::string_view kPods = "pods";
constexpr std::string_view kClaims = "persistentvolumeclaims";

// Quantities as whole units: millicores for CPU (the apiserver's own precision), else the value
// rounded up (bytes, counts). Exact sums and comparisons, unlike the long doubles they parse to.
bool IsCpu(std::string_view resource) { return resource.ends_with("cpu"); }

std::optional<int64_t> Units(std::string_view resource, std::string_view quantity) {
  std::optional<long double> value = ParseQuantity(quantity);
  if (!value || *value < 0) return std::nullopt;
  const long double scaled = *value * (IsCpu(resource) ? 1000.0L : 1.0L);
  if (scaled > 9e18L) return std::nullopt;
  return static_cast<int64_t>(std::ceil(scaled - 1e-9L));
}

// Units as a quantity a human reads: "2", "250m", "4Gi", "300Mi", "20".
std::string FormatUnits(std::string_view resource, int64_t units) {
  if (IsCpu(resource)) {
    return units % 1000 == 0 ? std::to_string(units / 1000) : fmt::format("{}m", units);
  }
  if (resource == kPods || resource == kClaims) return std::to_string(units);
  constexpr int64_t kKi = 1024;
  for (auto [size, suffix] : {std::pair{kKi * kKi * kKi * kKi, "Ti"}, std::pair{kKi * kKi * kKi, "Gi"},
                              std::pair{kKi * kKi, "Mi"}, std::pair{kKi, "Ki"}}) {
    if (units != 0 && units % size == 0) return fmt::format("{}{}", units / size, suffix);
  }
  return std::to_string(units);
}

// A YAML scalar (number or string) as quantity text, or nullopt.
std::optional<std::string> QuantityText(const Json& value) {
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_string()) return value.get<std::string>();
  return std::nullopt;
}

Status Invalid(std::string_view source, const std::string& path, const std::string& what) {
  return InvalidArgumentError(fmt::format("{}: {}: {}", source, path, what));
}

// A map of resource name -> non-negative quantity. `allowed` empty: any name.
Status ParseQuantityMap(std::string_view source, const std::string& path, const Json& value,
                        const std::vector<std::string>& allowed,
                        std::map<std::string, std::string>* out) {
  if (!value.is_object()) return Invalid(source, path, "must be a map of quantities");
  for (const auto& [key, quantity] : value.items()) {
    const std::string at = path + "." + key;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Invalid(source, at, fmt::format("not a quota a plan may set; one of {}",
                                             fmt::join(allowed, ", ")));
    }
    std::optional<std::string> text = QuantityText(quantity);
    if (!text || !Units(key, *text)) {
      return Invalid(source, at, fmt::format("{} is not a non-negative quantity such as \"2\", "
                                             "\"500m\" or \"4Gi\"", quantity.dump()));
    }
    (*out)[key] = *text;
  }
  return Status::Ok();
}

Status ParsePlan(std::string_view source, const std::string& path, const Json& value, Plan* out) {
  if (!value.is_object()) return Invalid(source, path, "must be a map");
  for (const auto& [key, field] : value.items()) {
    const std::string at = path + "." + key;
    if (key == "quota") {
      KUBABASE_RETURN_IF_ERROR(ParseQuantityMap(source, at, field, PlanQuotaKeys(), &out->quota));
    } else if (key == "limitRange") {
      if (!field.is_object()) return Invalid(source, at, "must be a map");
      for (const auto& [part, map] : field.items()) {
        if (part == "defaultRequest") {
          out->container_defaults.requests.clear();
          KUBABASE_RETURN_IF_ERROR(ParseQuantityMap(source, at + "." + part, map, {},
                                                    &out->container_defaults.requests));
        } else if (part == "default") {
          out->container_defaults.limits.clear();
          KUBABASE_RETURN_IF_ERROR(ParseQuantityMap(source, at + "." + part, map, {},
                                                    &out->container_defaults.limits));
        } else {
          return Invalid(source, at + "." + part, "unknown field; limitRange has defaultRequest "
                                                  "and default");
        }
      }
    } else if (key == "maxReplicas") {
      if (!field.is_number_integer() || field.get<int64_t>() < 1 || field.get<int64_t>() > 100) {
        return Invalid(source, at, fmt::format("{} is not a whole number from 1 to 100",
                                               field.dump()));
      }
      out->max_replicas = static_cast<int32_t>(field.get<int64_t>());
    } else if (key == "maxVolumeSize") {
      std::optional<std::string> text = QuantityText(field);
      if (!text || !Units("storage", *text)) {
        return Invalid(source, at, fmt::format("{} is not a non-negative quantity such as "
                                               "\"10Gi\"", field.dump()));
      }
      out->max_volume_size = *text;
    } else {
      return Invalid(source, at, "unknown field; a plan has quota, limitRange, maxReplicas and "
                                 "maxVolumeSize");
    }
  }
  return Status::Ok();
}

// One plan of the built-in set.
Plan Builtin(std::string cpu_requests, std::string memory_requests, std::string cpu_limits,
             std::string memory_limits, std::string storage, int pods, int claims,
             int32_t max_replicas, std::string max_volume) {
  Plan plan;
  plan.quota = {{std::string(kRequestsCpu), std::move(cpu_requests)},
                {std::string(kRequestsMemory), std::move(memory_requests)},
                {std::string(kLimitsCpu), std::move(cpu_limits)},
                {std::string(kLimitsMemory), std::move(memory_limits)},
                {std::string(kRequestsStorage), std::move(storage)},
                {std::string(kPods), std::to_string(pods)},
                {std::string(kClaims), std::to_string(claims)}};
  plan.max_replicas = max_replicas;
  plan.max_volume_size = std::move(max_volume);
  return plan;
}

// The spec's replicas of `def`, paused or not (1 for the database, which has no field).
int32_t SpecReplicas(const ProjectSpec& spec, const ComponentDef& def) {
  if (def.basic_spec) return BasicSpec(spec, def).replicas;
  return def.replicas != nullptr ? def.replicas(spec) : 1;
}

// A resource's quantity in a map of quantities, as units (0 when absent).
int64_t UnitsOf(const Json& map, std::string_view resource) {
  auto value = map.find(std::string(resource));
  if (value == map.end()) return 0;
  std::optional<std::string> text = QuantityText(*value);
  std::optional<int64_t> units = text ? Units(resource, *text) : std::nullopt;
  return units.value_or(0);
}

// A resource's quantity in a ResourceRequirements object, as units (0 when absent).
int64_t UnitsIn(const Json& resources, std::string_view part, std::string_view resource) {
  auto section = resources.find(std::string(part));
  if (section == resources.end() || !section->is_object()) return 0;
  return UnitsOf(*section, resource);
}

std::string PlanList(const std::map<std::string, Plan>& plans) {
  std::vector<std::string> names;
  for (const auto& [name, plan] : plans) names.push_back(name);
  return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::map<std::string, Plan> BuiltinPlans() {
  // Sized for the operator's defaults: small holds every component at 2 replicas during a
  // rolling update, with both 10Gi volumes.
  return {
      {"small", Builtin("2", "4Gi", "8", "8Gi", "20Gi", 20, 4, 2, "10Gi")},
      {"medium", Builtin("4", "8Gi", "16", "16Gi", "100Gi", 40, 8, 5, "50Gi")},
      {"large", Builtin("16", "32Gi", "64", "64Gi", "1Ti", 100, 16, 20, "500Gi")},
  };
}

const std::vector<std::string>& PlanQuotaKeys() {
  static const auto* const kKeys = new std::vector<std::string>{
      std::string(kRequestsCpu),     std::string(kRequestsMemory), std::string(kLimitsCpu),
      std::string(kLimitsMemory),    std::string(kRequestsStorage), std::string(kPods),
      std::string(kClaims)};
  return *kKeys;
}

StatusOr<std::map<std::string, Plan>> ParsePlans(std::string_view yaml, std::string_view source) {
  Json document;
  try {
    document = kube::YamlToJson(YAML::Load(std::string(yaml)));
  } catch (const std::exception& e) {
    return InvalidArgumentError(fmt::format("{}: not YAML: {}", source, e.what()));
  }
  if (!document.is_object() || !document.contains("plans") || !document["plans"].is_object() ||
      document["plans"].empty()) {
    return InvalidArgumentError(
        fmt::format("{}: must hold a map `plans` of at least one plan by name", source));
  }
  for (const auto& [key, value] : document.items()) {
    if (key != "plans") return Invalid(source, key, "unknown field; the file has `plans` only");
  }
  static const std::regex kDnsLabel("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  std::map<std::string, Plan> plans;
  for (const auto& [name, value] : document["plans"].items()) {
    if (!std::regex_match(name, kDnsLabel)) {
      return Invalid(source, "plans." + name,
                     "a plan's name must be a lower-case DNS label (a-z, 0-9, '-'), as spec.plan "
                     "is");
    }
    Plan plan;
    KUBABASE_RETURN_IF_ERROR(ParsePlan(source, "plans." + name, value, &plan));
    plans[name] = std::move(plan);
  }
  return plans;
}

std::string PlanName(const ProjectSpec& spec, const Defaults& defaults) {
  return spec.plan.empty() ? defaults.default_plan : spec.plan;
}

const Plan* FindPlan(const ProjectSpec& spec, const Defaults& defaults) {
  auto it = defaults.plans.find(PlanName(spec, defaults));
  return it == defaults.plans.end() ? nullptr : &it->second;
}

const ComputeResources& BootstrapResources() {
  static const auto* const kResources =
      new ComputeResources{.requests = {{"cpu", "50m"}, {"memory", "64Mi"}},
                           .limits = {{"cpu", "500m"}, {"memory", "256Mi"}}};
  return *kResources;
}

Json ContainerResources(const ComputeResources& defaults, const Json& spec) {
  Json requests = Json::object();
  Json limits = Json::object();
  for (const auto& [name, value] : defaults.requests) requests[name] = value;
  for (const auto& [name, value] : defaults.limits) limits[name] = value;
  const bool has_spec = spec.is_object();
  auto own = [&](const char* part) -> Json {
    if (!has_spec || !spec.contains(part) || !spec[part].is_object()) return Json::object();
    return spec[part];
  };
  const Json own_requests = own("requests");
  const Json own_limits = own("limits");
  for (const auto& [name, value] : own_requests.items()) requests[name] = value;
  for (const auto& [name, value] : own_limits.items()) limits[name] = value;
  // Keep each pair valid when the spec names only one side of it.
  for (const auto& [name, value] : own_requests.items()) {
    if (own_limits.contains(name) || !limits.contains(name)) continue;
    if (UnitsOf(requests, name) > UnitsOf(limits, name)) limits[name] = value;
  }
  for (const auto& [name, value] : own_limits.items()) {
    if (own_requests.contains(name) || !requests.contains(name)) continue;
    if (UnitsOf(requests, name) > UnitsOf(limits, name)) requests[name] = value;
  }
  Json out = Json::object();
  if (!requests.empty()) out["requests"] = requests;
  if (!limits.empty()) out["limits"] = limits;
  if (has_spec && spec.contains("claims")) out["claims"] = spec["claims"];
  return out;
}

const Json& SpecResources(const ProjectSpec& spec, const ComponentDef& def) {
  static const Json* const kNone = new Json(Json::object());
  if (def.spec_resources != nullptr) return def.spec_resources(spec);
  if (def.basic_spec) return BasicSpec(spec, def).resources;
  return *kNone;
}

std::optional<Problem> CheckPlan(const ProjectSpec& spec, const Defaults& defaults) {
  const std::string name = PlanName(spec, defaults);
  const Plan* plan = FindPlan(spec, defaults);
  if (plan == nullptr) {
    return Problem{"UnknownPlan",
                   fmt::format("spec.plan: \"{}\" is not a plan of this operator; its plans are {}. "
                               "Set spec.plan to one of them, or leave it empty for the default "
                               "(\"{}\")",
                               name, PlanList(defaults.plans), defaults.default_plan)};
  }
  auto exceeded = [&](const std::string& what) {
    return Problem{"PlanExceeded",
                   fmt::format("{}; lower it, or choose a larger spec.plan", what)};
  };
  // Per component: replicas, and the peak it adds to the quota.
  std::map<std::string, int64_t> peak;
  auto add = [&](const Json& resources, int64_t pods) {
    peak[std::string(kPods)] += pods;
    for (std::string_view part : {"requests", "limits"}) {
      for (std::string_view resource : {"cpu", "memory"}) {
        peak[fmt::format("{}.{}", part, resource)] += pods * UnitsIn(resources, part, resource);
      }
    }
  };
  for (const ComponentDef* def : Components()) {
    if (!Enabled(*def, spec) || def->workload_resource == nullptr) continue;
    const int32_t replicas = SpecReplicas(spec, *def);
    if (replicas > plan->max_replicas) {
      return exceeded(fmt::format("spec.{}.replicas: {} is more than plan \"{}\" allows "
                                  "(maxReplicas {})",
                                  def->key, replicas, name, plan->max_replicas));
    }
    const bool deployment = def->workload_resource == &kube::Resource::Deployments();
    const int64_t surge = deployment ? (replicas + 3) / 4 : 0;
    add(ContainerResources(def->resources, SpecResources(spec, *def)), replicas + surge);
  }
  add(ContainerResources(BootstrapResources(), Json::object()), 1);
  // Volumes: the database's always, Storage's with the file backend.
  std::vector<std::pair<std::string, std::string>> volumes = {
      {"spec.database.storage.size", spec.database.storage.size}};
  if (const ComponentDef* storage = FindComponent("storage");
      storage != nullptr && Enabled(*storage, spec) &&
      spec.storage.backend == StorageBackend::kFile) {
    volumes.emplace_back("spec.storage.volume.size", spec.storage.volume.size);
  }
  const std::optional<int64_t> max_volume =
      plan->max_volume_size.empty() ? std::nullopt : Units("storage", plan->max_volume_size);
  for (const auto& [field, size] : volumes) {
    const int64_t bytes = Units("storage", size).value_or(0);
    if (max_volume && bytes > *max_volume) {
      return exceeded(fmt::format("{}: {} is more than plan \"{}\" allows (maxVolumeSize {})",
                                  field, size, name, plan->max_volume_size));
    }
    peak[std::string(kRequestsStorage)] += bytes;
    peak[std::string(kClaims)] += 1;
  }
  for (const std::string& key : PlanQuotaKeys()) {
    auto hard = plan->quota.find(key);
    if (hard == plan->quota.end()) continue;
    const int64_t allowed = Units(key, hard->second).value_or(0);
    if (peak[key] <= allowed) continue;
    const bool volume = key == kRequestsStorage || key == kClaims;
    return exceeded(fmt::format(
        "quota {}: the project needs {} {}, more than plan \"{}\" allows ({}); {}", key,
        FormatUnits(key, peak[key]), volume ? "for its volumes" : "at its peak",
        name, hard->second,
        volume ? "spec.database.storage.size and spec.storage.volume.size add up to it"
               : "every replica of every enabled component, one more pod per Deployment during "
                 "a rolling update and the bootstrap Job add up to it, from spec.<component>."
                 "replicas and spec.<component>.resources"));
  }
  return std::nullopt;
}

}  // namespace kubabase::project
