#include "controller/project/derive_status.h"

#include <algorithm>

#include "controller/kube/json_fields.h"
#include "controller/kube/readiness.h"
#include "controller/project/names.h"

namespace kubabase::project {
namespace {

using kube::IntAt;
using kube::Json;

std::string FirstImage(const Json& workload) {
  const Json* containers = kube::At(workload, {"spec", "template", "spec", "containers"});
  if (containers == nullptr || !containers->is_array() || containers->empty()) return "";
  return kube::StringAt((*containers)[0], {"image"});
}

// One condition's state.
struct Readiness {
  bool ready = false;
  std::string reason;
  std::string message;
};

Readiness WorkloadReadiness(const kube::ObjectPtr& workload, const std::string& what,
                            int32_t desired) {
  if (workload == nullptr) return {false, "Creating", what + " not created yet"};
  const int64_t want = IntAt(*workload, {"spec", "replicas"}, 1);
  // Our apply has not reached the cache yet (a pause, a replica change): not there yet.
  if (want != desired) {
    return {false, "RollingOut", what + ": scaling to " + std::to_string(desired) + " replicas"};
  }
  if (kube::WorkloadReady(*workload)) return {true, "Ready", what + " is ready"};
  int64_t ready = IntAt(*workload, {"status", "readyReplicas"}, 0);
  return {false, "RollingOut",
          what + ": " + std::to_string(ready) + "/" + std::to_string(want) + " replicas ready"};
}

// The database also needs its bootstrap Job; a failed one is a Problem.
Readiness WithBootstrap(Readiness db, const StatusInputs& in, const std::string& ns,
                        std::optional<Problem>& problem) {
  if (!db.ready || in.bootstrap_job_name.empty()) return db;
  const std::string& job = in.bootstrap_job_name;
  bool failed = false;
  if (in.children.bootstrap_job == nullptr) {
    return {false, "Bootstrapping", "Job " + job + " not created yet"};
  }
  if (kube::JobComplete(*in.children.bootstrap_job, &failed)) return db;
  if (failed && !problem) {
    problem = Problem{"BootstrapFailed", "the database bootstrap Job " + job + " failed; see " +
                                             "`kubectl logs -n " + ns + " job/" + job +
                                             "`, fix the cause, then delete the Job to run it "
                                             "again"};
  }
  return {false, failed ? "BootstrapFailed" : "Bootstrapping",
          "Job " + job + (failed ? " failed" : " running")};
}

Readiness RoutingReadiness(const StatusInputs& in, bool wants_routes) {
  if (!wants_routes) return {true, "NoRoutes", "every component is disabled"};
  if (in.children.ingresses.empty()) return {false, "Creating", "Ingress not created yet"};
  std::string address;
  for (const kube::ObjectPtr& ingress : in.children.ingresses) {
    const Json* lb = kube::At(*ingress, {"status", "loadBalancer", "ingress"});
    if (lb != nullptr && lb->is_array() && !lb->empty()) {
      address = kube::StringAt((*lb)[0], {"ip"});
      if (address.empty()) address = kube::StringAt((*lb)[0], {"hostname"});
    }
    if (!address.empty()) break;
  }
  const std::string host = Host(in.project, in.defaults);
  return address.empty()
             ? Readiness{true, "IngressCreated", "serving " + host + "; no address assigned yet"}
             : Readiness{true, "AddressAssigned", "serving " + host + " at " + address};
}

class Conditions {
 public:
  Conditions(ProjectStatus& next, const ProjectStatus& current, int64_t generation,
             std::string now)
      : next_(next), current_(current), generation_(generation), now_(std::move(now)) {}

  void Set(std::string_view type, const Readiness& r) {
    Condition c;
    c.type = std::string(type);
    c.status = r.ready ? "True" : "False";
    c.reason = r.reason;
    c.message = r.message;
    c.observed_generation = generation_;
    // Kept while the status is unchanged, so a resync writes nothing.
    const Condition* before = FindCondition(current_, c.type);
    c.last_transition_time =
        before != nullptr && before->status == c.status && !before->last_transition_time.empty()
            ? before->last_transition_time
            : now_;
    next_.conditions.push_back(std::move(c));
  }

 private:
  ProjectStatus& next_;
  const ProjectStatus& current_;
  const int64_t generation_;
  const std::string now_;
};

Phase PhaseOf(const StatusInputs& in, const std::optional<Problem>& problem, bool ready) {
  const Project& project = in.project;
  const ProjectStatus& current = project.status;
  if (project.deleting) return Phase::kDeleting;
  if (problem) return Phase::kFailed;
  if (project.spec.paused && ready) return Phase::kPaused;
  if (in.children.namespace_object == nullptr) {
    // A namespace that could not be written yet is still being provisioned, not waiting.
    return in.retrying ? Phase::kProvisioning : Phase::kPending;
  }
  if (ready) return Phase::kReady;
  if (project.spec.paused) return Phase::kProvisioning;  // still scaling down
  if ((current.phase == Phase::kReady || current.phase == Phase::kDegraded) &&
      current.observed_generation == project.generation) {
    return Phase::kDegraded;  // it was ready at this very spec: something broke
  }
  return Phase::kProvisioning;
}


// One component's readiness. An enabled one with a workload also fills its status.components
// entry and, with a route, its status.endpoints entry; routing is ready once every enabled route
// is served (`wants_routes`: an earlier component has one).
Readiness ComponentReadiness(const StatusInputs& in, const ComponentDef& def,
                             const ComponentPlan* plan, bool wants_routes,
                             std::optional<Problem>& problem, ProjectStatus& next) {
  if (def.workload_resource == nullptr) return RoutingReadiness(in, wants_routes);
  const std::string what = def.workload_resource->kind + " " + std::string(def.workload);
  if (plan == nullptr) return Readiness{true, "Disabled", what + " is disabled"};
  auto observed = in.children.workloads.find(std::string(def.key));
  const kube::ObjectPtr workload =
      observed == in.children.workloads.end() ? nullptr : observed->second;
  ComponentStatus& cs = next.components[std::string(def.key)];
  cs.desired = plan->replicas;
  cs.ready =
      workload ? static_cast<int32_t>(IntAt(*workload, {"status", "readyReplicas"}, 0)) : 0;
  const std::string observed_image = workload ? FirstImage(*workload) : "";
  cs.image = observed_image.empty() ? plan->image : observed_image;
  Readiness r = WorkloadReadiness(workload, what, plan->replicas);
  if (def.waits_for_bootstrap) r = WithBootstrap(r, in, next.namespace_, problem);
  return r;
}

// Ready: the first part not ready, in dependency order so the message names the first thing to
// look at; then what overrides it (a retried failure, paused, a problem, deletion).
using Parts = std::vector<std::pair<std::string_view, Readiness>>;  // condition type, readiness

Readiness OverallReadiness(const StatusInputs& in, const Parts& parts,
                           const std::optional<Problem>& problem) {
  Readiness ready{true, "AllComponentsReady", "every component is ready"};
  for (const auto& [type, part] : parts) {
    if (!part.ready) {
      ready = {false, part.reason, part.message};
      break;
    }
  }
  if (!ready.ready && in.retrying) ready = {false, in.retrying->reason, in.retrying->message};
  // Paused is a declared state: reached (Ready, so kstatus and Flux call it Current) once every
  // workload is at 0; on the way there it is in progress.
  if (in.project.spec.paused) {
    ready = ready.ready
                ? Readiness{true, "Paused", "spec.paused is true: every workload is scaled to 0"}
                : Readiness{false, "Pausing", "scaling every workload to 0: " + ready.message};
  }
  if (problem) ready = {false, problem->reason, problem->message};
  if (in.project.deleting) ready = {false, "Deleting", "the Project is being deleted"};
  return ready;
}

}  // namespace

const Condition* FindCondition(const ProjectStatus& status, std::string_view type) {
  for (const Condition& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

ProjectStatus DeriveStatus(const StatusInputs& in) {
  const Project& project = in.project;
  const std::vector<ComponentPlan> plans =
      in.components ? *in.components : PlanComponents(project, in.defaults);

  ProjectStatus next;
  next.observed_generation = project.generation;
  next.namespace_ = names::Namespace(in.defaults, project.name);
  next.keys_secret = {next.namespace_, std::string(names::kApiKeysSecret)};
  const std::string api = ApiUrl(project, in.defaults);
  next.endpoints["api"] = api;

  // One readiness per component, in registry order; a disabled one is ready by definition.
  std::optional<Problem> problem = in.problem;
  Parts parts;
  bool wants_routes = false;
  for (const ComponentDef* def : Components()) {
    auto plan = std::find_if(plans.begin(), plans.end(),
                             [def](const ComponentPlan& p) { return p.def == def; });
    const ComponentPlan* enabled = plan == plans.end() ? nullptr : &*plan;
    if (enabled != nullptr && !def->routes.empty()) {
      wants_routes = true;
      next.endpoints[std::string(def->key)] = api + std::string(def->routes.front().prefix);
    }
    parts.emplace_back(def->condition,
                       ComponentReadiness(in, *def, enabled, wants_routes, problem, next));
  }

  const Readiness ready = OverallReadiness(in, parts, problem);
  Conditions conditions(next, project.status, project.generation, Rfc3339(in.now));
  conditions.Set("Ready", ready);
  const bool reconciling = !ready.ready && !problem && !project.deleting;
  conditions.Set("Reconciling", reconciling
                                    ? Readiness{true, ready.reason, ready.message}
                                    : Readiness{false, "Reconciled", "nothing in progress"});
  conditions.Set("Stalled", problem ? Readiness{true, problem->reason, problem->message}
                                    : Readiness{false, "NotStalled", "no problem"});
  for (const auto& [type, part] : parts) conditions.Set(type, part);
  next.phase = PhaseOf(in, problem, ready.ready);
  return next;
}

}  // namespace kubabase::project
