#include "controller/project/policy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/project/plans.h"

namespace kubabase::project {

bool AnnotationAllowed(std::string_view pattern, std::string_view key) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return key.substr(0, pattern.size()) == pattern;
  }
  return key == pattern;
}

std::optional<Problem> CheckPolicy(const ProjectSpec& spec, const Defaults& defaults) {
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

}  // namespace kubabase::project
