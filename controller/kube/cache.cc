#include "controller/kube/cache.h"

#include "controller/kube/json_fields.h"

namespace kubabase::kube {

namespace {
constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

const Json* Labels(const Json& object) {
  const Json* labels = At(object, {"metadata", "labels"});
  return labels != nullptr && labels->is_object() ? labels : nullptr;
}
}  // namespace

Transform DefaultTransform() {
  return [](Json& object) {
    if (!object.is_object()) return;
    auto metadata = object.find("metadata");
    if (metadata == object.end() || !metadata->is_object()) return;
    metadata->erase("managedFields");
    auto annotations = metadata->find("annotations");
    if (annotations != metadata->end() && annotations->is_object()) {
      annotations->erase(std::string(kLastApplied));
      if (annotations->empty()) metadata->erase(annotations);
    }
  };
}

Transform KeepSecretValues(std::set<std::string> keep) {
  return [keep = std::move(keep)](Json& object) {
    if (!object.is_object()) return;
    for (const char* field : {"data", "stringData"}) {
      auto values = object.find(field);
      if (values == object.end() || !values->is_object()) continue;
      for (auto& [key, value] : values->items()) {
        if (keep.count(key) == 0) value = "";
      }
    }
  };
}

Transform ChainTransforms(Transform first, Transform second) {
  return [first = std::move(first), second = std::move(second)](Json& object) {
    if (first) first(object);
    if (second) second(object);
  };
}

Transform KeepDataOnlyOf(std::set<std::string> keep) {
  return [keep = std::move(keep)](Json& object) {
    if (!object.is_object()) return;
    if (keep.count(StringAt(object, {"metadata", "name"})) > 0) return;
    object.erase("data");
    object.erase("binaryData");
  };
}

Transform KeepIdentityOnly() {
  return [](Json& object) {
    if (!object.is_object()) return;
    Json kept = Json::object();
    for (const char* field : {"apiVersion", "kind"}) {
      if (auto it = object.find(field); it != object.end()) kept[field] = std::move(*it);
    }
    auto metadata = object.find("metadata");
    if (metadata != object.end() && metadata->is_object()) {
      Json& out = kept["metadata"] = Json::object();
      for (const char* field :
           {"name", "namespace", "uid", "resourceVersion", "generation", "deletionTimestamp"}) {
        if (auto it = metadata->find(field); it != metadata->end()) out[field] = std::move(*it);
      }
    }
    object = std::move(kept);
  };
}

std::string KeyOf(const Json& object) {
  std::string ns = StringAt(object, {"metadata", "namespace"});
  std::string name = StringAt(object, {"metadata", "name"});
  return ns.empty() ? name : ns + "/" + name;
}

std::string ResourceVersionOf(const Json& object) {
  return StringAt(object, {"metadata", "resourceVersion"});
}

Store::Store(Transform transform, Filter filter)
    : transform_(std::move(transform)), filter_(std::move(filter)) {}

ObjectPtr Store::Get(std::string_view ns, std::string_view name) const {
  if (ns.empty()) return GetByKey(name);
  std::string key;
  key.reserve(ns.size() + 1 + name.size());
  key.append(ns).append("/").append(name);
  return GetByKey(key);
}

ObjectPtr Store::GetByKey(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::List(std::string_view ns) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& [key, object] : objects_) out.push_back(object);
    return out;
  }
  // Keys are "ns/name", so one namespace is one contiguous range of the ordered map.
  std::string prefix = std::string(ns) + "/";
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Store::ListByLabel(std::string_view label_key,
                                          std::string_view label_value) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  auto by_key = labels_.find(label_key);
  if (by_key == labels_.end()) return out;
  auto by_value = by_key->second.find(label_value);
  if (by_value == by_key->second.end()) return out;
  out.reserve(by_value->second.size());
  for (const std::string& key : by_value->second) {
    auto it = objects_.find(key);
    if (it != objects_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> Store::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(key);
  return out;
}

size_t Store::Size() const {
  std::lock_guard lock(mu_);
  return objects_.size();
}

bool Store::HasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

void Store::IndexLocked(const std::string& key, const Json& object) {
  const Json* labels = Labels(object);
  if (labels == nullptr) return;
  for (const auto& [label, value] : labels->items()) {
    if (value.is_string()) labels_[label][value.get<std::string>()].insert(key);
  }
}

void Store::UnindexLocked(const std::string& key, const Json& object) {
  const Json* labels = Labels(object);
  if (labels == nullptr) return;
  for (const auto& [label, value] : labels->items()) {
    if (!value.is_string()) continue;
    auto by_key = labels_.find(label);
    if (by_key == labels_.end()) continue;
    auto by_value = by_key->second.find(value.get<std::string>());
    if (by_value == by_key->second.end()) continue;
    by_value->second.erase(key);
    // Drop empty buckets so the index does not grow with every label value ever seen.
    if (by_value->second.empty()) by_key->second.erase(by_value);
    if (by_key->second.empty()) labels_.erase(by_key);
  }
}

std::pair<ObjectPtr, ObjectPtr> Store::Upsert(Json object) {
  if (!Admits(object)) return {Delete(KeyOf(object)), nullptr};
  if (transform_) transform_(object);
  std::string key = KeyOf(object);
  auto stored = std::make_shared<const Json>(std::move(object));
  std::lock_guard lock(mu_);
  ObjectPtr old;
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    old = it->second;
    UnindexLocked(key, *old);
    it->second = stored;
  } else {
    objects_.emplace(key, stored);
  }
  IndexLocked(key, *stored);
  return {old, stored};
}

ObjectPtr Store::Delete(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = it->second;
  UnindexLocked(it->first, *old);
  objects_.erase(it);
  return old;
}

Store::ReplaceResult Store::Replace(std::vector<Json> objects) {
  // Transform outside the lock: it is the expensive part, and readers need not wait for it.
  std::map<std::string, ObjectPtr, std::less<>> fresh;
  for (Json& object : objects) {
    if (!Admits(object)) continue;
    if (transform_) transform_(object);
    std::string key = KeyOf(object);
    fresh[std::move(key)] = std::make_shared<const Json>(std::move(object));
  }
  ReplaceResult result;
  std::lock_guard lock(mu_);
  for (auto& [key, object] : fresh) {
    auto old = objects_.find(key);
    if (old == objects_.end()) {
      result.added.push_back(object);
    } else if (ResourceVersionOf(*old->second) == ResourceVersionOf(*object) &&
               !ResourceVersionOf(*object).empty()) {
      object = old->second;  // unchanged: keep the pointer readers may already hold
      ++result.unchanged;
    } else {
      result.updated.emplace_back(old->second, object);
    }
  }
  for (const auto& [key, object] : objects_) {
    if (fresh.find(key) == fresh.end()) result.deleted.push_back(object);
  }
  objects_ = std::move(fresh);
  labels_.clear();
  for (const auto& [key, object] : objects_) IndexLocked(key, *object);
  synced_ = true;
  return result;
}

}  // namespace kubabase::kube
