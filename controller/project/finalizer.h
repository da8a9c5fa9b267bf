// Finalizer: what happens when a Project is deleted, guarded by the finalizer kubabase.io/finalizer
// so that the operator acts before the Project disappears.
//
//   if (!HasFinalizer(project)) KUBABASE_RETURN_IF_ERROR(AddFinalizer(client, project));
//   if (project.deleting) return finalizer.Finalize(project, events);   // Done or RequeueAfter
//
// deletionPolicy Delete: delete the project namespace (everything in it goes with it), wait
// (RequeueAfter poll) until it is gone, then drop the finalizer.
// deletionPolicy Retain (default): delete the workloads, Services, Ingresses and Jobs; strip this
// Project's owner references from the namespace, the Secrets and the PVCs so that garbage
// collection cannot take data or keys; label the namespace kubabase.io/retained=true; drop the
// finalizer. The namespace keeps the uid of the Project it belonged to (kubabase.io/project-uid):
// a later Project of the same name adopts it, keys and data, only once an admin annotates it
// kubabase.io/adopt-uid=<its uid> (conflicts.h, RetainedDataExists).
//
// A namespace that is not this Project's (NamespaceOwnedBy: labelled for another Project or none,
// or retained from an earlier Project of the same name) is never touched under either policy.
//
// Every write is a merge patch on metadata only (the operator never writes spec), guarded by the
// object's resourceVersion, so a concurrent edit makes it fail with kAborted and retry.
// Idempotent: a crash midway is finished by the next reconcile. Thread-safe if the client is.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "controller/base/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/reconciler.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"

namespace kubabase::project {

// Receives what the finalizer did, for Events on the Project (reason, message; never a secret).
using StepReporter = std::function<void(std::string_view reason, std::string_view message)>;

bool HasFinalizer(const Project& project);

// kubabase.io/finalizer on the Project as `project` saw it: kube/finalizers.h's guarded writes
// (kAborted when the Project changed meanwhile: retry; removing keeps every other finalizer).
Status AddFinalizer(kube::ApiClient& client, const Project& project);
Status RemoveFinalizer(kube::ApiClient& client, const Project& project);

class Finalizer {
 public:
  // `client` must outlive the finalizer.
  Finalizer(kube::ApiClient& client, Defaults defaults,
            std::chrono::milliseconds poll = std::chrono::seconds(2))
      : client_(client), defaults_(std::move(defaults)), poll_(poll) {}

  // Requires: project.deleting and HasFinalizer(project).
  // Returns Done once the finalizer was removed; RequeueAfter(poll) while the namespace is still
  // terminating (deletionPolicy Delete). Errors: API errors (retried with backoff by the caller).
  StatusOr<kube::Action> Finalize(const Project& project, const StepReporter& report);

 private:
  StatusOr<kube::Action> FinalizeDelete(const Project& project, const kube::Json* ns,
                                        const StepReporter& report);
  StatusOr<kube::Action> FinalizeRetain(const Project& project, const kube::Json* ns,
                                        const StepReporter& report);
  Status DeleteAll(const kube::Resource& resource, const std::string& ns,
                   const std::string& selector, int* deleted);
  Status StripOwner(const kube::Resource& resource, const kube::Json& object,
                    const Project& project, bool mark_retained, bool* patched);

  kube::ApiClient& client_;
  const Defaults defaults_;
  const std::chrono::milliseconds poll_;
};

}  // namespace kubabase::project
