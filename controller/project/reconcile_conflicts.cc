// Step: conflicts. A host another Project holds, a namespace that is not ours (conflicts.h).
#include "controller/kube/json_fields.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/reconcile_pass.h"
#include "controller/project/resources.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

std::optional<Problem> ProjectReconciler::CheckHost(const Project& project,
                                                    const std::string& created) {
  const std::string host = Host(project, options_.defaults);
  for (const std::string& changed : hosts_.Upsert({project.name, host, created})) {
    for (const HostClaim& claim : hosts_.Claimants(changed)) {
      if (claim.name != project.name && enqueue_) enqueue_({"", claim.name});
    }
  }
  // The index follows reconciles; make sure the rivals it names still claim this host.
  for (const HostClaim& claim : hosts_.Claimants(host)) {
    if (claim.name == project.name) continue;
    ObjectPtr rival = cache_.get(ProjectsResource(), "", claim.name);
    StatusOr<Project> parsed = rival ? ParseProject(*rival) : StatusOr<Project>(NotFoundError(""));
    if (!parsed.ok() || parsed->deleting) {
      static_cast<void>(hosts_.Remove(claim.name));  // gone: it claims nothing
    } else if (Host(*parsed, options_.defaults) != host) {
      hosts_.Upsert({claim.name, Host(*parsed, options_.defaults),
                     kube::StringAt(*rival, {"metadata", "creationTimestamp"})})
          .clear();
    }
  }
  return HostConflict(hosts_, project.name, host);
}

Status ProjectReconciler::CheckConflicts(Pass& pass) {
  pass.problem =
      CheckHost(pass.project, kube::StringAt(pass.object, {"metadata", "creationTimestamp"}));
  pass.ns_object = cache_.get(kube::Resource::Namespaces(), "", pass.ns);
  if (pass.ns_object == nullptr) {
    // The cache holds only namespaces with our label; a foreign one is found by a GET.
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> got,
                              GetOptional(kube::Resource::Namespaces(), "", pass.ns));
    if (got) pass.ns_object = std::make_shared<const Json>(std::move(*got));
  }
  if (!pass.problem) {
    pass.problem = NamespaceConflict(pass.project.name, pass.ns, pass.ns_object.get());
  }
  return Status::Ok();
}

}  // namespace kubabase::project
