// DeriveStatus: the status step of a reconcile. A pure function from the Project, the operator's
// Defaults and the observed children to the ProjectStatus the status subresource should hold.
//
//   ObservedChildren children{.namespace_object = ns, .database = sts, .rest = rest, ...};
//   ProjectStatus next = DeriveStatus({.project = project, .defaults = defaults,
//                                      .children = children, .now = clock.WallNow()});
//   if (StatusChanged(project.status, next)) WriteStatus(ToJson(next));   // only on change
//
// Conditions (metav1.Condition; observedGeneration = metadata.generation; lastTransitionTime kept
// from the current status while the condition's status is unchanged, so a resync writes nothing):
//   DatabaseReady  StatefulSet db rolled out and ready, and the bootstrap Job complete
//   RestReady, AuthReady, StorageReady   Deployment rolled out with every desired replica ready
//                  (True with reason Disabled when enabled: false)
//   Routed         the Ingresses exist (the message carries the address once one is assigned)
//   Ready          all of the above; False names what is still waiting
//   Reconciling    kstatus: True while the project moves towards its spec (not yet Ready)
//   Stalled        kstatus: True when a problem needs a human (`problem` set): a host conflict, a
//                  foreign namespace, a spec that cannot be rendered, a failed bootstrap Job
// Phase: Deleting (metadata.deletionTimestamp) > Failed (Stalled) > Paused (spec.paused) >
// Pending (no namespace yet) > Ready > Degraded (was Ready at this generation, now not) >
// Provisioning. Transient API errors never reach here: they are retried, not reported as Failed.
//
// Thread-safe (pure).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/base/clock.h"
#include "controller/kube/cache.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"

namespace kubabase::project {

// The children DeriveStatus reads (null when not observed).
struct ObservedChildren {
  kube::ObjectPtr namespace_object;
  kube::ObjectPtr database;       // StatefulSet db
  kube::ObjectPtr bootstrap_job;  // the Job of the current inputs (db-bootstrap-<hash>)
  kube::ObjectPtr rest;           // Deployments
  kube::ObjectPtr auth;
  kube::ObjectPtr storage;
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
};

ProjectStatus DeriveStatus(const StatusInputs& inputs);

// True when `next` differs from `current` in any field: the status is written only then.
inline bool StatusChanged(const ProjectStatus& current, const ProjectStatus& next) {
  return !(current == next);
}

// The condition of `type` in `status`, or null.
const Condition* FindCondition(const ProjectStatus& status, std::string_view type);

// RFC 3339 in UTC with whole seconds ("2026-11-28T09:00:00Z"), as metav1.Time serialises.
std::string Rfc3339(Clock::WallTime time);

// Rollout state of a Deployment or StatefulSet: true when the controller observed the current
// generation, every replica is updated, and `spec.replicas` pods are ready (0 ready for 0).
bool WorkloadReady(const kube::Json& workload);
// True when a Job has condition Complete=True; `failed` is set for Failed=True.
bool JobComplete(const kube::Json& job, bool* failed);

}  // namespace kubabase::project
