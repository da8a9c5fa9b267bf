// FakeApiClient: a TEST DOUBLE for control flow only. It replays scripted List pages and watch
// streams so the watcher's and controller's state machines can be unit-tested without a cluster.
// It knows nothing of what the apiserver really does; that is proven by tests/integration/.
//
//   testing::FakeApiClient api;
//   api.AddList(Resource::ConfigMaps(), ListPage({cm1, cm2}, "10"));
//   auto stream = api.AddWatch(Resource::ConfigMaps());
//   stream->Added(cm3);
//   stream->End(OutOfRangeError("server timeout"));
//   ... drive a Watcher ...
//   EXPECT_EQ(api.watch_calls()[0].options.resource_version, "10");
//
// Scripts are consumed in order, per resource. A List with nothing scripted fails with
// kUnavailable; a Watch with nothing scripted returns an idle stream that blocks until
// cancelled. Verbs other than List and Watch return kUnimplemented ("FakeApiClient: Get").
//
// Thread-safe: scripts may be added while another thread consumes them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "controller/kube/api_client.h"
#include "controller/kube/testing/unimplemented_api_client.h"

namespace kubabase::kube::testing {

// The events one scripted watch delivers. Next() blocks while none is left, until Cancel().
class FakeWatchScript {
 public:
  void Push(StatusOr<WatchEvent> item) {
    std::lock_guard lock(mu_);
    items_.push_back(std::move(item));
    cv_.notify_all();
  }
  void Added(Json object) { Push(WatchEvent{WatchEvent::Type::kAdded, std::move(object)}); }
  void Modified(Json object) { Push(WatchEvent{WatchEvent::Type::kModified, std::move(object)}); }
  void Deleted(Json object) { Push(WatchEvent{WatchEvent::Type::kDeleted, std::move(object)}); }
  void Bookmark(const std::string& resource_version) {
    Push(WatchEvent{WatchEvent::Type::kBookmark,
                    {{"metadata", {{"resourceVersion", resource_version}}}}});
  }
  // An ERROR event carrying an apiserver Status object (e.g. code 410, reason "Expired").
  void ErrorEvent(int code, const std::string& reason, const std::string& message) {
    Push(WatchEvent{WatchEvent::Type::kError,
                    {{"kind", "Status"}, {"status", "Failure"}, {"code", code},
                     {"reason", reason}, {"message", message}}});
  }
  // The stream ends with `status` (kOutOfRange: the server's timeout; kUnavailable: a break).
  void End(Status status) { Push(std::move(status)); }

  // Blocks until a scripted item is available or the stream is cancelled.
  StatusOr<WatchEvent> Next() {
    std::unique_lock lock(mu_);
    ++next_calls_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return cancelled_ || !items_.empty(); });
    if (cancelled_) return CancelledError("watch cancelled");
    StatusOr<WatchEvent> item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  void Cancel() {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }
  bool cancelled() const {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  size_t remaining() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  // Blocks until Next() has been called at least `n` times (a reader is waiting), or `guard`
  // passed. The guard only stops a broken test from hanging; it is not a timing assumption.
  bool WaitForNextCalls(int n, std::chrono::seconds guard = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, guard, [&] { return next_calls_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<StatusOr<WatchEvent>> items_;
  bool cancelled_ = false;
  int next_calls_ = 0;
};

class FakeWatchStream final : public WatchStream {
 public:
  explicit FakeWatchStream(std::shared_ptr<FakeWatchScript> script) : script_(std::move(script)) {}
  StatusOr<WatchEvent> Next() override { return script_->Next(); }
  void Cancel() override { script_->Cancel(); }

 private:
  std::shared_ptr<FakeWatchScript> script_;
};

// A List response: {"metadata": {"resourceVersion": rv, "continue": token}, "items": items}.
inline Json ListPage(std::vector<Json> items, const std::string& resource_version,
                     const std::string& continue_token = "") {
  Json metadata = {{"resourceVersion", resource_version}};
  if (!continue_token.empty()) metadata["continue"] = continue_token;
  return {{"kind", "List"}, {"apiVersion", "v1"}, {"metadata", metadata},
          {"items", Json(std::move(items))}};
}

// A minimal namespaced (or, with ns "", cluster-scoped) object.
inline Json FakeObject(const std::string& ns, const std::string& name,
                       const std::string& resource_version, Json labels = Json::object()) {
  Json metadata = {{"name", name}, {"resourceVersion", resource_version}};
  if (!ns.empty()) metadata["namespace"] = ns;
  if (!labels.empty()) metadata["labels"] = std::move(labels);
  return {{"metadata", std::move(metadata)}};
}

class FakeApiClient final : public UnimplementedApiClient {
 public:
  FakeApiClient() : UnimplementedApiClient("FakeApiClient") {}

  struct ListCall {
    std::string resource;  // GroupResource()
    std::string ns;
    ListOptions options;
  };
  struct WatchCall {
    std::string resource;
    std::string ns;
    WatchOptions options;
  };

  void AddList(const Resource& resource, StatusOr<Json> page) {
    std::lock_guard lock(mu_);
    lists_[resource.GroupResource()].push_back(std::move(page));
  }
  // Scripts the next watch of `resource`; push its events through the returned script.
  std::shared_ptr<FakeWatchScript> AddWatch(const Resource& resource) {
    auto script = std::make_shared<FakeWatchScript>();
    std::lock_guard lock(mu_);
    watches_[resource.GroupResource()].push_back(script);
    return script;
  }
  // The next watch of `resource` fails to open with `status`.
  void AddWatchError(const Resource& resource, Status status) {
    std::lock_guard lock(mu_);
    watches_[resource.GroupResource()].push_back(std::move(status));
  }

  std::vector<ListCall> list_calls() const {
    std::lock_guard lock(mu_);
    return list_calls_;
  }
  std::vector<WatchCall> watch_calls() const {
    std::lock_guard lock(mu_);
    return watch_calls_;
  }
  // The script of the idle stream returned for the n-th unscripted watch (0-based), or null.
  std::shared_ptr<FakeWatchScript> idle_watch(size_t n) const {
    std::lock_guard lock(mu_);
    return n < idle_.size() ? idle_[n] : nullptr;
  }
  // Blocks until at least `n` Watch calls were made, or `guard` passed (see WaitForNextCalls).
  bool WaitForWatchCalls(size_t n, std::chrono::seconds guard = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, guard, [&] { return watch_calls_.size() >= n; });
  }

  StatusOr<Json> List(const Resource& resource, std::string_view ns,
                      const ListOptions& options) override {
    std::lock_guard lock(mu_);
    list_calls_.push_back({resource.GroupResource(), std::string(ns), options});
    cv_.notify_all();
    auto& script = lists_[resource.GroupResource()];
    if (script.empty()) return UnavailableError("FakeApiClient: no List scripted");
    StatusOr<Json> page = std::move(script.front());
    script.pop_front();
    return page;
  }

  StatusOr<std::unique_ptr<WatchStream>> Watch(const Resource& resource, std::string_view ns,
                                               const WatchOptions& options) override {
    std::lock_guard lock(mu_);
    watch_calls_.push_back({resource.GroupResource(), std::string(ns), options});
    cv_.notify_all();
    auto& script = watches_[resource.GroupResource()];
    if (script.empty()) {
      auto idle = std::make_shared<FakeWatchScript>();
      idle_.push_back(idle);
      return std::unique_ptr<WatchStream>(std::make_unique<FakeWatchStream>(idle));
    }
    WatchItem item = std::move(script.front());
    script.pop_front();
    if (auto* status = std::get_if<Status>(&item)) return *status;
    return std::unique_ptr<WatchStream>(
        std::make_unique<FakeWatchStream>(std::get<std::shared_ptr<FakeWatchScript>>(item)));
  }

 private:
  using WatchItem = std::variant<std::shared_ptr<FakeWatchScript>, Status>;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<StatusOr<Json>>> lists_;
  std::map<std::string, std::deque<WatchItem>> watches_;
  std::vector<std::shared_ptr<FakeWatchScript>> idle_;
  std::vector<ListCall> list_calls_;
  std::vector<WatchCall> watch_calls_;
};

}  // namespace kubabase::kube::testing
