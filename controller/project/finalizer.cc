#include "controller/project/finalizer.h"

#include "controller/kube/finalizers.h"
#include "controller/kube/json_fields.h"
#include "controller/project/conflicts.h"
#include "controller/project/names.h"
#include "controller/project/resources.h"

namespace kubabase::project {
namespace {

using kube::Json;
using kube::Resource;

kube::ObjectVersion VersionOf(const Project& project) {
  return {.ns = "", .name = project.name, .resource_version = project.resource_version,
          .finalizers = project.finalizers};
}

}  // namespace

bool HasFinalizer(const Project& project) {
  return kube::HasFinalizer(project.finalizers, names::kFinalizer);
}

Status AddFinalizer(kube::ApiClient& client, const Project& project) {
  return kube::AddFinalizer(client, ProjectsResource(), VersionOf(project), names::kFinalizer);
}

Status RemoveFinalizer(kube::ApiClient& client, const Project& project) {
  return kube::RemoveFinalizer(client, ProjectsResource(), VersionOf(project), names::kFinalizer);
}

StatusOr<kube::Action> Finalizer::Finalize(const Project& project, const StepReporter& report) {
  const std::string ns_name = names::Namespace(defaults_, project.name);
  StatusOr<Json> ns = client_.Get(Resource::Namespaces(), "", ns_name);
  if (!ns.ok() && !ns.status().IsNotFound()) return ns.status();
  // Not ours (a NamespaceConflict, an earlier Project's retained data) or already gone: nothing
  // of ours to clean up, under either policy.
  const Json* ours = ns.ok() && NamespaceOwnedBy(*ns, project.name, project.uid) ? &*ns : nullptr;
  if (project.spec.deletion_policy == DeletionPolicy::kDelete) {
    return FinalizeDelete(project, ours, report);
  }
  return FinalizeRetain(project, ours, report);
}

StatusOr<kube::Action> Finalizer::FinalizeDelete(const Project& project, const Json* ns,
                                                 const StepReporter& report) {
  if (ns != nullptr) {
    const std::string name = kube::StringAt(*ns, {"metadata", "name"});
    const bool terminating = (*ns)["metadata"].contains("deletionTimestamp");
    if (!terminating) {
      kube::DeleteOptions options;
      options.propagation_policy = "Background";
      Status deleted = client_.Delete(Resource::Namespaces(), "", name, options);
      if (!deleted.ok() && !deleted.IsNotFound()) return deleted.Annotate("delete namespace");
      report("DeletingNamespace",
             "deletionPolicy Delete: deleting namespace " + name + " and everything in it");
    }
    return kube::Action::RequeueAfter(poll_);  // wait until the namespace is gone
  }
  KUBABASE_RETURN_IF_ERROR(RemoveFinalizer(client_, project));
  report("Deleted", "namespace deleted; finalizer removed");
  return kube::Action::Done();
}

Status Finalizer::DeleteAll(const Resource& resource, const std::string& ns,
                            const std::string& selector, int* deleted) {
  kube::ListOptions options;
  options.label_selector = selector;
  KUBABASE_ASSIGN_OR_RETURN(Json list, client_.List(resource, ns, options));
  for (const Json& item : list.value("items", Json::array())) {
    const std::string name = kube::StringAt(item, {"metadata", "name"});
    if (item["metadata"].contains("deletionTimestamp")) continue;
    kube::DeleteOptions delete_options;
    delete_options.propagation_policy = "Background";  // their pods go too
    Status status = client_.Delete(resource, ns, name, delete_options);
    if (!status.ok() && !status.IsNotFound()) {
      return status.Annotate("delete " + resource.kind + " " + ns + "/" + name);
    }
    ++*deleted;
  }
  return Status::Ok();
}

Status Finalizer::StripOwner(const Resource& resource, const Json& object, const Project& project,
                             bool mark_retained, bool* patched) {
  const Json& metadata = object["metadata"];
  Json kept = Json::array();
  bool had = false;
  for (const Json& ref : metadata.value("ownerReferences", Json::array())) {
    const bool is_project = ref.value("kind", "") == names::kKind &&
                            ref.value("apiVersion", "") == names::kApiVersion &&
                            ref.value("name", "") == project.name;
    if (is_project) {
      had = true;
    } else {
      kept.push_back(ref);
    }
  }
  const bool needs_label =
      mark_retained && kube::StringAt(metadata, {"labels", names::kRetainedLabel}) != "true";
  if (!had && !needs_label) return Status::Ok();
  Json patch = {{"metadata", {{"resourceVersion", kube::StringAt(metadata, {"resourceVersion"})}}}};
  if (had) patch["metadata"]["ownerReferences"] = kept;
  if (needs_label) patch["metadata"]["labels"][std::string(names::kRetainedLabel)] = "true";
  const std::string ns = resource.namespaced ? kube::StringAt(metadata, {"namespace"}) : "";
  const std::string name = kube::StringAt(metadata, {"name"});
  StatusOr<Json> result = client_.MergePatch(resource, ns, name, patch);
  if (!result.ok() && !result.status().IsNotFound()) {
    return result.status().Annotate("release " + resource.kind + " " + name);
  }
  *patched = true;
  return Status::Ok();
}

StatusOr<kube::Action> Finalizer::FinalizeRetain(const Project& project, const Json* ns,
                                                 const StepReporter& report) {
  if (ns != nullptr) {
    const std::string name = kube::StringAt(*ns, {"metadata", "name"});
    const std::string selector = std::string(names::kProjectLabel) + "=" + project.name;
    int deleted = 0;
    for (const ChildKind& kind : ChildKinds()) {
      if (kind.on_retain != OnRetain::kDelete) continue;
      KUBABASE_RETURN_IF_ERROR(DeleteAll(*kind.resource, name, selector, &deleted));
    }
    // Keep: Secrets (keys), PVCs (data) and the namespace holding them.
    bool released = false;
    for (const ChildKind& kind : ChildKinds()) {
      if (kind.on_retain != OnRetain::kKeep || kind.resource == &Resource::Namespaces()) continue;
      kube::ListOptions options;
      options.label_selector = selector;
      KUBABASE_ASSIGN_OR_RETURN(Json list, client_.List(*kind.resource, name, options));
      for (const Json& item : list.value("items", Json::array())) {
        KUBABASE_RETURN_IF_ERROR(StripOwner(*kind.resource, item, project, false, &released));
      }
    }
    KUBABASE_RETURN_IF_ERROR(StripOwner(Resource::Namespaces(), *ns, project, true, &released));
    if (deleted > 0 || released) {
      report("Retained", "deletionPolicy Retain: deleted " + std::to_string(deleted) +
                             " workloads, Services, Ingresses and Jobs; kept namespace " + name +
                             " with its Secrets and PVCs for a Project of the same name");
    }
  }
  KUBABASE_RETURN_IF_ERROR(RemoveFinalizer(client_, project));
  return kube::Action::Done();
}

}  // namespace kubabase::project
