// ProjectSchema: the constraints crds/project.yaml puts on spec (ranges, lengths, patterns, enums,
// required keys, list keys) and its CEL rules, stated once in C++. ParseProject enforces what this
// table says; crd_defaults_test walks the CRD and fails on any difference in either direction, so
// a bound changed in one place and not the other cannot pass.
//
//   const FieldRule* rule = FindFieldRule("spec.rest.replicas");   // {min 0, max 100}
//   Status s = CheckField(*rule, "spec.rest.replicas", Json(101));   // InvalidArgument
//   for (const CelRule* r : CelRules()) ...;                        // x-kubernetes-validations
//
// Internal to controller/project (parse and its tests). Thread-safe: immutable after first use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/resource.h"

namespace kubabase::project {

// The validation keywords of one schema node. Each member is the CRD keyword of the same name.
struct FieldRule {
  // The node's path from the object root: properties joined by ".", "[]" after a list for its
  // items, "{}" after a map for its values. "*" matches any one segment (the component key:
  // "spec.*.replicas" is spec.rest.replicas, spec.auth.replicas, ...).
  std::string_view path;
  std::optional<int64_t> minimum;
  std::optional<int64_t> maximum;
  std::optional<size_t> min_length;  // characters of a string
  std::optional<size_t> max_length;
  std::optional<size_t> min_items;  // entries of a list
  std::optional<size_t> max_items;
  std::optional<size_t> max_properties;  // entries of a map
  std::string_view pattern;  // ECMAScript regex, the CRD's character for character; "" none
  std::string_view pattern_meaning;  // for messages: "a lower-case DNS name such as ..."
  std::vector<std::string_view> enumeration;  // `enum`
  std::vector<std::string_view> required;     // keys an object must have
  std::vector<std::string_view> list_map_keys;  // x-kubernetes-list-map-keys: unique per item
};

// Every rule under spec, in CRD order. Requires: no two rules match one path.
const std::vector<FieldRule>& SpecFieldRules();

// The rule whose path matches `schema_path` (a path without wildcards, e.g.
// "spec.rest.extraEnv[].name"), or null when the CRD constrains that node by type alone.
const FieldRule* FindFieldRule(std::string_view schema_path);

// True when `schema_path` matches `rule_path` segment by segment ("*" matches any one).
bool PathMatches(std::string_view rule_path, std::string_view schema_path);

// OK when `value` satisfies `rule`; else InvalidArgument "<path>: must ..." with `path` (the
// concrete path, "spec.rest.extraEnv[2].name") first. Only the keywords that apply to the value's
// JSON type are checked (a length to a string, a range to an integer, ...), as the apiserver does.
Status CheckField(const FieldRule& rule, const std::string& path, const kube::Json& value);

// One x-kubernetes-validations entry: where it sits, its CEL text and its message. ParseProject
// implements each by hand (no CEL here) and returns `message` verbatim when it is violated, which
// is what the apiserver would say.
struct CelRule {
  std::string_view path;  // of the node that carries the rule; "" is the object root
  std::string_view rule;
  std::string_view message;
};

inline constexpr CelRule kNameIsShortDnsLabel{
    "",
    "self.metadata.name.size() <= 40 && "
    "self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    "metadata.name must be a DNS-1123 label (lower-case letters, digits and '-', starting and "
    "ending with a letter or digit) of at most 40 characters"};
inline constexpr size_t kMaxProjectNameLength = 40;  // the 40 in kNameIsShortDnsLabel
inline constexpr std::string_view kDnsLabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

inline constexpr CelRule kSmtpHostWithPassword{
    "spec.auth.smtp",
    "!has(self.passwordSecretRef) || !has(self.passwordSecretRef.name) || "
    "size(self.passwordSecretRef.name) == 0 || (has(self.host) && size(self.host) > 0)",
    "spec.auth.smtp.host is required when spec.auth.smtp.passwordSecretRef is set"};

inline constexpr CelRule kSmtpPasswordRefComplete{
    "spec.auth.smtp.passwordSecretRef",
    "(has(self.name) && size(self.name) > 0) == (has(self.namespace) && size(self.namespace) > 0) "
    "&& (has(self.name) && size(self.name) > 0) == (has(self.key) && size(self.key) > 0)",
    "spec.auth.smtp.passwordSecretRef: namespace, name and key are required together"};

inline constexpr CelRule kS3EndpointWithS3{
    "spec.storage",
    "!has(self.backend) || self.backend != 's3' || (has(self.s3) && has(self.s3.endpoint) && "
    "size(self.s3.endpoint) > 0)",
    "spec.storage.s3.endpoint is required when spec.storage.backend is s3"};

inline constexpr CelRule kS3CredentialsWithS3{
    "spec.storage",
    "!has(self.backend) || self.backend != 's3' || (has(self.s3) && "
    "has(self.s3.credentialsSecretRef) && has(self.s3.credentialsSecretRef.name) && "
    "size(self.s3.credentialsSecretRef.name) > 0 && has(self.s3.credentialsSecretRef.namespace) "
    "&& size(self.s3.credentialsSecretRef.namespace) > 0)",
    "spec.storage.s3.credentialsSecretRef.namespace and .name are required when "
    "spec.storage.backend is s3"};

// Ingress annotations that could serve other hosts, run controller configuration or send traffic
// elsewhere (the ingress-nginx CVE classes of 2021 and 2025), refused whatever the operator's
// --allowed-ingress-annotations says (policy.h).
inline constexpr CelRule kNoDangerousIngressAnnotations{
    "spec.ingress.annotations",
    "self.all(k, !k.endsWith('-snippet') && !(k.startsWith('nginx.ingress.kubernetes.io/') && "
    "(k.endsWith('/server-alias') || k.contains('/auth-') || k.contains('/mirror-') || "
    "k.contains('/canary'))))",
    "spec.ingress.annotations may not hold configuration snippets (*-snippet) nor "
    "ingress-nginx's server-alias, auth-*, mirror-* or canary-* annotations"};

// True when `key` breaks kNoDangerousIngressAnnotations (the same test, in C++).
bool DangerousIngressAnnotation(std::string_view key);

// Every CEL rule of the CRD outside status, in CRD order.
const std::vector<const CelRule*>& CelRules();

}  // namespace kubabase::project
