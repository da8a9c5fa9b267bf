#include "controller/project/resources.h"

#include <string>

#include "controller/kube/json_fields.h"
#include "controller/project/names.h"

namespace kubabase::project {

const kube::Resource& ProjectsResource() {
  static const kube::Resource* const kProjects =
      new kube::Resource{std::string(names::kGroup), std::string(names::kVersion),
                         std::string(names::kPlural), std::string(names::kKind), false};
  return *kProjects;
}

const std::vector<ChildKind>& ChildKinds() {
  using kube::Resource;
  static const auto* const kKinds = new std::vector<ChildKind>{
      // resource                           pruned  immutable  on_retain
      {&Resource::Namespaces(),             false,  false,     OnRetain::kKeep},
      {&Resource::Secrets(),                true,   false,     OnRetain::kKeep},
      {&Resource::PersistentVolumeClaims(), false,  false,     OnRetain::kKeep},
      // The plan's quota and limits: always rendered (never pruned), collected with the Project.
      {&Resource::ResourceQuotas(),         false,  false,     OnRetain::kCollect},
      {&Resource::LimitRanges(),            false,  false,     OnRetain::kCollect},
      {&Resource::ConfigMaps(),             true,   false,     OnRetain::kCollect},
      {&Resource::NetworkPolicies(),        true,   false,     OnRetain::kCollect},
      {&Resource::Ingresses(),              true,   false,     OnRetain::kDelete},
      {&Resource::Deployments(),            true,   false,     OnRetain::kDelete},
      {&Resource::StatefulSets(),           true,   false,     OnRetain::kDelete},
      {&Resource::Jobs(),                   true,   true,      OnRetain::kDelete},
      {&Resource::Services(),               true,   false,     OnRetain::kDelete},
  };
  return *kKinds;
}

const std::vector<const kube::Resource*>& OwnedResources() {
  static const auto* const kOwned = [] {
    auto* owned = new std::vector<const kube::Resource*>;
    for (const ChildKind& kind : ChildKinds()) owned->push_back(kind.resource);
    return owned;
  }();
  return *kOwned;
}

const ChildKind* ChildKindOf(const kube::Resource& resource) {
  for (const ChildKind& kind : ChildKinds()) {
    if (kind.resource->group == resource.group && kind.resource->resource == resource.resource) {
      return &kind;
    }
  }
  return nullptr;
}

StatusOr<const kube::Resource*> ResourceForObject(const kube::Json& object) {
  if (!object.is_object() || !object.contains("apiVersion") || !object.contains("kind") ||
      !object["apiVersion"].is_string() || !object["kind"].is_string()) {
    return InvalidArgumentError("object without apiVersion and kind");
  }
  const std::string api_version = object["apiVersion"].get<std::string>();
  const std::string kind = object["kind"].get<std::string>();
  for (const kube::Resource* resource : OwnedResources()) {
    if (resource->kind == kind && resource->ApiVersion() == api_version) return resource;
  }
  return InvalidArgumentError("kubabase does not manage " + api_version + " " + kind);
}

StatusOr<kube::ApplyKind> ApplyKindOf(const kube::Json& object) {
  KUBABASE_ASSIGN_OR_RETURN(const kube::Resource* resource, ResourceForObject(object));
  kube::ApplyKind kind{resource, ChildKindOf(*resource)->immutable};
  // The generated keys are created once, by POST: of two writers racing on a new Project (an old
  // leader's last reconcile and the new leader's first), one wins and the other re-reads its keys.
  if (resource->resource == "secrets" && resource->group.empty()) {
    const std::string name = kube::StringAt(object, {"metadata", "name"});
    kind.create_only = name == names::kDbCredentialsSecret || name == names::kApiKeysSecret;
  }
  return kind;
}

namespace {
constexpr int64_t kOwnedListPageSize = 50;
}  // namespace

kube::Filter InItsProjectNamespace(std::string namespace_prefix) {
  return [prefix = std::move(namespace_prefix)](const kube::Json& object) {
    const kube::Json* project = kube::At(object, {"metadata", "labels", names::kProjectLabel});
    if (project == nullptr || !project->is_string()) return false;
    const std::string& p = project->get_ref<const std::string&>();
    if (p.empty()) return false;
    // A namespaced child lives in <prefix><project>; the Namespace is <prefix><project>.
    const kube::Json* ns = kube::At(object, {"metadata", "namespace"});
    if (ns == nullptr || !ns->is_string() || ns->get_ref<const std::string&>().empty()) {
      ns = kube::At(object, {"metadata", "name"});
    }
    if (ns == nullptr || !ns->is_string()) return false;
    const std::string& name = ns->get_ref<const std::string&>();
    return name.size() == prefix.size() + p.size() && name.compare(0, prefix.size(), prefix) == 0 &&
           name.compare(prefix.size(), p.size(), p) == 0;
  };
}

std::vector<kube::WatchSpec> WatchSpecs(const Defaults& defaults) {
  std::vector<kube::WatchSpec> specs;
  kube::WatchSpec projects;
  projects.resource = ProjectsResource();
  projects.mapper = kube::MapToSelf();
  projects.primary = true;
  specs.push_back(std::move(projects));
  const std::string selector =
      std::string(names::kManagedByLabel) + "=" + std::string(names::kManagedByValue);
  for (const kube::Resource* resource : OwnedResources()) {
    kube::WatchSpec spec;
    spec.resource = *resource;
    spec.label_selector = selector;
    spec.mapper = kube::MapByLabel(std::string(names::kProjectLabel));
    // The label is anyone's to set: only what sits in its Project's namespace is cached.
    spec.filter = InItsProjectNamespace(defaults.namespace_prefix);
    // Pages of 50: anyone's labelled objects are still listed before they are dropped, and at
    // up to ~1 MiB each a page of 500 alone would exceed the operator's memory limit (250 of
    // 900 KiB in pages of 50 peaked at 145-170 MiB; tests/e2e/isolation_operator_e2e_test.cc).
    spec.page_size = kOwnedListPageSize;
    if (resource == &kube::Resource::Secrets()) {
      spec.transform = kube::ChainTransforms(kube::DefaultTransform(), kube::KeepSecretValues({}));
    }
    if (resource == &kube::Resource::ConfigMaps()) {
      // Matches() compares what is applied: the data of the ConfigMaps render makes. Any other
      // ConfigMap with our labels (a stale one prune will delete) is held as metadata.
      spec.transform = kube::ChainTransforms(
          kube::DefaultTransform(), kube::KeepDataOnlyOf({std::string(names::kBootstrap)}));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace kubabase::project
