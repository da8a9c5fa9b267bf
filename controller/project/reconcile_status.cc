// Step: status. Derives the status from the observed children (derive_status.h), writes it
// with server-side apply only when it changed, and tells what changed in Events and the phase
// metric. Also what a failed or invalid reconcile shows on the Project.
#include "controller/kube/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/reconcile_pass.h"
#include "controller/project/resources.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

namespace {

// An apiserver message as a condition may show it: one line, bounded.
std::string Sanitised(std::string message) {
  for (char& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  constexpr size_t kMax = 512;
  if (message.size() > kMax) message = message.substr(0, kMax - 3) + "...";
  return message;
}

}  // namespace

void ProjectReconciler::SetPhase(const std::string& name, std::optional<Phase> phase) {
  std::lock_guard lock(phase_mu_);
  auto it = phases_.find(name);
  if (it != phases_.end()) {
    if (phase && it->second == *phase) return;
    if (phase_gauge_) phase_gauge_->Add({{"phase", std::string(PhaseName(it->second))}}).Decrement();
    phases_.erase(it);
  }
  if (!phase) return;
  phases_[name] = *phase;
  if (phase_gauge_) phase_gauge_->Add({{"phase", std::string(PhaseName(*phase))}}).Increment();
}

void ProjectReconciler::Event(const Json& object, bool warning, std::string_view reason,
                              std::string_view message) {
  if (options_.events == nullptr) return;
  kube::ObjectReference ref = kube::ObjectReference::FromObject(object);
  // List items come without apiVersion and kind.
  ref.api_version = std::string(names::kApiVersion);
  ref.kind = std::string(names::kKind);
  options_.events->Record(ref, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                          reason, message);
}

ProjectStatus ProjectReconciler::Derive(const Project& project, std::optional<Problem> problem,
                                        const Rendered* rendered,
                                        std::optional<Problem> retrying) {
  const std::string ns = names::Namespace(options_.defaults, project.name);
  const std::vector<ComponentPlan> plans =
      rendered != nullptr ? rendered->components : PlanComponents(project, options_.defaults);
  const std::string bootstrap_job = rendered != nullptr ? rendered->bootstrap_job : "";
  ObservedChildren children;
  if (cache_.get) {
    children.namespace_object = cache_.get(kube::Resource::Namespaces(), "", ns);
    if (!bootstrap_job.empty()) {
      children.bootstrap_job = cache_.get(kube::Resource::Jobs(), ns, bootstrap_job);
    }
    for (const ComponentPlan& plan : plans) {
      if (plan.def->workload_resource == nullptr) continue;
      children.workloads[std::string(plan.def->key)] =
          cache_.get(*plan.def->workload_resource, ns, plan.def->workload);
    }
    // What routing rendered; without a render, whatever of its Ingresses exists.
    std::vector<std::string> ingresses;
    if (rendered != nullptr) {
      ingresses = rendered->ingresses;
    } else if (cache_.list_by_label) {
      for (const ObjectPtr& ingress : cache_.list_by_label(kube::Resource::Ingresses(),
                                                           names::kProjectLabel, project.name)) {
        ingresses.push_back(kube::StringAt(*ingress, {"metadata", "name"}));
      }
    }
    for (const std::string& name : ingresses) {
      if (ObjectPtr ingress = cache_.get(kube::Resource::Ingresses(), ns, name)) {
        children.ingresses.push_back(ingress);
      }
    }
  }
  return DeriveStatus({.project = project,
                       .defaults = options_.defaults,
                       .children = std::move(children),
                       .problem = std::move(problem),
                       .now = clock_.WallNow(),
                       .bootstrap_job_name = bootstrap_job,
                       .components = plans,
                       .retrying = std::move(retrying)});
}

StatusOr<std::string> ProjectReconciler::WriteStatus(const Project& project,
                                                     const ProjectStatus& next) {
  // Server-side apply on the status subresource: we own every status field, and fields we stop
  // sending (a component that was disabled) are removed, which a merge patch would keep.
  Json body = {{"apiVersion", names::kApiVersion},
               {"kind", names::kKind},
               {"metadata", {{"name", project.name}}},
               {"status", ToJson(next)}};
  kube::ApplyOptions options;
  options.field_manager = std::string(names::kFieldManager);
  options.force = true;
  options.subresource = "status";
  StatusOr<Json> written = client_.Apply(ProjectsResource(), "", project.name, body, options);
  if (!written.ok()) {
    if (written.status().IsNotFound()) return project.resource_version;  // gone meanwhile
    return written.status().Annotate("write status of Project " + project.name);
  }
  std::string version = kube::StringAt(*written, {"metadata", "resourceVersion"});
  return version.empty() ? project.resource_version : version;
}

Status ProjectReconciler::PublishStatus(Pass& pass) {
  const Project& current = pass.project;
  const std::optional<Problem>& problem = pass.problem;
  ProjectStatus next = Derive(current, problem, pass.rendered ? &*pass.rendered : nullptr);
  if (StatusChanged(current.status, next)) {
    KUBABASE_RETURN_IF_ERROR(WriteStatus(current, next).status());
    if (problem && current.status.phase != Phase::kFailed) {
      Event(pass.object, true, problem->reason, problem->message);
    }
    if (next.phase != current.status.phase) {
      pass.log.Info("phase", {{"from", std::string(PhaseName(current.status.phase))},
                              {"to", std::string(PhaseName(next.phase))}});
      if (!problem) {
        Event(pass.object, false, std::string(PhaseName(next.phase)),
              "phase " + std::string(PhaseName(next.phase)));
      }
    }
  }
  SetPhase(current.name, next.phase);
  if (problem) {
    pass.action = kube::Action::RequeueAfter(options_.stalled_requeue);
  } else if (pass.ns_terminating) {
    pass.action = kube::Action::RequeueAfter(options_.poll);
  }
  return Status::Ok();
}

void ProjectReconciler::ReportFailure(const Pass& pass, const Status& failure) {
  // A conflict is the normal cost of racing another writer: retried at once, not shown.
  if (failure.code() == StatusCode::kAborted || failure.IsNotFound()) return;
  const Rendered* rendered = pass.rendered ? &*pass.rendered : nullptr;
  ProjectStatus next;
  std::string reason;
  std::string message;
  if (failure.code() == StatusCode::kPermissionDenied) {
    // Refused until someone acts (RBAC, a quota, an admission policy): a human must look.
    reason = "PermissionDenied";
    message = "the apiserver refused a request (the operator retries): " + failure.ToString();
    next = Derive(pass.project, Problem{reason, Sanitised(message)}, rendered);
  } else {
    // Retried with backoff; shown at once so that a failure that persists is visible.
    reason = pass.step + "Failed";
    message = "retrying: " + failure.ToString();
    next = Derive(pass.project, std::nullopt, rendered, Problem{reason, Sanitised(message)});
  }
  if (!StatusChanged(pass.project.status, next)) return;
  // Best effort: a status write refused too leaves the log line of the failed reconcile.
  if (!WriteStatus(pass.project, next).ok()) return;
  const Condition* before = FindCondition(pass.project.status, "Ready");
  if (before == nullptr || before->reason != reason) {
    Event(pass.object, true, reason, Sanitised(message));
  }
  SetPhase(pass.project.name, next.phase);
}

StatusOr<kube::Action> ProjectReconciler::ReconcileInvalid(const Json& object,
                                                           const Status& invalid) {
  // What the schema let through but we cannot use: report, do nothing, look again later.
  Project shell;
  shell.name = kube::StringAt(object, {"metadata", "name"});
  shell.generation = kube::IntAt(object, {"metadata", "generation"}, 0);
  if (const Json* status = kube::At(object, {"status"})) {
    StatusOr<ProjectStatus> current = ParseProjectStatus(*status);
    if (current.ok()) shell.status = *current;
  }
  ProjectStatus next = Derive(shell, Problem{"InvalidSpec", invalid.message()}, nullptr);
  std::vector<Condition> kept;
  for (const Condition& c : next.conditions) {
    if (c.type == "Ready" || c.type == "Reconciling" || c.type == "Stalled") kept.push_back(c);
  }
  next.conditions = kept;
  next.components.clear();
  if (StatusChanged(shell.status, next)) {
    KUBABASE_RETURN_IF_ERROR(WriteStatus(shell, next).status());
    Event(object, true, "InvalidSpec", invalid.message());
  }
  SetPhase(shell.name, next.phase);
  return kube::Action::RequeueAfter(options_.stalled_requeue);
}

}  // namespace kubabase::project
