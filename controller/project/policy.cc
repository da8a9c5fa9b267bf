#include "controller/project/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "controller/kube/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/plans.h"

namespace kubabase::project {

bool AnnotationAllowed(std::string_view pattern, std::string_view key) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return key.substr(0, pattern.size()) == pattern;
  }
  return key == pattern;
}

bool HostAllowed(std::string_view suffix, std::string_view host) {
  if (host == suffix) return true;
  return host.size() > suffix.size() && host.ends_with(suffix) &&
         host[host.size() - suffix.size() - 1] == '.';
}

namespace {

std::optional<Problem> CheckHostSuffix(const ProjectSpec& spec, const Defaults& defaults) {
  if (spec.host.empty()) return std::nullopt;  // <name>.<base domain>: the operator's own choice
  const std::vector<std::string> allowed = defaults.allowed_host_suffixes.empty()
                                               ? std::vector<std::string>{defaults.base_domain}
                                               : defaults.allowed_host_suffixes;
  for (const std::string& suffix : allowed) {
    if (HostAllowed(suffix, spec.host)) return std::nullopt;
  }
  return Problem{"HostNotAllowed",
                 fmt::format("spec.host \"{}\" is not allowed; this operator serves hosts under "
                             "{} (its --allowed-host-suffixes). Choose a host there, or ask the "
                             "cluster admin to allow the domain",
                             spec.host, fmt::join(allowed, ", "))};
}

}  // namespace

std::optional<Problem> CheckPolicy(const ProjectSpec& spec, const Defaults& defaults) {
  if (std::optional<Problem> host = CheckHostSuffix(spec, defaults)) return host;
  const std::vector<std::string>& allowed = defaults.allowed_ingress_annotations;
  for (const auto& [key, value] : spec.ingress.annotations) {
    bool ok = false;
    for (const std::string& pattern : allowed) ok = ok || AnnotationAllowed(pattern, key);
    if (ok) continue;
    // The key is the author's own text; the value is never repeated (it may be a snippet).
    return Problem{
        "AnnotationNotAllowed",
        fmt::format("spec.ingress.annotations: \"{}\" is not allowed; this operator allows {} "
                    "(its --allowed-ingress-annotations). Remove the annotation, or ask the "
                    "cluster admin to allow it",
                    key, allowed.empty() ? std::string("none")
                                         : fmt::format("{}", fmt::join(allowed, ", ")))};
  }
  return CheckPlan(spec, defaults);
}

namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The namespaces whose Secrets may consent, in flag order, without duplicates and without any
// that could be a project's (options.cc refuses those at start; this is the second line).
std::vector<std::string> ConsentingNamespaces(const Defaults& defaults) {
  std::vector<std::string> out;
  auto add = [&](const std::string& ns) {
    if (ns.empty() || StartsWith(ns, defaults.namespace_prefix)) return;
    if (std::find(out.begin(), out.end(), ns) == out.end()) out.push_back(ns);
  };
  add(defaults.shared_secrets_namespace);
  for (const std::string& ns : defaults.allowed_secret_namespaces) add(ns);
  return out;
}

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

SecretSource SecretSourceOf(std::string_view ns, std::string_view project_ns,
                            const Defaults& defaults, const kube::Json* cached_namespace) {
  if (ns == project_ns) return SecretSource::kOwn;
  if (StartsWith(ns, defaults.namespace_prefix)) return SecretSource::kRefused;
  if (cached_namespace != nullptr &&
      kube::StringAt(*cached_namespace, {"metadata", "labels", names::kManagedByLabel}) ==
          names::kManagedByValue) {
    return SecretSource::kRefused;
  }
  const std::vector<std::string> consenting = ConsentingNamespaces(defaults);
  return std::find(consenting.begin(), consenting.end(), ns) != consenting.end()
             ? SecretSource::kConsenting
             : SecretSource::kRefused;
}

bool SecretAllowsProject(const kube::Json& secret, std::string_view project) {
  const std::string list =
      kube::StringAt(secret, {"metadata", "annotations", names::kAllowedProjectsAnnotation});
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string_view entry = Trimmed(std::string_view(list).substr(start, end - start));
    if (!entry.empty() && (entry == "*" || entry == project)) return true;
    start = end + 1;
  }
  return false;
}

Problem SecretRefNotAllowed(std::string_view field, std::string_view ns, std::string_view name,
                            std::string_view project, std::string_view project_ns,
                            const Defaults& defaults) {
  const std::vector<std::string> consenting = ConsentingNamespaces(defaults);
  std::string where =
      consenting.empty()
          ? fmt::format("A Project may use only Secrets of its own namespace {}", project_ns)
          : fmt::format("A Project may use a Secret of its own namespace {}, or one of {} whose "
                        "annotation {} lists \"{}\" (or \"*\")",
                        project_ns, fmt::join(consenting, ", "),
                        names::kAllowedProjectsAnnotation, project);
  return Problem{"SecretRefNotAllowed",
                 fmt::format("{}: Secret {}/{} does not exist or does not allow Project {}. {}; "
                             "see docs/security.md",
                             field, ns, name, project, where)};
}

}  // namespace kubabase::project
