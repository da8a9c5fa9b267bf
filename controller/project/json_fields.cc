#include "controller/project/json_fields.h"

namespace kubabase::project {

Status Invalid(const std::string& path, std::string_view what) {
  return InvalidArgumentError(path + ": " + std::string(what));
}

Fields::Fields(const kube::Json* object, std::string path)
    : object_(object), path_(path), schema_path_(std::move(path)) {}

Fields::Fields(const kube::Json* object, std::string path, std::string schema_path)
    : object_(object), path_(std::move(path)), schema_path_(std::move(schema_path)) {}

std::string Fields::Path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string Fields::SchemaPath(std::string_view key) const {
  return schema_path_.empty() ? std::string(key) : schema_path_ + "." + std::string(key);
}

const kube::Json* Fields::Find(std::string_view key) const {
  if (object_ == nullptr || !object_->is_object()) return nullptr;
  auto it = object_->find(key);
  if (it == object_->end() || it->is_null()) return nullptr;
  return &*it;
}

Status Fields::Check(std::string_view key, const kube::Json& value) const {
  const FieldRule* rule = FindFieldRule(SchemaPath(key));
  return rule == nullptr ? Status() : CheckField(*rule, Path(key), value);
}

StatusOr<Fields> Fields::Object(std::string_view key) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Fields(nullptr, Path(key), SchemaPath(key));
  if (!value->is_object()) return Invalid(Path(key), "must be an object");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  return Fields(value, Path(key), SchemaPath(key));
}

Status Fields::String(std::string_view key, std::string* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  if (!value->is_string()) return Invalid(Path(key), "must be a string");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  *out = value->get<std::string>();
  return Status();
}

Status Fields::Bool(std::string_view key, bool* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  if (!value->is_boolean()) return Invalid(Path(key), "must be true or false");
  *out = value->get<bool>();
  return Status();
}

Status Fields::Int64(std::string_view key, int64_t min, int64_t max, int64_t* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  if (!value->is_number_integer()) return Invalid(Path(key), "must be an integer");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  // An unsigned value above INT64_MAX reads as negative here and fails the range below.
  int64_t n = value->get<int64_t>();
  if (n < min || n > max) {
    return Invalid(Path(key), "must be between " + std::to_string(min) + " and " +
                                  std::to_string(max) + ", got " + std::to_string(n));
  }
  *out = n;
  return Status();
}

Status Fields::Quantity(std::string_view key, std::string* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  std::string text;
  if (value->is_number_integer()) {
    text = std::to_string(value->get<int64_t>());
  } else if (value->is_string()) {
    text = value->get<std::string>();
  } else {
    return Invalid(Path(key), "must be a quantity such as \"10Gi\"");
  }
  KUBABASE_RETURN_IF_ERROR(Check(key, kube::Json(text)));
  *out = std::move(text);
  return Status();
}

Status Fields::StringList(std::string_view key, std::vector<std::string>* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  if (!value->is_array()) return Invalid(Path(key), "must be a list of strings");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  const FieldRule* item_rule = FindFieldRule(SchemaPath(key) + "[]");
  std::vector<std::string> items;
  for (size_t i = 0; i < value->size(); ++i) {
    const kube::Json& item = (*value)[i];
    std::string item_path = Path(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) return Invalid(item_path, "must be a string");
    if (item_rule != nullptr) KUBABASE_RETURN_IF_ERROR(CheckField(*item_rule, item_path, item));
    items.push_back(item.get<std::string>());
  }
  *out = std::move(items);
  return Status();
}

Status Fields::StringMap(std::string_view key, std::map<std::string, std::string>* out) const {
  const kube::Json* value = Find(key);
  if (value == nullptr) return Status();
  if (!value->is_object()) return Invalid(Path(key), "must be a map of strings");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  const FieldRule* value_rule = FindFieldRule(SchemaPath(key) + "{}");
  std::map<std::string, std::string> entries;
  for (const auto& [k, v] : value->items()) {
    std::string entry_path = Path(key) + "." + k;
    if (!v.is_string()) return Invalid(entry_path, "must be a string");
    if (value_rule != nullptr) KUBABASE_RETURN_IF_ERROR(CheckField(*value_rule, entry_path, v));
    entries[k] = v.get<std::string>();
  }
  *out = std::move(entries);
  return Status();
}

StatusOr<std::vector<Fields>> Fields::ObjectList(std::string_view key) const {
  std::vector<Fields> items;
  const kube::Json* value = Find(key);
  if (value == nullptr) return items;
  if (!value->is_array()) return Invalid(Path(key), "must be a list");
  KUBABASE_RETURN_IF_ERROR(Check(key, *value));
  const FieldRule* item_rule = FindFieldRule(SchemaPath(key) + "[]");
  for (size_t i = 0; i < value->size(); ++i) {
    const kube::Json& item = (*value)[i];
    std::string item_path = Path(key) + "[" + std::to_string(i) + "]";
    if (!item.is_object()) return Invalid(item_path, "must be an object");
    if (item_rule != nullptr) KUBABASE_RETURN_IF_ERROR(CheckField(*item_rule, item_path, item));
    items.emplace_back(&item, item_path, SchemaPath(key) + "[]");
  }
  return items;
}

}  // namespace kubabase::project
