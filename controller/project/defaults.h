// Defaults: the operator-wide settings that fill in what a Project's spec leaves empty. main.cc
// fills a Defaults from flags (--base-domain, --namespace-prefix, --ingress-class,
// --ingress-namespace, --image-*); a default-constructed Defaults holds the documented defaults.
//
//   Defaults defaults;                                   // kubabase.localhost, project-, ...
//   defaults.base_domain = "api.example.com";            // from --base-domain
//   std::string image = defaults.images.postgrest;       // "postgrest/postgrest:v14.5"
//
// The default image tags and the built-in plans live here and nowhere else. Plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kubabase::project {

// Exact image tags (from the upstream self-hosted compose file); overridable by flags and spec.
inline constexpr const char* kDefaultPostgresImage = "supabase/postgres:15.8.1.085";
inline constexpr const char* kDefaultPostgrestImage = "postgrest/postgrest:v14.5";
inline constexpr const char* kDefaultGotrueImage = "supabase/gotrue:v2.186.0";
inline constexpr const char* kDefaultStorageImage = "supabase/storage-api:v1.44.2";

struct Images {
  std::string postgres = kDefaultPostgresImage;
  std::string postgrest = kDefaultPostgrestImage;
  std::string gotrue = kDefaultGotrueImage;
  std::string storage = kDefaultStorageImage;
  // Runs the bootstrap Job: needs psql and sh. Empty means "the database's image" (the spec's
  // database.image if set, else `postgres`), so client and server versions match.
  std::string bootstrap;
  // --image-<key> of the components that declare a default_image (components/component.h), by
  // component key; absent or "" means the component's own default.
  std::map<std::string, std::string> components;
};

// Requests and limits of one container, by resource name ("cpu", "memory"), as quantities.
struct ComputeResources {
  std::map<std::string, std::string> requests;
  std::map<std::string, std::string> limits;
  friend bool operator==(const ComputeResources&, const ComputeResources&) = default;
};

// A plan: what the admin lets one Project have (plans.h). A Project picks one with spec.plan.
struct Plan {
  // The project namespace's ResourceQuota spec.hard: "requests.cpu", "requests.memory",
  // "limits.cpu", "limits.memory", "requests.storage", "pods", "persistentvolumeclaims" (a key
  // left out is not limited).
  std::map<std::string, std::string> quota;
  // The LimitRange's container defaults, for pods without resources (the operator's own always
  // state theirs): defaultRequest and default (limits).
  ComputeResources container_defaults = {.requests = {{"cpu", "50m"}, {"memory", "64Mi"}},
                                         .limits = {{"cpu", "500m"}, {"memory", "256Mi"}}};
  int32_t max_replicas = 1;     // of any one component
  std::string max_volume_size;  // of any one volume; "" = no cap
  friend bool operator==(const Plan&, const Plan&) = default;
};

// small, medium and large: what a fresh install enforces without a --plans-file.
std::map<std::string, Plan> BuiltinPlans();

struct Defaults {
  // A project's host when spec.host is empty: <name>.<base_domain>. "kubabase.localhost"
  // resolves to loopback on most systems (RFC 6761 .localhost), handy for local clusters.
  std::string base_domain = "kubabase.localhost";
  // A project's namespace is <namespace_prefix><name>.
  std::string namespace_prefix = "project-";
  // spec.ingress.className when empty; "" leaves ingressClassName unset (the cluster default).
  std::string ingress_class;
  // The ingress controller's namespace; NetworkPolicies admit traffic from it.
  std::string ingress_namespace = "ingress-nginx";
  // The spec.ingress.annotations keys a Project may set (policy.h AnnotationAllowed: exact, or a
  // prefix ending in "*"). Everything else is refused with AnnotationNotAllowed.
  std::vector<std::string> allowed_ingress_annotations = {"cert-manager.io/*"};
  Images images;
  // The plans a Project may pick (spec.plan), by name: --plans-file, else BuiltinPlans().
  std::map<std::string, Plan> plans = BuiltinPlans();
  // The plan of a Project whose spec.plan is empty (--default-plan); one of `plans`.
  std::string default_plan = "small";
};

}  // namespace kubabase::project
