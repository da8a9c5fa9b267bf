// Fields: reads the optional fields of one JSON object of a Project into C++ values; absent or
// null fields leave the output untouched (its default), a wrong type is InvalidArgument
// "<path>: ...". Internal to controller/project (ParseProject, ParseProjectStatus). A Fields
// points into the JSON it reads: the JSON must outlive it.
#pragma once

#include <cstdint>
#include <map>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/resource.h"

namespace kubabase::project {

using Json = kube::Json;

// The quantity pattern crds/project.yaml uses.
inline const std::regex& Quantity() {
  static const std::regex re(
      "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.["
      "0-9]*)?)|(\\.[0-9]+))))?$");
  return re;
}

inline Status Invalid(const std::string& path, std::string_view what) {
  return InvalidArgumentError(path + ": " + std::string(what));
}

// Reads the optional fields of one JSON object; absent or null fields keep their defaults.
class Fields {
 public:
  Fields(const Json* object, std::string path) : object_(object), path_(std::move(path)) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const Json* Find(std::string_view key) const {
    if (object_ == nullptr || !object_->is_object()) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  // A nested object (nullptr when absent), or InvalidArgument when not an object.
  StatusOr<Fields> Object(std::string_view key) const {
    const Json* value = Find(key);
    if (value != nullptr && !value->is_object()) return Invalid(Path(key), "must be an object");
    return Fields(value, Path(key));
  }

  Status String(std::string_view key, std::string* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_string()) return Invalid(Path(key), "must be a string");
    *out = value->get<std::string>();
    return Status();
  }

  Status Bool(std::string_view key, bool* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_boolean()) return Invalid(Path(key), "must be true or false");
    *out = value->get<bool>();
    return Status();
  }

  template <typename Int>
  Status Integer(std::string_view key, int64_t min, int64_t max, Int* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_number_integer()) return Invalid(Path(key), "must be an integer");
    int64_t n = value->get<int64_t>();
    if (n < min || n > max) {
      return Invalid(Path(key), "must be between " + std::to_string(min) + " and " +
                                    std::to_string(max) + ", got " + std::to_string(n));
    }
    *out = static_cast<Int>(n);
    return Status();
  }

  // int-or-string: a Kubernetes quantity such as "10Gi" or 1000.
  Status QuantityField(std::string_view key, std::string* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    std::string text;
    if (value->is_number_integer()) {
      text = std::to_string(value->get<int64_t>());
    } else if (value->is_string()) {
      text = value->get<std::string>();
    } else {
      return Invalid(Path(key), "must be a quantity such as \"10Gi\"");
    }
    if (!std::regex_match(text, Quantity())) {
      return Invalid(Path(key), "must be a quantity such as \"10Gi\", got \"" + text + "\"");
    }
    *out = std::move(text);
    return Status();
  }

  Status StringList(std::string_view key, std::vector<std::string>* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_array()) return Invalid(Path(key), "must be a list of strings");
    std::vector<std::string> items;
    for (const Json& item : *value) {
      if (!item.is_string()) return Invalid(Path(key), "must be a list of strings");
      items.push_back(item.get<std::string>());
    }
    *out = std::move(items);
    return Status();
  }

  Status StringMap(std::string_view key, std::map<std::string, std::string>* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_object()) return Invalid(Path(key), "must be a map of strings");
    for (const auto& [k, v] : value->items()) {
      if (!v.is_string()) return Invalid(Path(key) + "." + k, "must be a string");
      (*out)[k] = v.get<std::string>();
    }
    return Status();
  }

  // An object kept as JSON (core/v1 types we pass through).
  Status RawObject(std::string_view key, Json* out) const {
    const Json* value = Find(key);
    if (value == nullptr) return Status();
    if (!value->is_object()) return Invalid(Path(key), "must be an object");
    *out = *value;
    return Status();
  }

 private:
  const Json* object_;
  std::string path_;
};

}  // namespace kubabase::project
