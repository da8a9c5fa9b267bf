// Defaults: the operator-wide settings that fill in what a Project's spec leaves empty. main.cc
// fills a Defaults from flags (--base-domain, --namespace-prefix, --ingress-class,
// --ingress-namespace, --image-*); a default-constructed Defaults holds the documented defaults.
//
//   Defaults defaults;                                   // kubabase.localhost, project-, ...
//   defaults.base_domain = "api.example.com";            // from --base-domain
//   std::string image = defaults.images.postgrest;       // "postgrest/postgrest:v14.5@sha256:..."
//
// The default image tags and the built-in plans live here and nowhere else. Plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/project/cidr.h"

namespace kubabase::project {

// Exact image tags (from the upstream self-hosted compose file), each pinned by the digest of its
// multi-architecture index next to the tag (`repo:tag@sha256:...`: the tag for people, the digest
// for the kubelet, which pulls by digest and so gets the same bytes even if the tag is moved).
// Where each digest was read: docs/security.md section 10. Overridable by flags and spec.
inline constexpr const char* kDefaultPostgresImage =
    "supabase/postgres:15.8.1.085"
    "@sha256:af083ef64d0408c8f098ee6f5c364a59b26f36fbc0f3a334a62c5c1d57362e9b";
inline constexpr const char* kDefaultPostgrestImage =
    "postgrest/postgrest:v14.5"
    "@sha256:b574528fe109c8343c1247155734d03df8c34b462f342dca0ccc20244fc36ef9";
inline constexpr const char* kDefaultGotrueImage =
    "supabase/gotrue:v2.186.0"
    "@sha256:f2112b9289422f205df4ea15b8b550d425ae42528ea54521faa32cc7b62490de";
inline constexpr const char* kDefaultStorageImage =
    "supabase/storage-api:v1.44.2"
    "@sha256:4f0eb90b935c676914ed0609c2c7d47cddb3f336155726bb2d5542617d4afdfa";

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

// Where a project's pods may open connections (render/network_policy.cc renders it as the
// NetworkPolicy "default-egress"): DNS, their own namespace, every address but `denied_cidrs`,
// and `allowed_cidrs` even inside a denied range. Filled from --egress-*.
struct Egress {
  // DNS is UDP and TCP 53 to the pods labelled `dns_labels` in `dns_namespace` (the standard
  // kube-dns/CoreDNS labels); an empty namespace allows port 53 to any address.
  std::string dns_namespace = "kube-system";
  std::map<std::string, std::string> dns_labels = {{"k8s-app", "kube-dns"}};
  // Excepted from 0.0.0.0/0 and ::/0: private (RFC 1918, RFC 4193), shared (RFC 6598, CGNAT),
  // link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254 lie in these) and
  // loopback.
  // Cluster pod and Service ranges are usually among them, so other namespaces and the apiserver's
  // ClusterIP are unreachable; each must be narrower than /0 (an ipBlock except must be a strict
  // subset of its cidr).
  std::vector<Cidr> denied_cidrs = {
      {"10.0.0.0/8", false, 8},      {"172.16.0.0/12", false, 12}, {"192.168.0.0/16", false, 16},
      {"100.64.0.0/10", false, 10},  {"169.254.0.0/16", false, 16}, {"127.0.0.0/8", false, 8},
      {"fc00::/7", true, 7},         {"fe80::/10", true, 10},       {"::1/128", true, 128}};
  // Reachable although inside a denied range: in-cluster services the admin wants projects to use
  // (an S3 or SMTP server). Every port.
  std::vector<Cidr> allowed_cidrs;
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
  // Where a Project's Secret references may point besides its own namespace (policy.h
  // SecretSourceOf): the shared-secrets namespace ("" none) and the admin's further namespaces.
  // A Secret there must name the Project in kubabase.io/allowed-projects.
  std::string shared_secrets_namespace = "kubabase-shared";
  std::vector<std::string> allowed_secret_namespaces;

  Egress egress;

  // The domains under which spec.host may lie (policy.h HostAllowed: the domain itself or a
  // subdomain). Empty: base_domain alone. Anything else is refused with HostNotAllowed.
  std::vector<std::string> allowed_host_suffixes;
  Images images;
  // The plans a Project may pick (spec.plan), by name: --plans-file, else BuiltinPlans().
  std::map<std::string, Plan> plans = BuiltinPlans();
  // The plan of a Project whose spec.plan is empty (--default-plan); one of `plans`.
  std::string default_plan = "small";
};

}  // namespace kubabase::project
