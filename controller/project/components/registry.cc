// The registry: which components exist, in apply order, and the decisions every consumer shares.
#include <algorithm>

#include "controller/project/components/component.h"
#include "controller/project/components/components.h"

namespace kubabase::project {

const std::vector<const ComponentDef*>& Components() {
  // Apply order: the database (and its bootstrap) first, the services, routing last.
  static const auto* const kComponents = new std::vector<const ComponentDef*>{
      &DatabaseComponent(), &RestComponent(),    &AuthComponent(),
      &StorageComponent(),  &MetaComponent(),    &RoutingComponent()};
  return *kComponents;
}

const ComponentDef* FindComponent(std::string_view key) {
  for (const ComponentDef* def : Components()) {
    if (def->key == key) return def;
  }
  return nullptr;
}

const ComponentSpec& BasicSpec(const ProjectSpec& spec, const ComponentDef& def) {
  auto it = spec.basic.find(std::string(def.key));
  if (it != spec.basic.end()) return it->second;
  static const ComponentSpec* const kOff = [] {
    auto* off = new ComponentSpec;
    off->enabled = false;
    return off;
  }();
  static const ComponentSpec* const kOn = new ComponentSpec;
  return def.basic_enabled_by_default ? *kOn : *kOff;
}

bool Enabled(const ComponentDef& def, const ProjectSpec& spec) {
  if (def.basic_spec) return BasicSpec(spec, def).enabled;
  return def.enabled == nullptr || def.enabled(spec);
}

std::vector<ComponentPlan> PlanComponents(const Project& project, const Defaults& defaults) {
  const ProjectSpec& spec = project.spec;
  std::vector<ComponentPlan> plans;
  for (const ComponentDef* def : Components()) {
    if (!Enabled(*def, spec)) continue;
    ComponentPlan plan;
    plan.def = def;
    if (def->image != nullptr) {
      plan.image = def->image(spec, defaults.images);
    } else if (!def->default_image.empty()) {
      const std::string& own = def->basic_spec ? BasicSpec(spec, *def).image : std::string();
      auto flag = defaults.images.components.find(std::string(def->key));
      plan.image = !own.empty()                                                   ? own
                   : flag != defaults.images.components.end() && !flag->second.empty() ? flag->second
                                                                                : std::string(def->default_image);
    }
    int32_t replicas = 1;
    if (def->basic_spec) {
      replicas = BasicSpec(spec, *def).replicas;
    } else if (def->replicas != nullptr) {
      replicas = def->replicas(spec);
    }
    // Paused: every workload at 0; data, keys and the namespace stay.
    plan.replicas = spec.paused ? 0 : replicas;
    plans.push_back(std::move(plan));
  }
  return plans;
}

const std::vector<std::string>& AllLoginRoles() {
  static const auto* const kRoles = [] {
    auto* roles = new std::vector<std::string>;
    for (const ComponentDef* def : Components()) {
      for (std::string_view role : def->login_roles) {
        if (std::find(roles->begin(), roles->end(), role) == roles->end()) {
          roles->emplace_back(role);
        }
      }
    }
    return roles;
  }();
  return *kRoles;
}

std::vector<UserSecretNeed> UserSecretNeeds(const ProjectSpec& spec) {
  std::vector<UserSecretNeed> needs;
  for (const ComponentDef* def : Components()) {
    if (def->user_secrets == nullptr || !Enabled(*def, spec)) continue;
    for (UserSecretNeed& need : def->user_secrets(spec)) needs.push_back(std::move(need));
  }
  return needs;
}

std::vector<Route> EnabledRoutes(const ProjectSpec& spec) {
  std::vector<Route> routes;
  for (const ComponentDef* def : Components()) {
    if (!Enabled(*def, spec)) continue;
    routes.insert(routes.end(), def->routes.begin(), def->routes.end());
  }
  return routes;
}

}  // namespace kubabase::project
