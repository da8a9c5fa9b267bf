#include "controller/project/derive_status.h"

#include <ctime>

#include "controller/project/names.h"

namespace kubabase::project {
namespace {

using kube::Json;

int64_t IntAt(const Json& object, std::initializer_list<const char*> path, int64_t fallback) {
  const Json* at = &object;
  for (const char* key : path) {
    if (!at->is_object()) return fallback;
    auto it = at->find(key);
    if (it == at->end()) return fallback;
    at = &*it;
  }
  return at->is_number_integer() || at->is_number_unsigned() ? at->get<int64_t>() : fallback;
}

std::string FirstImage(const Json& workload) {
  try {
    const Json& containers = workload.at("spec").at("template").at("spec").at("containers");
    if (containers.is_array() && !containers.empty()) {
      return containers[0].value("image", std::string());
    }
  } catch (const std::exception&) {
  }
  return "";
}

std::string ImageOr(const std::string& spec_image, const std::string& fallback) {
  return spec_image.empty() ? fallback : spec_image;
}

// One component's readiness, as a condition plus its status entry.
struct Readiness {
  bool ready = false;
  std::string reason;
  std::string message;
};

Readiness WorkloadReadiness(const kube::ObjectPtr& workload, std::string_view what) {
  if (workload == nullptr) return {false, "Creating", std::string(what) + " not created yet"};
  if (WorkloadReady(*workload)) return {true, "Ready", std::string(what) + " is ready"};
  int64_t want = IntAt(*workload, {"spec", "replicas"}, 1);
  int64_t ready = IntAt(*workload, {"status", "readyReplicas"}, 0);
  return {false, "RollingOut",
          std::string(what) + ": " + std::to_string(ready) + "/" + std::to_string(want) +
              " replicas ready"};
}

void SetCondition(ProjectStatus& next, const ProjectStatus& current, std::string type,
                  bool ok, std::string reason, std::string message, int64_t generation,
                  const std::string& now) {
  Condition c;
  c.type = std::move(type);
  c.status = ok ? "True" : "False";
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = generation;
  const Condition* before = FindCondition(current, c.type);
  c.last_transition_time =
      before != nullptr && before->status == c.status && !before->last_transition_time.empty()
          ? before->last_transition_time
          : now;
  next.conditions.push_back(std::move(c));
}

}  // namespace

std::string Rfc3339(Clock::WallTime time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

const Condition* FindCondition(const ProjectStatus& status, std::string_view type) {
  for (const Condition& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool WorkloadReady(const Json& workload) {
  const int64_t generation = IntAt(workload, {"metadata", "generation"}, 0);
  const int64_t observed = IntAt(workload, {"status", "observedGeneration"}, 0);
  if (observed < generation) return false;  // the controller has not seen the latest spec
  const int64_t want = IntAt(workload, {"spec", "replicas"}, 1);
  const int64_t ready = IntAt(workload, {"status", "readyReplicas"}, 0);
  const int64_t updated = IntAt(workload, {"status", "updatedReplicas"}, 0);
  const int64_t total = IntAt(workload, {"status", "replicas"}, 0);
  if (want == 0) return total == 0;
  // total > want: old pods of a rollout are still terminating.
  return ready >= want && updated >= want && total <= want;
}

bool JobComplete(const Json& job, bool* failed) {
  *failed = false;
  bool complete = false;
  const Json* conditions = nullptr;
  if (job.contains("status") && job["status"].is_object() && job["status"].contains("conditions")) {
    conditions = &job["status"]["conditions"];
  }
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const Json& c : *conditions) {
    if (!c.is_object() || c.value("status", std::string()) != "True") continue;
    const std::string type = c.value("type", std::string());
    if (type == "Complete") complete = true;
    if (type == "Failed") *failed = true;
  }
  return complete;
}

ProjectStatus DeriveStatus(const StatusInputs& in) {
  const Project& project = in.project;
  const ProjectSpec& spec = project.spec;
  const ProjectStatus& current = project.status;
  const int64_t generation = project.generation;
  const std::string now = Rfc3339(in.now);
  const ObservedChildren& children = in.children;

  ProjectStatus next;
  next.observed_generation = generation;
  next.namespace_ = names::Namespace(in.defaults, project.name);
  next.keys_secret = {next.namespace_, std::string(names::kApiKeysSecret)};
  const std::string api = ApiUrl(project, in.defaults);
  next.endpoints.api = api;
  if (spec.rest.enabled) next.endpoints.rest = api + "/rest/v1";
  if (spec.auth.enabled) next.endpoints.auth = api + "/auth/v1";
  if (spec.storage.enabled) next.endpoints.storage = api + "/storage/v1";

  auto component = [&](const kube::ObjectPtr& workload, int32_t replicas,
                       const std::string& image) {
    ComponentStatus cs;
    cs.desired = spec.paused ? 0 : replicas;
    cs.ready = workload ? static_cast<int32_t>(IntAt(*workload, {"status", "readyReplicas"}, 0))
                        : 0;
    std::string observed_image = workload ? FirstImage(*workload) : "";
    cs.image = observed_image.empty() ? image : observed_image;
    return cs;
  };
  const Images& images = in.defaults.images;
  next.components["database"] =
      component(children.database, 1, ImageOr(spec.database.image, images.postgres));
  if (spec.rest.enabled) {
    next.components["rest"] =
        component(children.rest, spec.rest.replicas, ImageOr(spec.rest.image, images.postgrest));
  }
  if (spec.auth.enabled) {
    next.components["auth"] =
        component(children.auth, spec.auth.replicas, ImageOr(spec.auth.image, images.gotrue));
  }
  if (spec.storage.enabled) {
    next.components["storage"] = component(children.storage, spec.storage.replicas,
                                           ImageOr(spec.storage.image, images.storage));
  }

  // Database: the StatefulSet, then the bootstrap that makes it usable by the services.
  Readiness db = WorkloadReadiness(children.database, "StatefulSet db");
  std::optional<Problem> problem = in.problem;
  if (db.ready && !in.bootstrap_job_name.empty()) {
    bool failed = false;
    if (children.bootstrap_job == nullptr) {
      db = {false, "Bootstrapping", "Job " + in.bootstrap_job_name + " not created yet"};
    } else if (!JobComplete(*children.bootstrap_job, &failed)) {
      db = {false, failed ? "BootstrapFailed" : "Bootstrapping",
            "Job " + in.bootstrap_job_name + (failed ? " failed" : " running")};
      if (failed && !problem) {
        problem = Problem{"BootstrapFailed",
                          "the database bootstrap Job " + in.bootstrap_job_name +
                              " failed; see `kubectl logs -n " + next.namespace_ + " job/" +
                              in.bootstrap_job_name + "`, fix the cause, then delete the Job to "
                              "run it again"};
      }
    }
  }
  auto optional_component = [&](bool enabled, const kube::ObjectPtr& workload,
                                 std::string_view what) {
    if (!enabled) return Readiness{true, "Disabled", std::string(what) + " is disabled"};
    return WorkloadReadiness(workload, what);
  };
  Readiness rest = optional_component(spec.rest.enabled, children.rest, "Deployment rest");
  Readiness auth = optional_component(spec.auth.enabled, children.auth, "Deployment auth");
  Readiness storage =
      optional_component(spec.storage.enabled, children.storage, "Deployment storage");

  Readiness routed;
  const bool wants_ingress = spec.rest.enabled || spec.auth.enabled || spec.storage.enabled;
  if (!wants_ingress) {
    routed = {true, "NoRoutes", "every component is disabled"};
  } else if (children.ingresses.empty()) {
    routed = {false, "Creating", "Ingress not created yet"};
  } else {
    std::string address;
    for (const kube::ObjectPtr& ingress : children.ingresses) {
      try {
        const Json& lb = ingress->at("status").at("loadBalancer").at("ingress");
        if (lb.is_array() && !lb.empty()) {
          address = lb[0].value("ip", lb[0].value("hostname", std::string()));
        }
      } catch (const std::exception&) {
      }
      if (!address.empty()) break;
    }
    routed = address.empty()
                 ? Readiness{true, "IngressCreated",
                             "serving " + Host(project, in.defaults) + "; no address assigned yet"}
                 : Readiness{true, "AddressAssigned",
                             "serving " + Host(project, in.defaults) + " at " + address};
  }

  // Ready: everything, in dependency order so the message names the first thing to look at.
  Readiness ready{true, "AllComponentsReady", "every component is ready"};
  for (const Readiness* part : {&db, &rest, &auth, &storage, &routed}) {
    if (!part->ready) {
      ready = {false, part->reason, part->message};
      break;
    }
  }
  if (spec.paused) ready = {false, "Paused", "spec.paused is true: every workload is scaled to 0"};
  if (problem) ready = {false, problem->reason, problem->message};
  if (project.deleting) ready = {false, "Deleting", "the Project is being deleted"};

  SetCondition(next, current, "Ready", ready.ready, ready.reason, ready.message, generation, now);
  const bool reconciling = !ready.ready && !problem && !spec.paused && !project.deleting;
  SetCondition(next, current, "Reconciling", reconciling,
               reconciling ? ready.reason : "Reconciled",
               reconciling ? ready.message : "nothing in progress", generation, now);
  SetCondition(next, current, "Stalled", problem.has_value(),
               problem ? problem->reason : "NotStalled", problem ? problem->message : "no problem",
               generation, now);
  SetCondition(next, current, "DatabaseReady", db.ready, db.reason, db.message, generation, now);
  SetCondition(next, current, "RestReady", rest.ready, rest.reason, rest.message, generation, now);
  SetCondition(next, current, "AuthReady", auth.ready, auth.reason, auth.message, generation, now);
  SetCondition(next, current, "StorageReady", storage.ready, storage.reason, storage.message,
               generation, now);
  SetCondition(next, current, "Routed", routed.ready, routed.reason, routed.message, generation,
               now);

  if (project.deleting) {
    next.phase = Phase::kDeleting;
  } else if (problem) {
    next.phase = Phase::kFailed;
  } else if (spec.paused) {
    next.phase = Phase::kPaused;
  } else if (children.namespace_object == nullptr) {
    next.phase = Phase::kPending;
  } else if (ready.ready) {
    next.phase = Phase::kReady;
  } else if ((current.phase == Phase::kReady || current.phase == Phase::kDegraded) &&
             current.observed_generation == generation) {
    next.phase = Phase::kDegraded;  // it was ready at this very spec: something broke
  } else {
    next.phase = Phase::kProvisioning;
  }
  return next;
}

}  // namespace kubabase::project
