#include "controller/kube/apply.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>

#include "controller/base/quantity.h"
#include "controller/kube/json_fields.h"

namespace kubabase::kube {
namespace {

// A field's path from the object's root: object keys, and "[]" for any element of a list.
using Path = std::vector<std::string_view>;
constexpr std::string_view kElement = "[]";

// Where the apiserver rewrites a quantity in its canonical form ("0.5" -> "500m", "1024Mi" ->
// "1Gi", the number 1 -> "1"; tests/integration/matches_apiserver_test.cc shows each): the values
// of a core/v1 ResourceRequirements' requests and limits, at the places render puts one, and the
// plan's ResourceQuota and LimitRange values.
bool IsQuantityPath(const Path& path) {
  static const std::vector<Path> kResourceRequirements = {
      {"spec", "template", "spec", "containers", kElement, "resources"},  // pod templates
      {"spec", "resources"},                                              // PersistentVolumeClaim
      {"spec", "volumeClaimTemplates", kElement, "spec", "resources"},    // StatefulSet
  };
  if (path.size() < 2) return false;
  // A ResourceQuota's spec.hard and a LimitRange's spec.limits[].{default,defaultRequest,max,min}.
  if (path.size() == 3 && path[0] == "spec" && path[1] == "hard") return true;
  if (path.size() == 5 && path[0] == "spec" && path[1] == "limits" && path[2] == kElement &&
      (path[3] == "default" || path[3] == "defaultRequest" || path[3] == "max" ||
       path[3] == "min")) {
    return true;
  }
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
  // Exact: ParseQuantity gives every spelling of one value the same long double.
  std::optional<long double> a = ParseQuantity(as_text(desired));
  return a.has_value() && a == ParseQuantity(as_text(observed));
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

std::string Describe(const Json& object) {
  const std::string kind = StringAt(object, {"kind"});
  const std::string name = StringAt(object, {"metadata", "name"});
  return (kind.empty() ? "?" : kind) + "/" + (name.empty() ? "?" : name);
}

}  // namespace

bool Matches(const Json& desired, const Json& observed) {
  try {
    Path path;
    return MatchesAt(desired, observed, path);
  } catch (const std::exception&) {
    return false;  // a malformed object is never "the same": apply it
  }
}

Applier::Applier(ApiClient& client, Metrics* metrics, std::string field_manager, KindOf kind_of)
    : client_(client), field_manager_(std::move(field_manager)), kind_of_(std::move(kind_of)) {
  if (metrics != nullptr) {
    applied_ = &prometheus::BuildCounter()
                    .Name("kubabase_objects_applied_total")
                    .Help("Objects written by server-side apply, by kind (skipped ones are not "
                          "counted)")
                    .Register(*metrics->registry());
  }
}

StatusOr<bool> Applier::ApplyOne(const Json& desired, const Json* observed) {
  KUBABASE_ASSIGN_OR_RETURN(const ApplyKind kind, kind_of_(desired));
  const Resource& resource = *kind.resource;
  if (observed != nullptr && Matches(desired, *observed)) return false;
  // An immutable object of this name is the one we want; re-applying it could only be rejected.
  if (observed != nullptr && kind.immutable) return false;
  const std::string ns = resource.namespaced ? StringAt(desired, {"metadata", "namespace"}) : "";
  const std::string name = StringAt(desired, {"metadata", "name"});
  if (observed == nullptr && kind.create_only) {
    StatusOr<Json> created = client_.Create(resource, ns, desired);
    if (!created.ok()) return created.status();  // "CREATE secrets ns/name: ... already exists"
    if (applied_ != nullptr) applied_->Add({{"kind", resource.kind}}).Increment();
    return true;
  }
  // Force: we own every field we render; a conflict with another manager is settled in our
  // favour, and fields we do not render keep their managers.
  ApplyOptions options;
  options.field_manager = field_manager_;
  options.force = true;
  StatusOr<Json> applied = client_.Apply(resource, ns, name, desired, options);
  if (!applied.ok()) return applied.status();  // it names the request: "APPLY services ns/db"
  if (applied_ != nullptr) applied_->Add({{"kind", resource.kind}}).Increment();
  return true;
}

StatusOr<ApplyResult> Applier::ApplyAll(const std::vector<Json>& desired,
                                        const ObservedLookup& observed) {
  ApplyResult result;
  for (const Json& object : desired) {
    KUBABASE_ASSIGN_OR_RETURN(const ApplyKind kind, kind_of_(object));
    const Resource& resource = *kind.resource;
    ObjectPtr current =
        observed ? observed(resource,
                            resource.namespaced ? StringAt(object, {"metadata", "namespace"}) : "",
                            StringAt(object, {"metadata", "name"}))
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

}  // namespace kubabase::kube
