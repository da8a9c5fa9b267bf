// Plans: what the cluster admin lets one Project have. The admin defines plans (--plans-file, a
// YAML file; without one BuiltinPlans(): small, medium, large) and a default (--default-plan,
// "small"); a Project picks one with spec.plan. A plan fixes the project namespace's
// ResourceQuota and LimitRange (render/quota.cc), the most replicas of any component and the
// largest volume. Every container the operator renders states requests and limits: its
// component's default (components/ `resources`), with spec.<key>.resources on top.
//
//   StatusOr<std::map<std::string, Plan>> plans = ParsePlans(text, "--plans-file /etc/plans.yaml");
//   const Plan* plan = FindPlan(project.spec, defaults);           // null: unknown spec.plan
//   std::optional<Problem> refused = CheckPlan(project.spec, defaults);
//   // {PlanExceeded, "spec.rest.replicas: 5 is more than plan \"small\" allows (maxReplicas 2) ..."}
//
// The --plans-file format (every key optional but `plans`; a quota key left out is not limited):
//   plans:
//     small:
//       quota: {requests.cpu: "2", requests.memory: 4Gi, limits.cpu: "8", limits.memory: 8Gi,
//               requests.storage: 20Gi, pods: 20, persistentvolumeclaims: 4}
//       limitRange: {defaultRequest: {cpu: 50m, memory: 64Mi}, default: {cpu: 500m, memory: 256Mi}}
//       maxReplicas: 2
//       maxVolumeSize: 10Gi
//
// Pure; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/base/status.h"
#include "controller/project/components/component.h"
#include "controller/project/defaults.h"
#include "controller/project/derive_status.h"
#include "controller/project/project.h"

namespace kubabase::project {

// The ResourceQuota keys a plan may set, in the order messages list them.
const std::vector<std::string>& PlanQuotaKeys();

// A --plans-file's text as plans by name. Errors: InvalidArgument beginning with `source` and
// naming the field: not YAML, no `plans` map or an empty one, a plan name that is not a DNS label,
// an unknown key (a typo must not silently lift a limit), a quota key not in PlanQuotaKeys(), a
// value that is not a non-negative quantity, maxReplicas outside 1..100.
StatusOr<std::map<std::string, Plan>> ParsePlans(std::string_view yaml, std::string_view source);

// spec.plan, else defaults.default_plan.
std::string PlanName(const ProjectSpec& spec, const Defaults& defaults);

// The plan PlanName() names, or null when the operator has no such plan.
const Plan* FindPlan(const ProjectSpec& spec, const Defaults& defaults);

// The bootstrap Job's container (it runs psql a few seconds).
const ComputeResources& BootstrapResources();

// The core/v1 ResourceRequirements of a container: `defaults`, with each quantity `spec` (a
// spec.<key>.resources, possibly empty) states replacing the default of that name. A request the
// spec raises above the default limit lifts that limit to it, and a limit it sets below the
// default request lowers that request, so that a spec naming one of the pair stays valid.
// spec.claims are kept.
Json ContainerResources(const ComputeResources& defaults, const Json& spec);

// spec.<def.key>.resources (an empty object when the component has none).
const Json& SpecResources(const ProjectSpec& spec, const ComponentDef& def);

// The first thing `spec` asks beyond its plan, or nullopt:
//   UnknownPlan   spec.plan (or the default) names no plan of this operator;
//   PlanExceeded  a component's replicas over maxReplicas, a volume over maxVolumeSize, or the
//                 project's peak over a quota key: every replica of every enabled component,
//                 one more pod per Deployment for its rolling update (maxSurge 25%, rounded up),
//                 and the bootstrap Job; volumes and claims for requests.storage and
//                 persistentvolumeclaims. The message names the field (or quota key), what the
//                 spec asks and what the plan allows.
// Replicas count as the spec states them, paused or not: unpausing must not break the plan.
std::optional<Problem> CheckPlan(const ProjectSpec& spec, const Defaults& defaults);

}  // namespace kubabase::project
