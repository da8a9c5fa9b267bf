// Step: apply. Adopts a namespace kept by deletionPolicy Retain, applies every rendered object
// (skipped when it already matches), prunes what render no longer produces, and says so in
// Events. Nothing is written for a Project with a problem or while its namespace terminates.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/kube/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/reconcile_pass.h"

namespace kubabase::project {

using kube::Json;
using kube::ObjectPtr;

Status ProjectReconciler::ApplyDesired(Pass& pass) {
  pass.ns_terminating = !pass.problem && pass.ns_object != nullptr &&
                        kube::At(*pass.ns_object, {"metadata", "deletionTimestamp"}) != nullptr;
  if (pass.problem || pass.ns_terminating || !pass.rendered) return Status::Ok();
  const Rendered& rendered = *pass.rendered;
  // Adoption of a namespace kept by deletionPolicy Retain: same name, same keys, same data.
  if (pass.ns_object != nullptr &&
      kube::StringAt(*pass.ns_object, {"metadata", "labels", names::kRetainedLabel}) == "true") {
    Json patch = {{"metadata", {{"labels", {{std::string(names::kRetainedLabel), nullptr}}}}}};
    StatusOr<Json> patched = client_.MergePatch(kube::Resource::Namespaces(), "", pass.ns, patch);
    if (!patched.ok()) return patched.status().Annotate("adopt namespace " + pass.ns);
    Event(pass.object, false, "Adopted",
          "adopted retained namespace " + pass.ns +
              " with its Secrets and volumes, as its kubabase.io/adopt-uid annotation allows; "
              "keys kept");
  }
  // The copies' current values, by GET like every Secret (the cache holds none).
  for (const std::string& copy : rendered.secret_copies) {
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                              GetOptional(kube::Resource::Secrets(), pass.ns, copy));
    if (secret) pass.secrets[copy] = std::move(*secret);
  }
  kube::ObservedLookup observed = [&](const kube::Resource& resource, std::string_view object_ns,
                                std::string_view name) -> ObjectPtr {
    if (resource.resource == "secrets") {
      auto it = pass.secrets.find(std::string(name));
      return it == pass.secrets.end() ? nullptr : std::make_shared<const Json>(it->second);
    }
    if (resource.resource == "namespaces" && pass.ns_object) return pass.ns_object;
    return cache_.get(resource, object_ns, name);
  };
  StatusOr<kube::ApplyResult> applied = applier_.ApplyAll(rendered.objects, observed);
  if (!applied.ok()) {
    // Rejected as invalid: retrying cannot help, a human must look.
    if (applied.status().code() != StatusCode::kInvalidArgument) return applied.status();
    pass.problem = Problem{"ApplyRejected", applied.status().message()};
    return Status::Ok();
  }
  if (!applied->created.empty()) {
    Event(pass.object, false, "Created", fmt::format("created {}", fmt::join(applied->created, ", ")));
  }
  if (!applied->updated.empty()) {
    Event(pass.object, false, "Updated", fmt::format("updated {}", fmt::join(applied->updated, ", ")));
  }
  if (applied->wrote()) {
    pass.log.Info("applied", {{"created", std::to_string(applied->created.size())},
                              {"updated", std::to_string(applied->updated.size())},
                              {"unchanged", std::to_string(applied->unchanged)}});
  }
  pass.step = "Prune";
  int pruned = 0;
  KUBABASE_RETURN_IF_ERROR(Prune(pass.project, rendered.objects, &pruned));
  if (pruned > 0) {
    Event(pass.object, false, "Pruned",
          "deleted " + std::to_string(pruned) + " objects the spec no longer asks for");
  }
  return Status::Ok();
}

}  // namespace kubabase::project
