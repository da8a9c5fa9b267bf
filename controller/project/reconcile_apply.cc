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

namespace {

// The rendered objects, each key Secret that exists carrying the resourceVersion it was read
// at: server-side apply then writes it only if nobody changed it since (409 otherwise, and the
// next reconcile reads it again), so a reconcile never overwrites keys it has not seen.
std::vector<Json> WithKeyPreconditions(const std::vector<Json>& rendered,
                                       const std::map<std::string, Json>& secrets) {
  std::vector<Json> objects = rendered;
  for (Json& object : objects) {
    if (kube::StringAt(object, {"kind"}) != "Secret") continue;
    const std::string name = kube::StringAt(object, {"metadata", "name"});
    if (name != names::kDbCredentialsSecret && name != names::kApiKeysSecret) continue;
    auto read = secrets.find(name);
    if (read == secrets.end()) continue;  // absent: created by POST (ApplyKindOf)
    const std::string version = kube::StringAt(read->second, {"metadata", "resourceVersion"});
    if (!version.empty()) object["metadata"]["resourceVersion"] = version;
  }
  return objects;
}

}  // namespace

Status ProjectReconciler::ApplyDesired(Pass& pass) {
  pass.ns_terminating = !pass.problem && pass.ns_object != nullptr &&
                        kube::At(*pass.ns_object, {"metadata", "deletionTimestamp"}) != nullptr;
  if (pass.problem || pass.ns_terminating || !pass.rendered) return Status::Ok();
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
  for (const std::string& copy : pass.rendered->secret_copies) {
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
  StatusOr<kube::ApplyResult> applied =
      applier_.ApplyAll(WithKeyPreconditions(pass.rendered->objects, pass.secrets), observed);
  if (!applied.ok() && applied.status().IsAlreadyExists()) {
    // A key Secret is created by POST only (ApplyKindOf): another writer created it between our
    // read and our create, with keys of its own. Theirs win: re-read, render again with them.
    pass.log.Info("a key Secret was created meanwhile; using its keys",
                  {{"error", applied.status().ToString()}});
    pass.existing = Keys{};
    pass.step = "ReadKeys";
    KUBABASE_RETURN_IF_ERROR(ReadKeys(pass));
    pass.step = "Render";
    KUBABASE_RETURN_IF_ERROR(Render(pass));
    if (pass.problem || !pass.rendered) return Status::Ok();
    pass.step = "Apply";
    applied =
        applier_.ApplyAll(WithKeyPreconditions(pass.rendered->objects, pass.secrets), observed);
  }
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
  KUBABASE_RETURN_IF_ERROR(Prune(pass.project, pass.rendered->objects, &pruned));
  if (pruned > 0) {
    Event(pass.object, false, "Pruned",
          "deleted " + std::to_string(pruned) + " objects the spec no longer asks for");
  }
  return Status::Ok();
}

}  // namespace kubabase::project
