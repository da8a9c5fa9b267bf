// The table behind project_schema.h. Shared shapes (the CRD's YAML anchors &replicas, &image,
// &resources, &extraEnv) are one row with "*" for the component key.
#include "controller/project/project_schema.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace kubabase::project {
namespace {

constexpr std::string_view kLabelValue = "^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$";
constexpr std::string_view kDnsNameOrEmpty =
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$";
constexpr std::string_view kQuantity =
    "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.["
    "0-9]*)?)|(\\.[0-9]+))))?$";
constexpr std::string_view kDnsLabelOrEmpty = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$";
constexpr std::string_view kSqlIdentifier = "^[A-Za-z_][A-Za-z0-9_]*$";
constexpr std::string_view kHttpUrlOrEmpty = "^(https?://.+)?$";
constexpr std::string_view kBucketOrEmpty = "^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$";

constexpr std::string_view kDnsNameMeaning = "a lower-case DNS name such as api.example.com";
constexpr std::string_view kQuantityMeaning = "a quantity such as \"10Gi\"";

std::vector<FieldRule> MakeRules() {
  return {
      {.path = "spec.displayName", .max_length = 256},
      {.path = "spec.organization",
       .max_length = 63,
       .pattern = kLabelValue,
       .pattern_meaning = "a valid label value"},
      {.path = "spec.deletionPolicy", .enumeration = {"Retain", "Delete"}},
      {.path = "spec.host",
       .max_length = 253,
       .pattern = kDnsNameOrEmpty,
       .pattern_meaning = kDnsNameMeaning},
      {.path = "spec.plan",
       .max_length = 63,
       .pattern = kDnsLabelOrEmpty,
       .pattern_meaning = "a plan's name: a lower-case DNS label such as small"},
      {.path = "spec.ingress.className", .max_length = 253},
      {.path = "spec.ingress.annotations", .max_properties = 64},
      {.path = "spec.ingress.tlsSecretName",
       .max_length = 253,
       .pattern = kDnsNameOrEmpty,
       .pattern_meaning = "a Secret name"},
      // Every component's, the database's included.
      {.path = "spec.*.image", .max_length = 512},
      {.path = "spec.*.resources.limits{}",
       .pattern = kQuantity,
       .pattern_meaning = kQuantityMeaning},
      {.path = "spec.*.resources.requests{}",
       .pattern = kQuantity,
       .pattern_meaning = kQuantityMeaning},
      {.path = "spec.*.resources.claims", .max_items = 16},
      {.path = "spec.*.resources.claims[]", .required = {"name"}},
      {.path = "spec.*.resources.claims[].name", .max_length = 253},
      {.path = "spec.*.resources.claims[].request", .max_length = 253},
      {.path = "spec.database.storage.size",
       .pattern = kQuantity,
       .pattern_meaning = kQuantityMeaning},
      {.path = "spec.database.storage.storageClassName", .max_length = 253},
      {.path = "spec.*.replicas", .minimum = 0, .maximum = 100},
      {.path = "spec.*.extraEnv", .max_items = 100, .list_map_keys = {"name"}},
      {.path = "spec.*.extraEnv[]", .required = {"name"}},
      {.path = "spec.*.extraEnv[].name", .min_length = 1, .max_length = 256},
      {.path = "spec.rest.schemas", .min_items = 1, .max_items = 32},
      {.path = "spec.rest.schemas[]",
       .max_length = 63,
       .pattern = kSqlIdentifier,
       .pattern_meaning = "a plain SQL identifier"},
      {.path = "spec.rest.maxRows", .minimum = 1, .maximum = 1000000000},
      {.path = "spec.auth.siteURL", .max_length = 2048},
      {.path = "spec.auth.additionalRedirectURLs", .max_items = 100},
      {.path = "spec.auth.additionalRedirectURLs[]", .max_length = 2048},
      {.path = "spec.auth.jwtExpirySeconds", .minimum = 30, .maximum = 604800},
      {.path = "spec.auth.smtp.host", .max_length = 253},
      {.path = "spec.auth.smtp.port", .minimum = 1, .maximum = 65535},
      {.path = "spec.auth.smtp.user", .max_length = 256},
      {.path = "spec.auth.smtp.passwordSecretRef.namespace", .max_length = 63},
      {.path = "spec.auth.smtp.passwordSecretRef.name", .max_length = 253},
      {.path = "spec.auth.smtp.passwordSecretRef.key", .max_length = 253},
      {.path = "spec.auth.smtp.adminEmail", .max_length = 320},
      {.path = "spec.auth.smtp.senderName", .max_length = 256},
      {.path = "spec.storage.fileSizeLimit",
       .pattern = kQuantity,
       .pattern_meaning = kQuantityMeaning},
      {.path = "spec.storage.backend", .enumeration = {"file", "s3"}},
      {.path = "spec.storage.volume.size",
       .pattern = kQuantity,
       .pattern_meaning = kQuantityMeaning},
      {.path = "spec.storage.volume.storageClassName", .max_length = 253},
      {.path = "spec.storage.s3.endpoint",
       .max_length = 2048,
       .pattern = kHttpUrlOrEmpty,
       .pattern_meaning = "a URL starting with http:// or https://"},
      {.path = "spec.storage.s3.bucket",
       .max_length = 63,
       .pattern = kBucketOrEmpty,
       .pattern_meaning = "a bucket name (3 to 63 of [a-z0-9.-])"},
      {.path = "spec.storage.s3.region", .max_length = 64},
      {.path = "spec.storage.s3.credentialsSecretRef.namespace", .max_length = 63},
      {.path = "spec.storage.s3.credentialsSecretRef.name", .max_length = 253},
  };
}

// Compiled once, at first use (a function-local static: thread-safe initialisation).
const std::regex& Compiled(std::string_view pattern) {
  static const std::map<std::string_view, std::regex> compiled = [] {
    std::map<std::string_view, std::regex> out;
    for (const FieldRule& rule : SpecFieldRules()) {
      if (!rule.pattern.empty()) out.emplace(rule.pattern, std::regex(std::string(rule.pattern)));
    }
    return out;
  }();
  return compiled.at(pattern);
}

std::string Join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::string_view item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

Status Invalid(const std::string& path, const std::string& what) {
  return InvalidArgumentError(path + ": " + what);
}

Status CheckString(const FieldRule& rule, const std::string& path, const std::string& text) {
  if (rule.min_length && text.size() < *rule.min_length) {
    if (*rule.min_length == 1) return Invalid(path, "must not be empty");
    return Invalid(path, "must be at least " + std::to_string(*rule.min_length) + " characters");
  }
  if (rule.max_length && text.size() > *rule.max_length) {
    return Invalid(path, "must be at most " + std::to_string(*rule.max_length) + " characters");
  }
  if (!rule.pattern.empty() && !std::regex_match(text, Compiled(rule.pattern))) {
    return Invalid(path, "must be " + std::string(rule.pattern_meaning) + ", got \"" + text + "\"");
  }
  if (!rule.enumeration.empty() &&
      std::find(rule.enumeration.begin(), rule.enumeration.end(), text) == rule.enumeration.end()) {
    return Invalid(path, "must be one of " + Join(rule.enumeration) + ", got \"" + text + "\"");
  }
  return Status();
}

Status CheckList(const FieldRule& rule, const std::string& path, const kube::Json& list) {
  if (rule.min_items && list.size() < *rule.min_items) {
    return Invalid(path, "must list at least " + std::to_string(*rule.min_items));
  }
  if (rule.max_items && list.size() > *rule.max_items) {
    return Invalid(path, "must list at most " + std::to_string(*rule.max_items));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size() && !rule.list_map_keys.empty(); ++i) {
    std::string key;
    for (std::string_view name : rule.list_map_keys) {
      auto it = list[i].is_object() ? list[i].find(name) : list[i].end();
      key += (it == list[i].end() ? std::string() : it->dump()) + "\n";
    }
    if (!seen.insert(key).second) {
      return Invalid(path + "[" + std::to_string(i) + "]",
                     "has the same " + Join(rule.list_map_keys) + " as an earlier entry");
    }
  }
  return Status();
}

Status CheckObject(const FieldRule& rule, const std::string& path, const kube::Json& object) {
  if (rule.max_properties && object.size() > *rule.max_properties) {
    return Invalid(path, "must have at most " + std::to_string(*rule.max_properties) + " entries");
  }
  for (std::string_view key : rule.required) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
      return Invalid(path + "." + std::string(key), "is required");
    }
  }
  return Status();
}

}  // namespace

const std::vector<FieldRule>& SpecFieldRules() {
  static const std::vector<FieldRule> rules = MakeRules();
  return rules;
}

bool PathMatches(std::string_view rule_path, std::string_view schema_path) {
  while (true) {
    size_t rule_end = rule_path.find('.');
    size_t path_end = schema_path.find('.');
    std::string_view rule_segment = rule_path.substr(0, rule_end);
    std::string_view path_segment = schema_path.substr(0, path_end);
    if (rule_segment != "*" && rule_segment != path_segment) return false;
    if (rule_end == std::string_view::npos || path_end == std::string_view::npos) {
      return rule_end == path_end;
    }
    rule_path.remove_prefix(rule_end + 1);
    schema_path.remove_prefix(path_end + 1);
  }
}

const FieldRule* FindFieldRule(std::string_view schema_path) {
  for (const FieldRule& rule : SpecFieldRules()) {
    if (PathMatches(rule.path, schema_path)) return &rule;
  }
  return nullptr;
}

Status CheckField(const FieldRule& rule, const std::string& path, const kube::Json& value) {
  if (value.is_number_integer()) {
    int64_t n = value.get<int64_t>();
    if ((rule.minimum && n < *rule.minimum) || (rule.maximum && n > *rule.maximum)) {
      return Invalid(path, "must be between " + std::to_string(rule.minimum.value_or(INT64_MIN)) +
                               " and " + std::to_string(rule.maximum.value_or(INT64_MAX)) +
                               ", got " + std::to_string(n));
    }
    return Status();
  }
  if (value.is_string()) return CheckString(rule, path, value.get<std::string>());
  if (value.is_array()) return CheckList(rule, path, value);
  if (value.is_object()) return CheckObject(rule, path, value);
  return Status();
}

bool DangerousIngressAnnotation(std::string_view key) {
  auto ends_with = [key](std::string_view s) {
    return key.size() >= s.size() && key.substr(key.size() - s.size()) == s;
  };
  auto contains = [key](std::string_view s) { return key.find(s) != std::string_view::npos; };
  constexpr std::string_view kNginx = "nginx.ingress.kubernetes.io/";
  const bool nginx = key.substr(0, kNginx.size()) == kNginx;
  return ends_with("-snippet") ||
         (nginx && (ends_with("/server-alias") || contains("/auth-") || contains("/mirror-") ||
                    contains("/canary")));
}

const std::vector<const CelRule*>& CelRules() {
  static const std::vector<const CelRule*> rules = {
      &kNameIsShortDnsLabel, &kSmtpHostWithPassword, &kSmtpPasswordRefComplete,
      &kNoDangerousIngressAnnotations, &kS3EndpointWithS3, &kS3CredentialsWithS3};
  return rules;
}

}  // namespace kubabase::project
