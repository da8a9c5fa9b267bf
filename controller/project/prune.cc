// Step: prune. Deletes children with our labels that render no longer produces (a disabled
// component, an old bootstrap Job), of the kinds ChildKinds() marks prunable only.
#include <set>

#include "controller/kube/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

Status ProjectReconciler::Prune(const Project& project, const std::vector<Json>& desired,
                                int* pruned) {
  if (!cache_.list_by_label) return Status::Ok();
  const std::string ns = names::Namespace(options_.defaults, project.name);
  std::set<std::string> wanted;
  for (const Json& object : desired) {
    wanted.insert(kube::StringAt(object, {"kind"}) + "/" +
                  kube::StringAt(object, {"metadata", "name"}));
  }
  // Consumers before what they consume: workloads first, their config and Secrets last.
  for (auto it = ChildKinds().rbegin(); it != ChildKinds().rend(); ++it) {
    const ChildKind& kind = *it;
    if (!kind.pruned) continue;
    const kube::Resource& resource = *kind.resource;
    // While paused no bootstrap Job is rendered; keep the last one rather than run it again.
    if (project.spec.paused && &resource == &kube::Resource::Jobs()) continue;
    for (const ObjectPtr& object :
         cache_.list_by_label(resource, names::kProjectLabel, project.name)) {
      const std::string name = kube::StringAt(*object, {"metadata", "name"});
      // Only what is ours, in the project's namespace, and not already going.
      if (kube::StringAt(*object, {"metadata", "namespace"}) != ns) continue;
      if (kube::At(*object, {"metadata", "deletionTimestamp"}) != nullptr) continue;
      if (kube::StringAt(*object, {"metadata", "labels", names::kManagedByLabel}) !=
          names::kManagedByValue) {
        continue;
      }
      if (wanted.count(resource.kind + "/" + name) > 0) continue;
      // The keys are data: never deleted while the Project exists, whatever render says.
      if (&resource == &kube::Resource::Secrets() &&
          (name == names::kDbCredentialsSecret || name == names::kApiKeysSecret)) {
        continue;
      }
      kube::DeleteOptions options;
      options.propagation_policy = "Background";
      Status deleted = client_.Delete(resource, ns, name, options);
      if (!deleted.ok() && !deleted.IsNotFound()) {
        return deleted.Annotate("prune " + resource.kind + " " + ns + "/" + name);
      }
      ++*pruned;
    }
  }
  return Status::Ok();
}

}  // namespace kubabase::project
