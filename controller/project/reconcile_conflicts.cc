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
    const Json* rules = kube::At(*ingress, {"spec", "rules"});
    if (rules == nullptr || !rules->is_array()) continue;
    for (const Json& rule : *rules) {
      claim.serving = claim.serving || kube::StringAt(rule, {"host"}) == claim.host;
    }
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
  // Until the Project serves its host, an Ingress that is not kubabase's may already serve it:
  // a LIST of those (the cache holds only ours), and the cached ones labelled as ours but not in
  // this Project's namespace. Once it serves the host, it keeps it and this costs nothing.
  const std::string host = Host(pass.project, options_.defaults);
  kube::ListOptions foreign;
  foreign.label_selector =
      std::string(names::kManagedByLabel) + "!=" + std::string(names::kManagedByValue);
  KUBABASE_ASSIGN_OR_RETURN(Json listed, client_.List(kube::Resource::Ingresses(), "", foreign));
  std::vector<const Json*> ingresses;
  if (const Json* items = kube::At(listed, {"items"}); items != nullptr && items->is_array()) {
    for (const Json& item : *items) ingresses.push_back(&item);
  }
  std::vector<ObjectPtr> labelled;
  if (cache_.list) labelled = cache_.list(kube::Resource::Ingresses());
  for (const ObjectPtr& ingress : labelled) ingresses.push_back(ingress.get());
  return ForeignHostConflict(host, pass.ns, ingresses);
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
