// Step: conflicts. A host another Project holds or another Ingress serves, a namespace that is not
// ours or holds an earlier Project's retained data (conflicts.h).
#include "controller/kube/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/reconcile_pass.h"
#include "controller/project/resources.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

HostClaim ProjectReconciler::ClaimOf(const Project& project, const Json& object) const {
  HostClaim claim{.name = project.name,
                  .host = Host(project, options_.defaults),
                  .created = kube::StringAt(object, {"metadata", "creationTimestamp"})};
  if (!cache_.list_by_label) return claim;
  // Serving: one of the Project's own Ingresses (in its namespace) has a rule for the host.
  const std::string ns = names::Namespace(options_.defaults, project.name);
  for (const ObjectPtr& ingress :
       cache_.list_by_label(kube::Resource::Ingresses(), names::kProjectLabel, project.name)) {
    if (kube::StringAt(*ingress, {"metadata", "namespace"}) != ns) continue;
    claim.serving = claim.serving || IngressHasRuleFor(*ingress, claim.host);
  }
  return claim;
}

std::optional<Problem> ProjectReconciler::CheckHost(const Project& project, const Json& object,
                                                    bool* serving) {
  const HostClaim mine = ClaimOf(project, object);
  *serving = mine.serving;
  for (const std::string& changed : hosts_.Upsert(mine)) {
    for (const HostClaim& claim : hosts_.Claimants(changed)) {
      if (claim.name != project.name && enqueue_) enqueue_({"", claim.name});
    }
  }
  // The index follows reconciles; make sure the rivals it names still claim this host.
  for (const HostClaim& claim : hosts_.Claimants(mine.host)) {
    if (claim.name == project.name) continue;
    ObjectPtr rival = cache_.get(ProjectsResource(), "", claim.name);
    StatusOr<Project> parsed = rival ? ParseProject(*rival) : StatusOr<Project>(NotFoundError(""));
    if (!parsed.ok() || parsed->deleting) {
      static_cast<void>(hosts_.Remove(claim.name));  // gone: it claims nothing
    } else if (HostClaim now = ClaimOf(*parsed, *rival); now != claim) {
      hosts_.Upsert(now).clear();
    }
  }
  return HostConflict(hosts_, project.name, mine.host);
}

StatusOr<std::optional<Problem>> ProjectReconciler::CheckForeignHost(const Pass& pass) {
  // Until the Project serves its host, an Ingress that is not a project's may already serve it.
  // The cache holds only the projects' own, so this is a LIST of every Ingress (labels prove
  // nothing: anyone may put ours on theirs). Once the Project serves its host it keeps it, and
  // this costs nothing.
  KUBABASE_ASSIGN_OR_RETURN(Json listed, client_.List(kube::Resource::Ingresses(), "", {}));
  std::vector<const Json*> ingresses;
  const Json* items = kube::At(listed, {"items"});
  if (items == nullptr || !items->is_array()) return std::optional<Problem>();
  for (const Json& ingress : *items) {
    // A project's own Ingress (in the namespace of the Project its label names) is the host
    // index's business; the one of a holder just deleted may still be there.
    const std::string owner = kube::StringAt(ingress, {"metadata", "labels", names::kProjectLabel});
    const std::string ns = kube::StringAt(ingress, {"metadata", "namespace"});
    if (!owner.empty() && owner != pass.project.name &&
        ns == names::Namespace(options_.defaults, owner)) {
      continue;
    }
    ingresses.push_back(&ingress);
  }
  return ForeignHostConflict(Host(pass.project, options_.defaults), pass.ns, ingresses);
}

Status ProjectReconciler::CheckConflicts(Pass& pass) {
  bool serving = false;
  pass.problem = CheckHost(pass.project, pass.object, &serving);
  if (!pass.problem && !serving) {
    KUBABASE_ASSIGN_OR_RETURN(pass.problem, CheckForeignHost(pass));
  }
  pass.ns_object = cache_.get(kube::Resource::Namespaces(), "", pass.ns);
  if (pass.ns_object == nullptr) {
    // The cache holds only namespaces with our label; a foreign one is found by a GET.
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> got,
                              GetOptional(kube::Resource::Namespaces(), "", pass.ns));
    if (got) pass.ns_object = std::make_shared<const Json>(std::move(*got));
  }
  if (!pass.problem) {
    pass.problem =
        NamespaceConflict(pass.project.name, pass.project.uid, pass.ns, pass.ns_object.get());
  }
  return Status::Ok();
}

}  // namespace kubabase::project
