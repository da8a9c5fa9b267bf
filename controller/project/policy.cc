#include "controller/project/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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
  return std::nullopt;
}

}  // namespace kubabase::project
