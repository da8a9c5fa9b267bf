// DeriveStatus: the status step of a reconcile. A pure function from the Project, the operator's
// Defaults and the observed children to the ProjectStatus the status subresource should hold.
//
//   ObservedChildren children{.namespace_object = ns, .workloads = {{"database", sts}, ...}};
//   ProjectStatus next = DeriveStatus({.project = project, .defaults = defaults,
//                                      .children = children, .now = clock.WallNow()});
//   if (StatusChanged(project.status, next)) WriteStatus(ToJson(next));   // only on change
//
// Conditions (metav1.Condition; observedGeneration = metadata.generation; lastTransitionTime kept
// from the current status while the condition's status is unchanged, so a resync writes nothing):
//   one per component (components/component.h `condition`, registry order):
//   DatabaseReady  StatefulSet db rolled out and ready, and the bootstrap Job complete
//   RestReady, AuthReady, StorageReady, MetaReady   the component's workload rolled out with
//                  every desired replica ready (True with reason Disabled when it is off)
//   Routed         the Ingresses exist (the message carries the address once one is assigned)
//   Ready          all of the above; False names what is still waiting. Paused: True with reason
//                  Paused once every workload is at 0 (a declared state reached: kstatus and
//                  Flux call it Current), False with reason Pausing on the way
//                  (docs/gitops.md "Health")
//   Reconciling    kstatus: True while the project moves towards its spec (not yet Ready), and
//                  while a write keeps failing (`retrying`: reason and message say which)
//   Stalled        kstatus: True when a problem needs a human (`problem` set): a host conflict, a
//                  foreign namespace, a spec that cannot be rendered, a failed bootstrap Job
// status.components holds each enabled component with a workload (desired replicas and image
// as render decided them, ready replicas and the image as observed); status.endpoints "api"
// and one per enabled component with a route.
// Phase: Deleting (metadata.deletionTimestamp) > Failed (Stalled) > Paused (spec.paused, scaled
// to 0; Provisioning while scaling down) >
// Pending (no namespace yet) > Ready > Degraded (was Ready at this generation, now not) >
// Provisioning. Transient API errors are never Failed: a reconcile that keeps failing is reported
// through `retrying` (Reconciling=True, Ready=False, phase Provisioning or Degraded).
//
// Thread-safe (pure).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/base/clock.h"
#include "controller/kube/cache.h"
#include "controller/base/time_format.h"
#include "controller/project/components/component.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"

namespace kubabase::project {

// The children DeriveStatus reads (null when not observed).
struct ObservedChildren {
  kube::ObjectPtr namespace_object;
  kube::ObjectPtr bootstrap_job;  // the Job of the current inputs (db-bootstrap-<hash>)
  // Each component's workload (ComponentDef::workload), by component key.
  std::map<std::string, kube::ObjectPtr> workloads;
  std::vector<kube::ObjectPtr> ingresses;
};

// Something only a human can fix; shown as Stalled=True, Ready=False and phase Failed.
struct Problem {
  std::string reason;   // UpperCamelCase: HostConflict, NamespaceConflict, InvalidSpec, ...
  std::string message;  // says what to change; never a secret
};

struct StatusInputs {
  const Project& project;
  const Defaults& defaults;
  ObservedChildren children;
  std::optional<Problem> problem;
  Clock::WallTime now;
  // The name of the bootstrap Job the current inputs render ("" while paused: none expected).
  std::string bootstrap_job_name;
  // The components as render planned them; nullopt: PlanComponents(project, defaults), for a
  // reconcile that rendered nothing.
  std::optional<std::vector<ComponentPlan>> components;
  // A failure the operator keeps retrying (an apply the apiserver refuses for now): reason and
  // sanitised message, shown while the project is not Ready. Never a Problem: nobody has to act
  // on the spec.
  std::optional<Problem> retrying;
};

ProjectStatus DeriveStatus(const StatusInputs& inputs);

// True when `next` differs from `current` in any field: the status is written only then.
inline bool StatusChanged(const ProjectStatus& current, const ProjectStatus& next) {
  return !(current == next);
}

// The condition of `type` in `status`, or null.
const Condition* FindCondition(const ProjectStatus& status, std::string_view type);

using kubabase::Rfc3339;  // controller/base/time_format.h

}  // namespace kubabase::project
