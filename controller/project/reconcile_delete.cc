// Step: a Project being deleted. Frees its host, reports Deleting, and hands over to the
// Finalizer (finalizer.h) for deletionPolicy Delete or Retain.
#include "controller/project/project_reconciler.h"

namespace kubabase::project {

StatusOr<kube::Action> ProjectReconciler::ReconcileDeletion(const kube::Json& object,
                                                            const Project& project) {
  kube::ScopedLog log({{"project", project.name}});
  if (std::optional<std::string> host = hosts_.Remove(project.name); host && enqueue_) {
    for (const HostClaim& claim : hosts_.Claimants(*host)) enqueue_({"", claim.name});
  }
  if (!HasFinalizer(project)) return kube::Action::Done();
  Project deleting = project;
  if (project.status.phase != Phase::kDeleting) {
    KUBABASE_ASSIGN_OR_RETURN(deleting.resource_version,
                              WriteStatus(project, Derive(project, std::nullopt, nullptr)));
  }
  SetPhase(project.name, Phase::kDeleting);
  // The finalizer patch is guarded by the resourceVersion the status write produced.
  return finalizer_.Finalize(deleting, [&](std::string_view reason, std::string_view message) {
    Event(object, false, reason, message);
    log.Info("finalizer step", {{"reason", std::string(reason)}});
  });
}

}  // namespace kubabase::project
