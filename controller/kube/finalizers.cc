#include "controller/kube/finalizers.h"

#include <algorithm>

namespace kubabase::kube {
namespace {

Status PatchFinalizers(ApiClient& client, const Resource& resource, const ObjectVersion& object,
                       const std::vector<std::string>& finalizers) {
  // The whole list is replaced (merge patch semantics); the resourceVersion guard makes a
  // concurrent change fail with kAborted instead of being overwritten.
  Json patch = {{"metadata",
                 {{"finalizers", finalizers}, {"resourceVersion", object.resource_version}}}};
  StatusOr<Json> patched = client.MergePatch(resource, object.ns, object.name, patch);
  if (!patched.ok() && !patched.status().IsNotFound()) {
    return patched.status().Annotate("update finalizers of " + resource.kind + " " + object.name);
  }
  return Status::Ok();
}

}  // namespace

bool HasFinalizer(const std::vector<std::string>& finalizers, std::string_view finalizer) {
  return std::find(finalizers.begin(), finalizers.end(), finalizer) != finalizers.end();
}

Status AddFinalizer(ApiClient& client, const Resource& resource, const ObjectVersion& object,
                    std::string_view finalizer) {
  if (HasFinalizer(object.finalizers, finalizer)) return Status::Ok();
  std::vector<std::string> finalizers = object.finalizers;
  finalizers.emplace_back(finalizer);
  return PatchFinalizers(client, resource, object, finalizers);
}

Status RemoveFinalizer(ApiClient& client, const Resource& resource, const ObjectVersion& object,
                       std::string_view finalizer) {
  if (!HasFinalizer(object.finalizers, finalizer)) return Status::Ok();
  std::vector<std::string> finalizers;
  for (const std::string& f : object.finalizers) {
    if (f != finalizer) finalizers.push_back(f);
  }
  return PatchFinalizers(client, resource, object, finalizers);
}

}  // namespace kubabase::kube
