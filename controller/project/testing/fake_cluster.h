// FakeCluster: a TEST DOUBLE for the reconciler's control flow. An in-memory ApiClient that stores
// objects, applies, patches and deletes them crudely, and records every call (with its apply
// options), so that unit tests can count writes ("a steady state makes zero writes") and script
// failures. It is NOT the apiserver: no defaulting, no validation, no garbage collection. Apply is
// a JSON merge, except that fields the same field manager applied before and omits now are
// removed (what server-side apply does to fields one manager alone owns); an apply without a
// field manager fails with kInvalidArgument, as the apiserver answers 400. Label selectors: the
// equality-based forms only (a=b, a==b, a!=b, a, !a); a set-based one or a field selector fails
// the call with kUnimplemented rather than matching wrongly. What the API really does is proven
// by tests/e2e against a real control plane. Watch is not offered (kUnimplemented
// "FakeCluster: Watch"); FakeCache (fake_cache.h) builds the informer caches from Snapshot().
//
//   FakeCluster cluster;
//   cluster.Put(Resource::Namespaces(), ns_object);        // pre-existing state
//   cluster.FailNext("apply", UnavailableError("etcd"));   // the next Apply fails
//   ... reconcile with cluster as the ApiClient and FakeCache(cluster).Reader() as the cache ...
//   EXPECT_EQ(cluster.Writes(), 0);
//   EXPECT_EQ(cluster.Count("apply", Resource::Secrets()), 0);
//
// Thread-safe (one mutex); tests use it from one thread.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/json_fields.h"
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
    kube::ApplyOptions apply_options;  // apply only
  };

  // The verbs Record() uses; Count() rejects any other.
  static const std::set<std::string>& Verbs() {
    static const std::set<std::string> kVerbs = {"get",   "list",  "create", "update",
                                                 "patch", "apply", "delete"};
    return kVerbs;
  }

  // Stores `object` as is, with a new resourceVersion as every write to the apiserver gets (a
  // cache keeps its old copy of an object whose resourceVersion did not change); uid and
  // creationTimestamp are added when missing.
  void Put(const Resource& resource, Json object) {
    std::lock_guard lock(mu_);
    Json& meta = object["metadata"];
    meta["resourceVersion"] = std::to_string(++rv_);
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
  // Runs `action` (which may call Put/Remove) when the next `verb` call (create or apply) on
  // `resource` named `name` arrives, before it is served: another writer acting between the
  // code's read and its write.
  void BeforeNext(const std::string& verb, const Resource& resource, const std::string& name,
                  std::function<void()> action) {
    std::lock_guard lock(mu_);
    hooks_.push_back({verb, resource.GroupResource(), name, std::move(action)});
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
  // Calls of `verb` (one of Verbs(); any other fails the test), of every resource or of
  // `resource`. A Resource rather than a name: calls are recorded by GroupResource()
  // ("projects.kubabase.io"), and a count by a name never recorded ("projects") would be 0
  // whatever the code did.
  int Count(const std::string& verb) const { return CountMatching(verb, nullptr); }
  int Count(const std::string& verb, const Resource& resource) const {
    return CountMatching(verb, &resource);
  }

  // What List would return, as the apiserver filters it (namespace "" = all), without recording
  // a call or taking a scripted failure: what a watch's list would have delivered.
  // Errors: kUnimplemented for a selector the fake does not understand.
  StatusOr<std::vector<Json>> Snapshot(const Resource& resource, std::string_view ns,
                                       const std::string& label_selector) const {
    std::lock_guard lock(mu_);
    return SelectLocked(resource, ns, label_selector);
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
    if (!options.field_selector.empty()) {
      return UnimplementedError("FakeCluster: field selector " + options.field_selector);
    }
    KUBABASE_ASSIGN_OR_RETURN(std::vector<Json> selected,
                              SelectLocked(resource, ns, options.label_selector));
    return Json{{"metadata", {{"resourceVersion", std::to_string(rv_)}}},
                {"items", Json(std::move(selected))}};
  }
  StatusOr<Json> Create(const Resource& resource, std::string_view ns,
                        const Json& object) override {
    const std::string name = object["metadata"].value("name", "");
    RunHook("create", resource, name);
    std::lock_guard lock(mu_);
    Record("create", resource, ns, name, "", &object);
    if (Status failed = TakeFailure("create"); !failed.ok()) return failed;
    // As the apiserver: a POST never replaces an object of that name.
    if (objects_.count(Key(resource, resource.namespaced ? ns : "", name)) != 0) {
      return AlreadyExistsError(resource.GroupResource() + " \"" + name + "\" already exists")
          .WithHttp(409, "AlreadyExists");
    }
    return Store(resource, ns, name, object);
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
    RunHook("apply", resource, name);
    std::lock_guard lock(mu_);
    Record("apply", resource, ns, name, options.subresource, &object);
    calls_.back().apply_options = options;
    if (Status failed = TakeFailure("apply"); !failed.ok()) return failed;
    if (options.field_manager.empty()) {
      return InvalidArgumentError("PATCH with apply requires fieldManager")
          .WithHttp(400, "BadRequest");
    }
    const std::string key = Key(resource, resource.namespaced ? ns : "", name);
    auto it = objects_.find(key);
    if (it == objects_.end() && !options.subresource.empty()) return NotFound(resource, name);
    // metadata.resourceVersion in an applied configuration is a precondition, as in an update.
    const Json* want_rv = kube::At(object, {"metadata", "resourceVersion"});
    if (want_rv != nullptr && want_rv->is_string() &&
        (it == objects_.end() || *want_rv != it->second["metadata"]["resourceVersion"])) {
      return AbortedError("Operation cannot be fulfilled on " + resource.GroupResource() + " \"" +
                          std::string(name) + "\": the object has been modified")
          .WithHttp(409, "Conflict");
    }
    Json merged = it == objects_.end() ? Json::object() : it->second;
    // The status subresource takes only status; the main resource ignores it.
    Json applied = object;
    if (applied.is_object() && applied.contains("metadata") && applied["metadata"].is_object()) {
      applied["metadata"].erase("resourceVersion");
    }
    if (options.subresource == "status") {
      applied = {{"status", object.value("status", Json::object())}};
    } else if (applied.is_object()) {
      applied.erase("status");
    }
    Json& before = applied_[key][options.field_manager + "|" + options.subresource];
    RemoveOmitted(merged, before, applied);
    before = applied;
    merged.merge_patch(applied);
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
    applied_.erase(it->first);
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
    applied_.erase(Key(resource, resource.namespaced ? ns : "", name));
  }

 private:
  static std::string Key(const Resource& resource, std::string_view ns, std::string_view name) {
    return resource.GroupResource() + "|" + std::string(ns) + "|" + std::string(name);
  }
  static Status NotFound(const Resource& resource, std::string_view name) {
    return NotFoundError(resource.GroupResource() + " \"" + std::string(name) + "\" not found")
        .WithHttp(404, "NotFound");
  }
  // The equality-based label selector forms: a=b, a==b, a!=b, a (exists), !a (absent).
  static StatusOr<bool> SelectorMatches(const std::string& selector, const Json& object) {
    if (selector.empty()) return true;
    const Json labels = object["metadata"].value("labels", Json::object());
    std::stringstream terms(selector);
    std::string term;
    bool all = true;
    while (std::getline(terms, term, ',')) {
      if (term.find_first_of(" ()") != std::string::npos) {
        return UnimplementedError("FakeCluster: label selector " + selector);
      }
      const size_t op = term.find_first_of("!=");
      if (op == std::string::npos) {
        all = all && labels.contains(term);
        continue;
      }
      if (op == 0) {
        all = all && !labels.contains(term.substr(1));
        continue;
      }
      const bool negated = term[op] == '!';
      size_t value_at = op + 1;
      if (!negated && value_at < term.size() && term[value_at] == '=') ++value_at;  // ==
      if (negated && (value_at >= term.size() || term[value_at] != '=')) {
        return UnimplementedError("FakeCluster: label selector " + selector);
      }
      if (negated) ++value_at;
      const std::string key = term.substr(0, op);
      const std::string value = term.substr(value_at);
      const bool equal = labels.contains(key) && labels[key] == value;
      all = all && (negated ? !equal : equal);
    }
    return all;
  }
  StatusOr<std::vector<Json>> SelectLocked(const Resource& resource, std::string_view ns,
                                           const std::string& label_selector) const {
    std::vector<Json> out;
    const std::string prefix = resource.GroupResource() + "|";
    for (const auto& [key, object] : objects_) {
      if (key.rfind(prefix, 0) != 0) continue;
      if (!ns.empty() && object["metadata"].value("namespace", "") != ns) continue;
      KUBABASE_ASSIGN_OR_RETURN(bool matches, SelectorMatches(label_selector, object));
      if (matches) out.push_back(object);
    }
    return out;
  }
  // Server-side apply by one manager, crudely: what it applied `before` and omits `now` goes.
  static void RemoveOmitted(Json& stored, const Json& before, const Json& now) {
    if (!stored.is_object() || !before.is_object()) return;
    for (const auto& [field, value] : before.items()) {
      if (!stored.contains(field)) continue;
      if (!now.is_object() || !now.contains(field)) {
        stored.erase(field);
      } else if (value.is_object() && now[field].is_object()) {
        RemoveOmitted(stored[field], value, now[field]);
      }
    }
  }
  int CountMatching(const std::string& verb, const Resource* resource) const {
    if (Verbs().count(verb) == 0) {
      ADD_FAILURE() << "FakeCluster::Count: \"" << verb << "\" is not a verb it records";
    }
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Call& c : calls_) {
      n += (c.verb == verb && (resource == nullptr || c.resource == resource->GroupResource()))
               ? 1 : 0;
    }
    return n;
  }
  void Record(const char* verb, const Resource& resource, std::string_view ns,
              std::string_view name, std::string_view subresource, const Json* body) {
    calls_.push_back({verb, resource.GroupResource(), std::string(ns), std::string(name),
                      std::string(subresource), body ? *body : Json()});
  }
  // The scripted failure of the call Record() just recorded, named by its request as
  // HttpApiClient names it ("APPLY deployments.apps project-a/rest: ...").
  struct Hook {
    std::string verb, resource, name;
    std::function<void()> action;
  };
  // Runs (outside the lock) and removes the first hook for this call.
  void RunHook(const std::string& verb, const Resource& resource, std::string_view name) {
    std::function<void()> action;
    {
      std::lock_guard lock(mu_);
      for (auto it = hooks_.begin(); it != hooks_.end(); ++it) {
        if (it->verb == verb && it->resource == resource.GroupResource() && it->name == name) {
          action = std::move(it->action);
          hooks_.erase(it);
          break;
        }
      }
    }
    if (action) action();
  }
  Status TakeFailure(const std::string& verb) {
    auto it = failures_.find(verb);
    if (it == failures_.end() || it->second.empty()) return Status::Ok();
    Status status = it->second.front();
    it->second.erase(it->second.begin());
    const Call& call = calls_.back();
    std::string what = call.verb;
    for (char& c : what) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    what += " " + call.resource;
    if (!call.name.empty()) what += " " + (call.ns.empty() ? call.name : call.ns + "/" + call.name);
    return status.Annotate(what);
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
  // object key -> "field manager|subresource" -> what that manager last applied
  std::map<std::string, std::map<std::string, Json>> applied_;
  std::map<std::string, std::vector<Status>> failures_;
  std::vector<Hook> hooks_;
  std::vector<Call> calls_;
  int64_t rv_ = 100;
  bool keep_deleted_ = false;
};

}  // namespace kubabase::project::testing
