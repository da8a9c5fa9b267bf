#include "controller/project/resources.h"

#include <string>

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
  return kube::ApplyKind{resource, ChildKindOf(*resource)->immutable};
}

std::vector<kube::WatchSpec> WatchSpecs() {
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
    if (resource == &kube::Resource::Secrets()) {
      spec.transform = kube::ChainTransforms(kube::DefaultTransform(), kube::KeepSecretValues({}));
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

}  // namespace kubabase::project
