#include "controller/project/apply.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>

#include "controller/project/names.h"
#include "controller/project/resources.h"

namespace kubabase::project {
namespace {

// A field's path from the object's root: object keys, and "[]" for any element of a list.
using Path = std::vector<std::string_view>;
constexpr std::string_view kElement = "[]";

// Where the apiserver rewrites a quantity in its canonical form ("0.5" -> "500m", "1024Mi" ->
// "1Gi", the number 1 -> "1"; tests/integration/matches_apiserver_test.cc shows each): the values
// of a core/v1 ResourceRequirements' requests and limits, at the places render puts one.
bool IsQuantityPath(const Path& path) {
  static const std::vector<Path> kResourceRequirements = {
      {"spec", "template", "spec", "containers", kElement, "resources"},  // pod templates
      {"spec", "resources"},                                              // PersistentVolumeClaim
      {"spec", "volumeClaimTemplates", kElement, "spec", "resources"},    // StatefulSet
  };
  if (path.size() < 2) return false;
  const std::string_view list = path[path.size() - 2];
  if (list != "requests" && list != "limits") return false;
  const Path owner(path.begin(), path.end() - 2);
  return std::find(kResourceRequirements.begin(), kResourceRequirements.end(), owner) !=
         kResourceRequirements.end();
}

// Equal values, for two quantities each a string or a number; false if either does not parse.
bool SameQuantity(const Json& desired, const Json& observed) {
  auto as_text = [](const Json& v) -> std::string {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return "";
  };
  long double a = 0, b = 0;
  if (!ParseQuantity(as_text(desired), &a) || !ParseQuantity(as_text(observed), &b)) return false;
  // Relative 1e-15: far above long double rounding (1e-19), far below one unit of any quantity
  // we render ("10Gi" and one byte more differ by 1e-10).
  return std::fabs(a - b) <= 1e-15L * std::max(std::fabs(a), std::fabs(b));
}

bool MatchesAt(const Json& desired, const Json& observed, Path& path) {
  if (desired.is_object()) {
    if (!observed.is_object()) return false;
    for (auto it = desired.begin(); it != desired.end(); ++it) {
      auto found = observed.find(it.key());
      if (found == observed.end()) return false;
      path.push_back(it.key());
      const bool same = MatchesAt(*it, *found, path);
      path.pop_back();
      if (!same) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!observed.is_array() || desired.size() != observed.size()) return false;
    path.push_back(kElement);
    bool same = true;
    for (size_t i = 0; same && i < desired.size(); ++i) {
      same = MatchesAt(desired[i], observed[i], path);
    }
    path.pop_back();
    return same;
  }
  if (desired == observed) return true;  // numbers compare by value across int/unsigned/float
  return IsQuantityPath(path) && SameQuantity(desired, observed);
}

const Json& MetadataOf(const Json& object) {
  static const Json* const kEmpty = new Json(Json::object());
  auto it = object.find("metadata");
  return it != object.end() && it->is_object() ? *it : *kEmpty;
}

std::string Describe(const Json& object) {
  return object.value("kind", std::string("?")) + "/" +
         MetadataOf(object).value("name", std::string("?"));
}

}  // namespace

bool ParseQuantity(std::string_view text, long double* value) {
  static const std::regex re(
      "^([+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$");
  static const std::map<std::string, long double> kMultiplier = {
      {"", 1.0L},     {"n", 1e-9L},   {"u", 1e-6L},   {"m", 1e-3L},  {"k", 1e3L},
      {"M", 1e6L},    {"G", 1e9L},    {"T", 1e12L},   {"P", 1e15L},  {"E", 1e18L},
      {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L},
      {"Ei", 1152921504606846976.0L}};
  std::string s(text);
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  try {
    long double mantissa = std::stold(m[1].str());
    std::string suffix = m[4].str();
    if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
      *value = mantissa * std::pow(10.0L, std::stold(suffix.substr(1)));
    } else {
      *value = mantissa * kMultiplier.at(suffix);
    }
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool Matches(const Json& desired, const Json& observed) {
  try {
    Path path;
    return MatchesAt(desired, observed, path);
  } catch (const std::exception&) {
    return false;  // a malformed object is never "the same": apply it
  }
}

Applier::Applier(kube::ApiClient& client, kube::Metrics* metrics) : client_(client) {
  if (metrics != nullptr) {
    applied_ = &prometheus::BuildCounter()
                    .Name("kubabase_objects_applied_total")
                    .Help("Objects written by server-side apply, by kind (skipped ones are not "
                          "counted)")
                    .Register(*metrics->registry());
  }
}

StatusOr<bool> Applier::ApplyOne(const Json& desired, const Json* observed) {
  KUBABASE_ASSIGN_OR_RETURN(const kube::Resource* resource, ResourceForObject(desired));
  if (observed != nullptr && Matches(desired, *observed)) return false;
  // A Job's template is immutable and its name carries the hash of its inputs: an existing Job
  // of that name is the one we want, and re-applying it could only be rejected.
  if (observed != nullptr && resource->kind == "Job") return false;
  const Json& metadata = MetadataOf(desired);
  const std::string ns = resource->namespaced ? metadata.value("namespace", std::string()) : "";
  const std::string name = metadata.value("name", std::string());
  // Force: we own every field we render; a conflict with another manager is settled in our
  // favour, and fields we do not render keep their managers.
  kube::ApplyOptions options;
  options.field_manager = std::string(names::kFieldManager);
  options.force = true;
  StatusOr<Json> applied = client_.Apply(*resource, ns, name, desired, options);
  if (!applied.ok()) {
    return applied.status().Annotate("apply " + resource->kind + " " +
                                     (ns.empty() ? name : ns + "/" + name));
  }
  if (applied_ != nullptr) applied_->Add({{"kind", resource->kind}}).Increment();
  return true;
}

StatusOr<ApplyResult> Applier::ApplyAll(const std::vector<Json>& desired,
                                        const ObservedLookup& observed) {
  ApplyResult result;
  for (const Json& object : desired) {
    KUBABASE_ASSIGN_OR_RETURN(const kube::Resource* resource, ResourceForObject(object));
    const Json& metadata = MetadataOf(object);
    kube::ObjectPtr current =
        observed ? observed(*resource,
                            resource->namespaced ? metadata.value("namespace", std::string()) : "",
                            metadata.value("name", std::string()))
                 : nullptr;
    KUBABASE_ASSIGN_OR_RETURN(bool wrote, ApplyOne(object, current.get()));
    if (!wrote) {
      ++result.unchanged;
    } else if (current == nullptr) {
      result.created.push_back(Describe(object));
    } else {
      result.updated.push_back(Describe(object));
    }
  }
  return result;
}

}  // namespace kubabase::project
