// The plan's ResourceQuota and LimitRange in the project namespace (plans.h), both named "plan":
// the quota caps what every pod and claim of the namespace may ask for together (the apiserver
// enforces it at admission, for our pods and anyone else's); the LimitRange gives a container
// that states no resources the plan's defaults (a quota on limits.* refuses such a pod otherwise)
// and caps any one claim at maxVolumeSize.
#include "controller/project/plans.h"
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

Json Quantities(const std::map<std::string, std::string>& map) { return ToJson(map); }

}  // namespace

Status AppendPlan(const Context& ctx, std::vector<Json>& out) {
  const Plan* plan = FindPlan(ctx.project.spec, ctx.defaults);
  if (plan == nullptr) {
    return InvalidArgumentError("spec.plan: \"" + PlanName(ctx.project.spec, ctx.defaults) +
                                "\" is not a plan of this operator");
  }
  const std::string plan_name = PlanName(ctx.project.spec, ctx.defaults);
  Json quota = Object(ctx, "v1", "ResourceQuota", names::kPlanObject, names::kPlanComponent);
  quota["metadata"]["labels"][std::string(names::kPlanLabel)] = plan_name;
  quota["spec"] = {{"hard", Quantities(plan->quota)}};
  out.push_back(std::move(quota));

  Json limits = Json::array();
  Json container = {{"type", "Container"}};
  if (!plan->container_defaults.requests.empty()) {
    container["defaultRequest"] = Quantities(plan->container_defaults.requests);
  }
  if (!plan->container_defaults.limits.empty()) {
    container["default"] = Quantities(plan->container_defaults.limits);
  }
  limits.push_back(std::move(container));
  if (!plan->max_volume_size.empty()) {
    limits.push_back({{"type", "PersistentVolumeClaim"},
                      {"max", {{"storage", plan->max_volume_size}}}});
  }
  Json range = Object(ctx, "v1", "LimitRange", names::kPlanObject, names::kPlanComponent);
  range["metadata"]["labels"][std::string(names::kPlanLabel)] = plan_name;
  range["spec"] = {{"limits", limits}};
  out.push_back(std::move(range));
  return Status::Ok();
}

}  // namespace kubabase::project::render_internal
