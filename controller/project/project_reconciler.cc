// ProjectReconciler: Reconcile dispatches; ReconcileProject runs the steps in order. Each step
// lives in its own file (reconcile_conflicts.cc, reconcile_keys.cc, reconcile_apply.cc,
// prune.cc, reconcile_status.cc, reconcile_delete.cc).
#include "controller/project/project_reconciler.h"

#include "controller/project/names.h"
#include "controller/project/policy.h"
#include "controller/project/reconcile_pass.h"
#include "controller/project/resources.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

ProjectReconciler::ProjectReconciler(kube::ApiClient& client, CacheReader cache,
                                     ReconcilerOptions options)
    : client_(client),
      cache_(std::move(cache)),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      random_(options_.random != nullptr ? *options_.random : default_random_),
      applier_(client, options_.metrics, std::string(names::kFieldManager), ApplyKindOf),
      finalizer_(client, options_.defaults,
                 std::chrono::duration_cast<std::chrono::milliseconds>(options_.poll)) {
  if (options_.metrics != nullptr) {
    phase_gauge_ = &prometheus::BuildGauge()
                        .Name("kubabase_projects")
                        .Help("Projects by phase, as this operator last derived them")
                        .Register(*options_.metrics->registry());
  }
}

StatusOr<kube::Action> ProjectReconciler::Reconcile(const kube::ObjectKey& key) {
  std::call_once(hosts_seeded_, [this] {
    // Once, O(projects): afterwards each reconcile updates only its own claim.
    if (!cache_.list) return;
    for (const ObjectPtr& object : cache_.list(ProjectsResource())) {
      StatusOr<Project> p = ParseProject(*object);
      if (!p.ok() || p->deleting) continue;
      hosts_.Upsert(ClaimOf(*p, *object)).clear();
    }
  });
  ObjectPtr object = cache_.get(ProjectsResource(), "", key.name);
  if (object == nullptr) {
    // Deleted: free its host for a Project that lost it.
    if (std::optional<std::string> host = hosts_.Remove(key.name); host && enqueue_) {
      for (const HostClaim& claim : hosts_.Claimants(*host)) enqueue_({"", claim.name});
    }
    if (options_.secret_refs != nullptr) options_.secret_refs->Remove(key.name);
    SetPhase(key.name, std::nullopt);
    return kube::Action::Done();
  }
  StatusOr<Project> project = ParseProject(*object);
  if (!project.ok()) return ReconcileInvalid(*object, project.status());
  if (options_.secret_refs != nullptr) {
    options_.secret_refs->Set(project->name, project->deleting
                                                 ? std::vector<SecretName>{}
                                                 : UserSecretRefs(project->spec));
  }
  if (project->deleting) return ReconcileDeletion(*object, *project);
  return ReconcileProject(*object, *project);
}

StatusOr<kube::Action> ProjectReconciler::ReconcileProject(const Json& object,
                                                           const Project& project) {
  Pass pass{.object = object,
            .project = project,
            .ns = names::Namespace(options_.defaults, project.name),
            .log = kube::ScopedLog({{"project", project.name}})};
  Status done = RunSteps(pass);
  if (!done.ok()) {
    ReportFailure(pass, done);
    return done;
  }
  return pass.action;
}

Status ProjectReconciler::RunSteps(Pass& pass) {
  pass.step = "AddFinalizer";
  if (!HasFinalizer(pass.project)) {
    // Metadata only: the operator never writes spec.
    KUBABASE_RETURN_IF_ERROR(AddFinalizer(client_, pass.project));
    pass.project.finalizers.emplace_back(names::kFinalizer);
  }
  // Conflicts first: nothing is written for a Project that would take what is not its own.
  pass.step = "CheckConflicts";
  KUBABASE_RETURN_IF_ERROR(CheckConflicts(pass));
  // What the admin does not let a Project's author ask for (policy.h): nothing of it is written.
  if (!pass.problem) pass.problem = CheckPolicy(pass.project.spec, options_.defaults);
  pass.step = "ReadKeys";
  KUBABASE_RETURN_IF_ERROR(ReadKeys(pass));
  pass.step = "ReadUserSecrets";
  KUBABASE_RETURN_IF_ERROR(ReadUserSecrets(pass));
  pass.step = "Render";
  KUBABASE_RETURN_IF_ERROR(Render(pass));
  pass.step = "Apply";
  KUBABASE_RETURN_IF_ERROR(ApplyDesired(pass));
  pass.step = "WriteStatus";
  return PublishStatus(pass);
}

StatusOr<std::optional<Json>> ProjectReconciler::GetOptional(const kube::Resource& resource,
                                                             const std::string& ns,
                                                             const std::string& name) {
  StatusOr<Json> got = client_.Get(resource, ns, name);
  if (got.ok()) return std::optional<Json>(std::move(*got));
  if (got.status().IsNotFound()) return std::optional<Json>();
  return got.status().Annotate("read " + resource.kind + " " + ns + "/" + name);
}

}  // namespace kubabase::project
