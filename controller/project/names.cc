#include "controller/project/names.h"

namespace kubabase::project {

namespace names {

std::string Namespace(const Defaults& defaults, std::string_view project) {
  return defaults.namespace_prefix + std::string(project);
}

std::map<std::string, std::string> Labels(std::string_view project, std::string_view component,
                                          std::string_view organization) {
  std::map<std::string, std::string> labels = SelectorLabels(project, component);
  labels.emplace(kManagedByLabel, kManagedByValue);
  if (!organization.empty()) labels.emplace(kOrganizationLabel, organization);
  return labels;
}

std::map<std::string, std::string> SelectorLabels(std::string_view project, std::string_view component) {
  return {{std::string(kProjectLabel), std::string(project)},
          {std::string(kComponentLabel), std::string(component)}};
}

}  // namespace names
}  // namespace kubabase::project
