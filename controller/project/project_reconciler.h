// ProjectReconciler: one reconcile of one Project, level-based: it reads the Project and its
// children from the cache (and the few things the cache must not be trusted with from the API),
// then converges the cluster on the rendered desired state and reports it in the status.
//
//   ProjectReconciler reconciler(client, CacheReaderOf(controller), {.defaults = defaults, ...});
//   reconciler.set_enqueue([&](const kube::ObjectKey& key) { controller.Enqueue(key); });
//   kube::ReconcileFunc reconcile = [&](const kube::ObjectKey& key) {
//     return reconciler.Reconcile(key);
//   };
//
// One Reconcile(name):
//  1. Project gone: forget it (host index, phase metric). Done.
//  2. Deleting: Finalizer::Finalize (finalizer.h). Without our finalizer: add it (a merge patch of
//     metadata.finalizers only; the operator never writes spec).
//  3. Conflicts (conflicts.h): host claimed by an older Project, namespace not ours; what the
//     admin's policy refuses (policy.h: an Ingress annotation not allowed); a spec that
//     cannot be rendered, a named Secret the Project may not use (policy.h SecretRefNotAllowed:
//     not an allowed namespace, missing, or not consenting) -> status Ready=False/Stalled=True with
//     the reason, a Warning Event, nothing applied, RequeueAfter(stalled_requeue).
//  4. Keys: db-credentials and api-keys are read with GET from the API, never from the cache: a
//     cache that has not yet seen a Secret we just created would make EnsureKeys generate new
//     keys and overwrite the real ones (a locked-out database, logged-out users). The cache keeps
//     no Secret values at all (KeepSecretValues({})); Secrets are compared for apply with what the
//     GETs returned. The user Secrets that spec names (S3 credentials, SMTP password) are read
//     with GET too (only from a namespace policy.h SecretSourceOf allows, and outside the
//     project's namespace only when they consent) and copied into the project namespace by
//     render; the reconcile records them in
//     options.secret_refs, so a change to one labelled kubabase.io/reload re-queues the Project.
//  5. Render (render.h): the objects and what render decided (the bootstrap Job, the Secret
//     copies, each component's image and replicas), used as is by the steps after it.
//  6. Apply every rendered object in render order (Applier: skipped when it already matches),
//     with no gating between stages: Supabase users expect all components to exist at once and
//     the services retry their database connection; status tells what is ready.
//  7. Prune children with our labels that render no longer produces (a disabled component, an
//     old bootstrap Job): only kinds ChildKinds() (resources.h) marks prunable. Never the key
//     Secrets.
//  8. Status from the observed children (derive_status.h), written with server-side apply on the
//     status subresource only when it changed.
// Each step is its own file (reconcile_*.cc, prune.cc), CloudNativePG-style.
// Events on the Project name each step that changed something; never a secret.
// Errors: transient API errors are returned (the work queue backs off); they never make the
// phase Failed. They are shown at once, though: Reconciling=True and Ready=False with reason
// <Step>Failed (e.g. ApplyFailed) and the apiserver's message, phase Provisioning (Degraded if
// it was Ready), what was applied before the failure in status.components; cleared by the next
// reconcile that succeeds. Conflicts (409) are not shown: they are the normal cost of racing.
// A request the apiserver refuses until someone acts (403: RBAC, a quota, an admission policy)
// is returned too, and also reported where users look: Ready=False and
// Stalled=True with reason PermissionDenied and the apiserver's message, phase Failed, and a
// Warning Event (once, while the status says so). The next reconcile that succeeds clears it.
// An apply rejected as invalid (400/422) is a Problem, ApplyRejected, like a conflict.
//
// Thread-safety: Reconcile may run on several workers at once for different keys.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/base/clock.h"
#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/event_recorder.h"
#include "controller/kube/metrics.h"
#include "controller/kube/reconciler.h"
#include "controller/kube/apply.h"
#include "controller/project/conflicts.h"
#include "controller/project/defaults.h"
#include "controller/project/derive_status.h"
#include "controller/project/finalizer.h"
#include "controller/project/keys.h"
#include "controller/project/project.h"
#include "controller/project/render/render.h"
#include "controller/project/secret_refs.h"

namespace kubabase::project {

// Read-only access to the informer caches (kube::Controller's Get / ListByLabel in production).
struct CacheReader {
  std::function<kube::ObjectPtr(const kube::Resource&, std::string_view ns, std::string_view name)>
      get;
  std::function<std::vector<kube::ObjectPtr>(const kube::Resource&, std::string_view label_key,
                                             std::string_view label_value)>
      list_by_label;
  // Every cached object of a resource (used once, to seed the host index).
  std::function<std::vector<kube::ObjectPtr>(const kube::Resource&)> list;
};

struct ReconcilerOptions {
  Defaults defaults;
  const Clock* clock = nullptr;            // null: RealClock
  RandomSource* random = nullptr;          // null: OpenSslRandom
  kube::EventRecorder* events = nullptr;   // null: no Events
  kube::Metrics* metrics = nullptr;        // null: no metrics
  // Where each reconcile records the user Secrets its spec names (for ReloadSecretsWatch).
  // Null: not recorded. Not owned.
  SecretRefIndex* secret_refs = nullptr;
  // How often a Project that needs a human is looked at again (its cause may be outside the
  // watched objects: another Project's host, a user Secret).
  Clock::Duration stalled_requeue = std::chrono::minutes(5);
  // Polling while a namespace terminates.
  Clock::Duration poll = std::chrono::seconds(2);
};

class ProjectReconciler {
 public:
  // `client` must outlive the reconciler; `cache` functions must be callable from any thread.
  ProjectReconciler(kube::ApiClient& client, CacheReader cache, ReconcilerOptions options);

  StatusOr<kube::Action> Reconcile(const kube::ObjectKey& key);

  // Where to queue other Projects whose outcome a reconcile changed (a host freed or claimed).
  void set_enqueue(std::function<void(const kube::ObjectKey&)> enqueue) {
    enqueue_ = std::move(enqueue);
  }
  const HostIndex& host_index() const { return hosts_; }

 private:
  struct Pass;  // the state of one reconcile (reconcile_pass.h)

  // project_reconciler.cc: the steps, in order.
  StatusOr<kube::Action> ReconcileProject(const kube::Json& object, const Project& project);
  Status RunSteps(Pass& pass);
  // reconcile_conflicts.cc: host and namespace; sets pass.problem.
  Status CheckConflicts(Pass& pass);
  // The Project's claim on its host: serving when its own Ingress carries the host.
  HostClaim ClaimOf(const Project& project, const kube::Json& object) const;
  std::optional<Problem> CheckHost(const Project& project, const kube::Json& object,
                                   bool* serving);
  // HostConflict when an Ingress that is not this Project's serves its host (one LIST).
  StatusOr<std::optional<Problem>> CheckForeignHost(const Pass& pass);
  // reconcile_keys.cc: the key Secrets and the user Secrets, by GET; then render.
  Status ReadKeys(Pass& pass);
  Status ReadUserSecrets(Pass& pass);
  StatusOr<std::optional<kube::Json>> ReadUserSecret(const Pass& pass,
                                                     const UserSecretNeed& need);
  Status Render(Pass& pass);
  // reconcile_apply.cc: adoption of a retained namespace, apply, events; prune.cc: prune.
  Status ApplyDesired(Pass& pass);
  Status Prune(const Project& project, const std::vector<kube::Json>& desired, int* pruned);
  // reconcile_delete.cc: a Project being deleted.
  StatusOr<kube::Action> ReconcileDeletion(const kube::Json& object, const Project& project);
  // reconcile_status.cc: status, Events, the phase metric.
  Status PublishStatus(Pass& pass);
  StatusOr<kube::Action> ReconcileInvalid(const kube::Json& object, const Status& invalid);
  // Reports a failed reconcile on the Project (see the banner); best effort.
  void ReportFailure(const Pass& pass, const Status& failure);
  // Returns the Project's resourceVersion after the write.
  StatusOr<std::string> WriteStatus(const Project& project, const ProjectStatus& next);
  ProjectStatus Derive(const Project& project, std::optional<Problem> problem,
                       const Rendered* rendered, std::optional<Problem> retrying = {});
  void Event(const kube::Json& object, bool warning, std::string_view reason,
             std::string_view message);
  void SetPhase(const std::string& name, std::optional<Phase> phase);
  StatusOr<std::optional<kube::Json>> GetOptional(const kube::Resource& resource,
                                                  const std::string& ns, const std::string& name);

  kube::ApiClient& client_;
  const CacheReader cache_;
  const ReconcilerOptions options_;
  const Clock& clock_;
  OpenSslRandom default_random_;
  RandomSource& random_;
  kube::Applier applier_;
  Finalizer finalizer_;
  HostIndex hosts_;
  std::once_flag hosts_seeded_;
  std::function<void(const kube::ObjectKey&)> enqueue_;

  std::mutex phase_mu_;
  std::map<std::string, Phase> phases_;  // for kubabase_projects{phase}
  prometheus::Family<prometheus::Gauge>* phase_gauge_ = nullptr;
};

}  // namespace kubabase::project
