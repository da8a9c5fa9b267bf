// Component: everything kubabase knows about one part of a project (the database, PostgREST,
// GoTrue, Storage, postgres-meta, the routing in front of them), declared once, in one file per
// component under components/. Render, status, the keys, the bootstrap, routing, endpoints, the
// Secret-reference index and the kubectl plugin loop over Components(); none of them names a
// component by hand.
//
//   for (const ComponentPlan& plan : PlanComponents(project, defaults)) {
//     plan.def->key;        // "rest": spec.rest, status.components.rest, status.endpoints.rest
//     plan.image;           // decided once: spec image, else the operator default
//     plan.replicas;        // desired replicas: 0 while paused
//   }
//
// Adding a component: one file components/<name>.cc defining `const ComponentDef& <Name>()`,
// its line in Components() (components/registry.cc: the apply order), its spec block in
// crds/project.yaml. A component whose spec is the common ComponentSpec (enabled, replicas,
// image, resources, extraEnv) needs no C++ spec type: ProjectSpec::basic holds it, parsed for
// every key that declares `basic_spec`.
//
// Thread-safe: the declarations are immutable process-wide constants.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/resource.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"

namespace kubabase::project {

namespace render_internal {
struct Context;
}  // namespace render_internal
struct ComponentPlan;

// A public path on the project host and where it goes.
struct Route {
  std::string_view prefix;   // "/rest/v1"
  std::string_view service;  // the Service in the project namespace
  int port = 0;
  bool strip = true;       // the prefix is removed before the request goes upstream
  bool websocket = false;  // the route carries websocket upgrades
  // Sent upstream as X-Forwarded-Prefix, so the service writes public URLs ("" for none).
  std::string_view forwarded_prefix;
};

// A user Secret the spec names, copied into the project namespace (as `copy`).
struct UserSecretNeed {
  std::string field;   // the spec field that names it, for messages: "spec.auth.smtp..."
  std::string source_namespace;
  std::string source_name;
  std::string copy;    // the copy's name in the project namespace
  // (key in the user's Secret, key in the copy); every one is required.
  std::vector<std::pair<std::string, std::string>> keys;
};

struct ComponentDef {
  std::string_view key;        // spec.<key>, status.components.<key>, status.endpoints.<key>
  std::string_view label;      // the kubabase.io/component label of its objects
  std::string_view condition;  // its condition type: "RestReady"
  // The workload whose rollout tells readiness ("Deployment rest"); null for routing, which is
  // ready when its Ingresses exist.
  const kube::Resource* workload_resource = nullptr;
  std::string_view workload;
  // Ready only once the bootstrap Job of the current inputs completed (the database).
  bool waits_for_bootstrap = false;
  // The spec is ComponentSpec alone, parsed into ProjectSpec::basic[key], enabled by default as
  // stated here.
  bool basic_spec = false;
  bool basic_enabled_by_default = false;
  // Whether the spec enables it; null: always on.
  bool (*enabled)(const ProjectSpec&) = nullptr;
  // Replicas the spec asks for, before `paused` (null: 1).
  int32_t (*replicas)(const ProjectSpec&) = nullptr;
  // The image: the spec's, else the operator default (null: none, e.g. routing). A basic_spec
  // component states `default_image` instead: spec.<key>.image, else --image-<key>, else it.
  std::string (*image)(const ProjectSpec&, const Images&) = nullptr;
  std::string_view default_image;
  // Requests and limits of its container when spec.<key>.resources says nothing (plans.h
  // ContainerResources merges the two). Small: a plan's quota must hold every replica of every
  // component, a rolling update's extra pod and the bootstrap Job.
  ComputeResources resources;
  // spec.<key>.resources (null: a basic_spec component's, or none).
  const Json& (*spec_resources)(const ProjectSpec&) = nullptr;
  // Database login roles it connects as; db-credentials holds a password for each.
  std::vector<std::string_view> login_roles;
  // What it needs in the database (its roles' attributes, schemas, grants): a fragment of the
  // bootstrap SQL, components/sql/<key>.sql embedded at build time (render/bootstrap_sql.h says
  // what each statement must be). Every component's fragment runs, enabled or not, so that
  // enabling one later finds the database ready.
  std::string_view bootstrap_sql;
  // Public routes (none for internal components).
  std::vector<Route> routes;
  // The user Secrets this spec makes it read (null: none).
  std::vector<UserSecretNeed> (*user_secrets)(const ProjectSpec&) = nullptr;
  // Renders its objects (namespace-level Secrets are rendered by the Secrets stage from
  // user_secrets). Errors: as DesiredState (render.h).
  Status (*render)(const render_internal::Context&, const ComponentPlan&,
                   std::vector<kube::Json>&) = nullptr;
};

// The `enabled`, `replicas` and `image` of a component whose spec struct is a ComponentSpec
// (spec.*Field) and whose operator default is images.*Default:
//   .enabled = EnabledIn<&ProjectSpec::rest>,
//   .image = ImageIn<&ProjectSpec::rest, &Images::postgrest>,
template <auto Field>
bool EnabledIn(const ProjectSpec& spec) {
  return (spec.*Field).enabled;
}
template <auto Field>
int32_t ReplicasIn(const ProjectSpec& spec) {
  return (spec.*Field).replicas;
}
template <auto Field>
const Json& ResourcesIn(const ProjectSpec& spec) {
  return (spec.*Field).resources;
}
template <auto Field, auto Default>
std::string ImageIn(const ProjectSpec& spec, const Images& images) {
  const std::string& own = (spec.*Field).image;
  return own.empty() ? images.*Default : own;
}

// A component as this spec has it: only enabled components get a plan.
struct ComponentPlan {
  const ComponentDef* def = nullptr;
  std::string image;     // "" when the component has none
  int32_t replicas = 0;  // desired: 0 while paused
  friend bool operator==(const ComponentPlan&, const ComponentPlan&) = default;
};

// Every component, in apply order (database first, routing last).
const std::vector<const ComponentDef*>& Components();

// The component declared with `key`, or null.
const ComponentDef* FindComponent(std::string_view key);

// True when the spec enables `def`.
bool Enabled(const ComponentDef& def, const ProjectSpec& spec);

// The enabled components of `project`, in apply order, with the image and replicas decided.
std::vector<ComponentPlan> PlanComponents(const Project& project, const Defaults& defaults);

// Every login role of every component (duplicates removed, registry order): the roles the
// bootstrap creates and db-credentials holds a password for.
const std::vector<std::string>& AllLoginRoles();

// The user Secrets the enabled components of `spec` read.
std::vector<UserSecretNeed> UserSecretNeeds(const ProjectSpec& spec);

// The routes of the enabled components of `spec`, in registry order.
std::vector<Route> EnabledRoutes(const ProjectSpec& spec);

// The spec of a component with `basic_spec` (its defaults when the spec has none).
const ComponentSpec& BasicSpec(const ProjectSpec& spec, const ComponentDef& def);

}  // namespace kubabase::project
