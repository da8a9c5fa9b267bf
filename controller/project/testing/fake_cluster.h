// FakeCluster: a TEST DOUBLE for the reconciler's control flow. An in-memory ApiClient that stores
// objects, applies, patches and deletes them crudely, and records every call, so that unit tests
// can count writes ("a steady state makes zero writes") and script failures. It is NOT the
// apiserver: no defaulting, no validation, no garbage collection, apply is a JSON merge. What the
// API really does is proven by tests/e2e against a real control plane. Watch is not offered
// (kUnimplemented "FakeCluster: Watch").
//
//   FakeCluster cluster;
//   cluster.Put(Resource::Namespaces(), ns_object);        // pre-existing state
//   cluster.FailNext("apply", UnavailableError("etcd"));   // the next Apply fails
//   ... reconcile with cluster as the ApiClient and cluster.Reader() as the cache ...
//   EXPECT_EQ(cluster.Writes(), 0);
//
// Thread-safe (one mutex); tests use it from one thread.
#pragma once

#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/testing/unimplemented_api_client.h"

namespace kubabase::project::testing {

using kube::Json;
using kube::Resource;

class FakeCluster final : public kube::testing::UnimplementedApiClient {
 public:
  FakeCluster() : UnimplementedApiClient("FakeCluster") {}

  struct Call {
    std::string verb;  // get, list, create, update, patch, apply, delete
    std::string resource;
    std::string ns;
    std::string name;
    std::string subresource;
    Json body;
  };

  // Stores `object` as is (a resourceVersion and uid are added when missing).
  void Put(const Resource& resource, Json object) {
    std::lock_guard lock(mu_);
    Json& meta = object["metadata"];
    if (!meta.contains("resourceVersion")) meta["resourceVersion"] = std::to_string(++rv_);
    if (!meta.contains("uid")) meta["uid"] = "uid-" + std::to_string(rv_);
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
    objects_[Key(resource, meta.value("namespace", ""), meta.value("name", ""))] = object;
  }
  // The stored object, or null.
  kube::ObjectPtr Observe(const Resource& resource, std::string_view ns,
                          std::string_view name) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find(Key(resource, resource.namespaced ? ns : "", name));
    return it == objects_.end() ? nullptr : std::make_shared<const Json>(it->second);
  }
  std::vector<kube::ObjectPtr> ObserveAll(const Resource& resource) const {
    std::lock_guard lock(mu_);
    std::vector<kube::ObjectPtr> out;
    const std::string prefix = resource.GroupResource() + "|";
    for (const auto& [key, object] : objects_) {
      if (key.rfind(prefix, 0) == 0) out.push_back(std::make_shared<const Json>(object));
    }
    return out;
  }
  // Makes the next call of `verb` fail with `status`.
  void FailNext(const std::string& verb, Status status) {
    std::lock_guard lock(mu_);
    failures_[verb].push_back(std::move(status));
  }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void ClearCalls() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }
  // Calls that change state: create, update, patch, apply, delete.
  int Writes() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Call& c : calls_) n += (c.verb != "get" && c.verb != "list") ? 1 : 0;
    return n;
  }
  int Count(const std::string& verb, const std::string& resource = "") const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Call& c : calls_) {
      n += (c.verb == verb && (resource.empty() || c.resource == resource)) ? 1 : 0;
    }
    return n;
  }

  StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name,
                     std::string_view subresource) override {
    std::lock_guard lock(mu_);
    Record("get", resource, ns, name, subresource, nullptr);
    if (Status failed = TakeFailure("get"); !failed.ok()) return failed;
    auto it = objects_.find(Key(resource, resource.namespaced ? ns : "", name));
    if (it == objects_.end()) return NotFound(resource, name);
    return it->second;
  }
  StatusOr<Json> List(const Resource& resource, std::string_view ns,
                      const kube::ListOptions& options) override {
    std::lock_guard lock(mu_);
    Record("list", resource, ns, "", "", nullptr);
    if (Status failed = TakeFailure("list"); !failed.ok()) return failed;
    Json items = Json::array();
    const std::string prefix = resource.GroupResource() + "|";
    for (const auto& [key, object] : objects_) {
      if (key.rfind(prefix, 0) != 0) continue;
      if (!ns.empty() && object["metadata"].value("namespace", "") != ns) continue;
      if (!SelectorMatches(options.label_selector, object)) continue;
      items.push_back(object);
    }
    return Json{{"metadata", {{"resourceVersion", std::to_string(rv_)}}}, {"items", items}};
  }
  StatusOr<Json> Create(const Resource& resource, std::string_view ns,
                        const Json& object) override {
    std::lock_guard lock(mu_);
    Record("create", resource, ns, object["metadata"].value("name", ""), "", &object);
    if (Status failed = TakeFailure("create"); !failed.ok()) return failed;
    return Store(resource, ns, object["metadata"].value("name", ""), object);
  }
  StatusOr<Json> Update(const Resource& resource, std::string_view ns, std::string_view name,
                        const Json& object, std::string_view subresource) override {
    std::lock_guard lock(mu_);
    Record("update", resource, ns, name, subresource, &object);
    if (Status failed = TakeFailure("update"); !failed.ok()) return failed;
    return Store(resource, ns, name, object);
  }
  StatusOr<Json> MergePatch(const Resource& resource, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view subresource) override {
    std::lock_guard lock(mu_);
    Record("patch", resource, ns, name, subresource, &patch);
    if (Status failed = TakeFailure("patch"); !failed.ok()) return failed;
    auto it = objects_.find(Key(resource, resource.namespaced ? ns : "", name));
    if (it == objects_.end()) return NotFound(resource, name);
    const Json want_rv = patch.contains("metadata") ? patch["metadata"].value("resourceVersion", Json())
                                                    : Json();
    if (want_rv.is_string() && want_rv != it->second["metadata"]["resourceVersion"]) {
      return AbortedError("the object has been modified");
    }
    Json merged = it->second;
    if (subresource == "status") {
      Json status_patch = {{"status", patch.value("status", Json::object())}};
      merged.merge_patch(status_patch);
    } else {
      Json body = patch;
      if (body.contains("status")) body.erase("status");  // the main resource ignores status
      merged.merge_patch(body);
    }
    return Store(resource, ns, name, merged);
  }
  StatusOr<Json> Apply(const Resource& resource, std::string_view ns, std::string_view name,
                       const Json& object, const kube::ApplyOptions& options) override {
    std::lock_guard lock(mu_);
    Record("apply", resource, ns, name, options.subresource, &object);
    if (Status failed = TakeFailure("apply"); !failed.ok()) return failed;
    auto it = objects_.find(Key(resource, resource.namespaced ? ns : "", name));
    Json merged = it == objects_.end() ? Json::object() : it->second;
    merged.merge_patch(object);
    return Store(resource, ns, name, merged);
  }
  Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                const kube::DeleteOptions& options) override {
    std::lock_guard lock(mu_);
    Record("delete", resource, ns, name, "", nullptr);
    if (Status failed = TakeFailure("delete"); !failed.ok()) return failed;
    auto it = objects_.find(Key(resource, resource.namespaced ? ns : "", name));
    if (it == objects_.end()) return NotFound(resource, name);
    Json& meta = it->second["metadata"];
    if (meta.contains("finalizers") && !meta["finalizers"].empty()) {
      meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";
      meta["resourceVersion"] = std::to_string(++rv_);
      return Status::Ok();
    }
    if (keep_deleted_ && resource.resource == "namespaces") {
      meta["deletionTimestamp"] = "2026-01-01T00:00:00Z";  // namespaces terminate slowly
      return Status::Ok();
    }
    objects_.erase(it);
    return Status::Ok();
  }

  // When true, a deleted Namespace stays (terminating) until Remove() is called.
  void set_namespaces_terminate_slowly(bool slow) {
    std::lock_guard lock(mu_);
    keep_deleted_ = slow;
  }
  void Remove(const Resource& resource, std::string_view ns, std::string_view name) {
    std::lock_guard lock(mu_);
    objects_.erase(Key(resource, resource.namespaced ? ns : "", name));
  }

 private:
  static std::string Key(const Resource& resource, std::string_view ns, std::string_view name) {
    return resource.GroupResource() + "|" + std::string(ns) + "|" + std::string(name);
  }
  static Status NotFound(const Resource& resource, std::string_view name) {
    return NotFoundError(resource.GroupResource() + " \"" + std::string(name) + "\" not found")
        .WithHttp(404, "NotFound");
  }
  // "a=b,c=d" only (all the reconciler uses).
  static bool SelectorMatches(const std::string& selector, const Json& object) {
    if (selector.empty()) return true;
    const Json labels = object["metadata"].value("labels", Json::object());
    std::stringstream terms(selector);
    std::string term;
    while (std::getline(terms, term, ',')) {
      size_t eq = term.find('=');
      std::string key = term.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : term.substr(eq + 1);
      if (!labels.contains(key)) return false;
      if (eq != std::string::npos && labels[key] != value) return false;
    }
    return true;
  }
  void Record(const char* verb, const Resource& resource, std::string_view ns,
              std::string_view name, std::string_view subresource, const Json* body) {
    calls_.push_back({verb, resource.GroupResource(), std::string(ns), std::string(name),
                      std::string(subresource), body ? *body : Json()});
  }
  Status TakeFailure(const std::string& verb) {
    auto it = failures_.find(verb);
    if (it == failures_.end() || it->second.empty()) return Status::Ok();
    Status status = it->second.front();
    it->second.erase(it->second.begin());
    return status;
  }
  Json Store(const Resource& resource, std::string_view ns, std::string_view name, Json object) {
    Json& meta = object["metadata"];
    meta["name"] = std::string(name);
    if (resource.namespaced) meta["namespace"] = std::string(ns);
    meta["resourceVersion"] = std::to_string(++rv_);
    if (!meta.contains("uid")) meta["uid"] = "uid-" + std::to_string(rv_);
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
    objects_[Key(resource, resource.namespaced ? ns : "", name)] = object;
    return object;
  }

  mutable std::mutex mu_;
  std::map<std::string, Json> objects_;
  std::map<std::string, std::vector<Status>> failures_;
  std::vector<Call> calls_;
  int64_t rv_ = 100;
  bool keep_deleted_ = false;
};

}  // namespace kubabase::project::testing
