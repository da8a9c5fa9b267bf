#include "controller/project/apply.h"

#include <cmath>
#include <map>
#include <regex>

#include <prometheus/counter.h>

#include "controller/project/names.h"
#include "controller/project/resources.h"

namespace kubabase::project {
namespace {

bool IsZero(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return true;
    case Json::value_t::string: return value.get_ref<const std::string&>().empty();
    case Json::value_t::boolean: return !value.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return value.get<double>() == 0.0;
    case Json::value_t::object:
    case Json::value_t::array: return value.empty();
    default: return false;
  }
}

// Fields whose string values are quantities the apiserver rewrites in canonical form.
bool IsQuantityField(std::string_view key, std::string_view parent) {
  return parent == "requests" || parent == "limits" || parent == "capacity" ||
         key == "storage" || key == "sizeLimit";
}

bool MatchesAt(const Json& desired, const Json& observed, std::string_view key,
               std::string_view parent) {
  if (desired.is_object()) {
    if (!observed.is_object()) return IsZero(desired) && IsZero(observed);
    for (const auto& [child_key, child] : desired.items()) {
      auto it = observed.find(child_key);
      if (it == observed.end()) {
        if (!IsZero(child)) return false;
        continue;
      }
      if (!MatchesAt(child, *it, child_key, key)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!observed.is_array()) return IsZero(desired) && IsZero(observed);
    if (desired.size() != observed.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      // List elements are compared as values of the list's own field.
      if (!MatchesAt(desired[i], observed[i], key, parent)) return false;
    }
    return true;
  }
  if (desired.is_number() && observed.is_number()) {
    if (desired.is_number_float() || observed.is_number_float()) {
      return desired.get<double>() == observed.get<double>();
    }
    return desired == observed;  // nlohmann compares signed and unsigned by value
  }
  if (desired == observed) return true;
  if (IsZero(desired) && IsZero(observed)) return true;
  if (IsQuantityField(key, parent)) {
    auto as_text = [](const Json& v) -> std::string {
      if (v.is_string()) return v.get<std::string>();
      if (v.is_number()) return v.dump();
      return "";
    };
    long double a = 0, b = 0;
    if (ParseQuantity(as_text(desired), &a) && ParseQuantity(as_text(observed), &b)) {
      return std::fabs(a - b) <= 1e-9L * std::max(std::fabs(a), std::fabs(b));
    }
  }
  return false;
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
    return MatchesAt(desired, observed, "", "");
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
