#include "controller/project/names.h"

namespace kubabase::project {

std::string_view ComponentName(Component component) {
  switch (component) {
    case Component::kNamespace: return "namespace";
    case Component::kKeys: return "keys";
    case Component::kDatabase: return "db";
    case Component::kBootstrap: return "bootstrap";
    case Component::kRest: return "rest";
    case Component::kAuth: return "auth";
    case Component::kStorage: return "storage";
    case Component::kIngress: return "ingress";
    case Component::kNetwork: return "network";
  }
  return "unknown";
}

namespace names {

std::string Namespace(const Defaults& defaults, std::string_view project) {
  return defaults.namespace_prefix + std::string(project);
}

std::map<std::string, std::string> Labels(std::string_view project, Component component,
                                          std::string_view organization) {
  std::map<std::string, std::string> labels = SelectorLabels(project, component);
  labels.emplace(kManagedByLabel, kManagedByValue);
  if (!organization.empty()) labels.emplace(kOrganizationLabel, organization);
  return labels;
}

std::map<std::string, std::string> SelectorLabels(std::string_view project, Component component) {
  return {{std::string(kProjectLabel), std::string(project)},
          {std::string(kComponentLabel), std::string(ComponentName(component))}};
}

}  // namespace names
}  // namespace kubabase::project
