// Store: the informer cache of one watched resource, keyed by namespace/name, with a label index.
//
//   Store deployments(DefaultTransform());        // filled by a Watcher (watcher.h)
//   ObjectPtr web = deployments.Get("shop", "web");   // null when absent
//   for (const ObjectPtr& d : deployments.ListByLabel("kubabase.io/project", "shop")) ...
//   if (!deployments.HasSynced()) return;         // not yet a full picture
//
// Objects are immutable once stored and shared as shared_ptr<const Json>: readers hold a
// snapshot for as long as they like without copying, and a later update replaces the pointer.
//
// Memory: a Transform runs on every object before it is stored and drops what no reader needs.
// DefaultTransform() removes metadata.managedFields and the kubectl last-applied-configuration
// annotation (together often more than half of an object). Add KeepSecretValues() for Secrets
// so unused values are never held in memory. tests/bench/cache_bench measures bytes per object.
//
// A Filter decides which objects a Store holds at all: a label selector is a request, not a
// guarantee (anyone may put app.kubernetes.io/managed-by=kubabase on their own objects), so a
// controller states what can really be its own (e.g. "in a namespace it manages") and the Store
// refuses the rest: Upsert drops them (and forgets an object that stopped qualifying), Replace
// skips them. Their memory is freed as soon as the watch event or list page is processed.
//
// Thread-safety: every method may be called from any thread; readers never see a half-applied
// Replace.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/kube/resource.h"

namespace kubabase::kube {

using ObjectPtr = std::shared_ptr<const Json>;

// Edits an object in place before it is stored. Must not change metadata.namespace/name.
using Transform = std::function<void(Json&)>;

// Drops metadata.managedFields and the annotation
// kubectl.kubernetes.io/last-applied-configuration (and `annotations` itself if left empty).
Transform DefaultTransform();
// For Secrets: empties the value of every data/stringData entry whose key is not in `keep`, so
// readers still see which keys exist but the cache holds only the values they use.
Transform KeepSecretValues(std::set<std::string> keep);
// Runs `first`, then `second`. Either may be empty (skipped).
Transform ChainTransforms(Transform first, Transform second);
// Drops data and binaryData (ConfigMaps) of every object whose metadata.name is not in `keep`:
// what a controller compares with what it applies is kept whole, anything else only as metadata.
Transform KeepDataOnlyOf(std::set<std::string> keep);
// Keeps only apiVersion, kind and metadata.{name, namespace, uid, resourceVersion, generation,
// deletionTimestamp}: a few hundred bytes whatever the object, for a watch that only needs to
// know that something changed.
Transform KeepIdentityOnly();

// True: the Store may hold the object (after its Transform). Runs on the object as received.
// Empty: every object.
using Filter = std::function<bool(const Json&)>;

// "ns/name" for a namespaced object, "name" for a cluster-scoped one: the cache and queue key.
std::string KeyOf(const Json& object);
// metadata.resourceVersion, or "" when absent.
std::string ResourceVersionOf(const Json& object);

class Store {
 public:
  // What a Replace changed, compared with what the store held before.
  struct ReplaceResult {
    std::vector<ObjectPtr> added;                           // new keys
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;   // {old, new}: resourceVersion changed
    std::vector<ObjectPtr> deleted;                         // keys gone from the new list
    int unchanged = 0;                                      // same resourceVersion: not reported
  };

  explicit Store(Transform transform = DefaultTransform(), Filter filter = {});
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- Reading (any thread) ---

  // The object, or null when absent. `ns` is empty for cluster-scoped objects.
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  // The object stored under KeyOf(), or null.
  ObjectPtr GetByKey(std::string_view key) const;
  // Every object, ordered by key; only those in namespace `ns` when it is not empty.
  std::vector<ObjectPtr> List(std::string_view ns = {}) const;
  // Objects whose metadata.labels[label_key] == label_value, ordered by key.
  std::vector<ObjectPtr> ListByLabel(std::string_view label_key,
                                     std::string_view label_value) const;
  std::vector<std::string> Keys() const;
  size_t Size() const;
  // True once the first complete list has been stored (Replace was called).
  bool HasSynced() const;
  // The transform applied before storing (the Watcher also applies it to deleted objects).
  const Transform& transform() const { return transform_; }

  // --- Writing (the Watcher) ---

  // True when the filter lets the Store hold `object`.
  bool Admits(const Json& object) const { return !filter_ || filter_(object); }

  // Transforms and stores `object`, replacing the one with the same key. Returns {old, new};
  // old is null when the key was new. An object the filter refuses is not stored, and one held
  // under its key is removed: {old (may be null), null}.
  std::pair<ObjectPtr, ObjectPtr> Upsert(Json object);
  // Removes the object under `key` and returns it, or null if there was none.
  ObjectPtr Delete(std::string_view key);
  // Makes the store hold exactly `objects` (transformed; those the filter refuses left out), as
  // after a (re)list, and marks it synced. Objects whose resourceVersion did not change keep their old pointer and are only
  // counted, so a relist after an apiserver restart reports no spurious updates.
  ReplaceResult Replace(std::vector<Json> objects);

 private:
  void IndexLocked(const std::string& key, const Json& object);
  void UnindexLocked(const std::string& key, const Json& object);

  const Transform transform_;
  const Filter filter_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> objects_;
  // label key -> label value -> object keys
  std::map<std::string, std::map<std::string, std::set<std::string>, std::less<>>, std::less<>>
      labels_;
  bool synced_ = false;
};

}  // namespace kubabase::kube
