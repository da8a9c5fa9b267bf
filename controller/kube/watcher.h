// Watcher: client-go's reflector. Keeps a Store equal to the apiserver's view of one watched set
// (resource, namespace, label and field selector) and reports each change to a handler.
//
//   Store configmaps;
//   Watcher watcher(client, configmaps,
//                   {.resource = Resource::ConfigMaps(), .label_selector = "app=kubabase"},
//                   [&](const ObjectEvent& e) { queue.Add(KeyOf(*e.object)); });
//   watcher.Start();            // a thread: list, then watch, until Stop()
//   ...
//   watcher.Stop();             // cancels the open watch at once and joins
//
// The state machine (as kube-rs's watcher and client-go's ListAndWatch):
//   kList   GET the collection in pages of page_size (500), following metadata.continue, with a
//           consistent read (resourceVersion ""). Store::Replace with the full result; report
//           objects added, updated (resourceVersion changed) and deleted since the last list;
//           unchanged objects are not reported, so a relist after an apiserver restart causes no
//           re-processing storm. Then kWatch from the list's resourceVersion.
//   kWatch  GET ?watch=1&resourceVersion=<last>&allowWatchBookmarks=true&timeoutSeconds=<5-10 min,
//           random so that watchers do not all reconnect at once>. Each ADDED/MODIFIED/DELETED
//           updates the Store and the handler; a BOOKMARK only advances the resourceVersion.
//           - the stream ends normally (kOutOfRange, the server's timeout): watch again from the
//             last resourceVersion at once, no relist;
//           - 410 Gone / Expired / "too old resource version" (on open, as an ERROR event or as
//             the stream's error): kList;
//           - any other failure (connection refused or broken, 5xx, silence): watch again from
//             the last resourceVersion after a capped exponential backoff with jitter
//             (initial_backoff doubling to max_backoff, each delay drawn from
//             [(1 - jitter) * d, d]); the backoff resets once an event or a list succeeds.
//           A failed list is retried with the same backoff.
//
// Every step is also callable directly (Step()), so unit tests drive the machine without a
// thread and read the backoff it asks for instead of sleeping.
//
// Objects the Store's Filter refuses (cache.h) are dropped as they arrive, page by page of a
// list and event by event: they never reach the Store or the handler, and a list holds only
// the admitted ones until it is complete. An object that stops qualifying is reported deleted.
//
// Metrics (when given): watch_restarts_total, watch_relists_total, watch_events_total,
// cache_objects, cache_ignored_total, all labelled with the resource's GroupResource().
//
// Thread-safety: Start/Stop from one owning thread. The handler and on_synced run on the
// watcher's thread, after the Store was updated; they must not block for long (enqueue work).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "controller/base/clock.h"
#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube {

// One change seen by a Watcher.
struct ObjectEvent {
  enum class Type { kAdded, kUpdated, kDeleted };
  Type type = Type::kAdded;
  // kAdded: null. kUpdated: the object before. kDeleted: the cached object, if it was cached.
  ObjectPtr old_object;
  // kAdded/kUpdated: the object as now stored. kDeleted: its last state (never null).
  ObjectPtr object;
};
using ObjectEventHandler = std::function<void(const ObjectEvent&)>;

struct WatcherOptions {
  Resource resource{};
  std::string namespace_name{};  // "" : all namespaces (or a cluster-scoped resource)
  std::string label_selector{};
  std::string field_selector{};
  int64_t page_size = 500;
  // Each watch asks the server to end it after a random time in [min_watch_timeout, 2x].
  Clock::Duration min_watch_timeout = std::chrono::minutes(5);
  Clock::Duration initial_backoff = std::chrono::milliseconds(800);
  Clock::Duration max_backoff = std::chrono::seconds(30);
  double jitter = 0.5;  // in [0, 1]
  uint64_t seed = 0;    // 0: seeded from std::random_device
  // Null: no metrics. Not owned.
  Metrics* metrics = nullptr;
  // Called after every complete (re)list was stored; the first call means the Store has synced.
  std::function<void()> on_synced{};
};

class Watcher {
 public:
  enum class Phase { kList, kWatch };

  // `client` and `store` are not owned and must outlive the Watcher. `handler` may be empty.
  Watcher(ApiClient& client, Store& store, WatcherOptions options, ObjectEventHandler handler);
  // Stops and joins.
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Runs Step() on a thread of its own, waiting the returned backoff between steps, until Stop().
  // Requires: called at most once.
  void Start();
  // Cancels the open watch (unblocking its Next at once), ends the thread and joins it.
  // Idempotent; after it Step() does nothing.
  void Stop();

  // Runs one step of the machine: a complete list, opening a watch, or reading one event. Returns
  // how long to wait before the next step (zero: go on). Blocks while the open watch is quiet.
  Clock::Duration Step();

  // --- Introspection, for tests and logs (any thread) ---
  Phase phase() const;
  // The resourceVersion the next watch starts from.
  std::string resource_version() const;
  // Consecutive failures driving the backoff.
  int failures() const;
  int relists() const;          // lists after the first
  int watch_restarts() const;   // watches re-opened after one ended or failed

 private:
  Clock::Duration ListStep();
  Clock::Duration OpenWatchStep();
  Clock::Duration ReadEventStep(WatchStream& stream);
  Clock::Duration Fail(const Status& status, const char* during);
  void CloseStream();
  void StartRelist(const Status& why);
  void Emit(ObjectEvent::Type type, ObjectPtr old_object, ObjectPtr object);
  void FillKind(Json& object) const;
  void UpdateCacheGauge();
  void CountIgnored();

  ApiClient& client_;
  Store& store_;
  const WatcherOptions options_;
  const ObjectEventHandler handler_;
  const std::string resource_name_;  // GroupResource(), for logs and metrics
  prometheus::Counter* restarts_metric_ = nullptr;
  prometheus::Counter* relists_metric_ = nullptr;
  prometheus::Gauge* objects_metric_ = nullptr;
  prometheus::Counter* ignored_metric_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::unique_ptr<WatchStream> stream_;  // guarded by mu_ for replacement; read by Step's thread
  Phase phase_ = Phase::kList;
  std::string resource_version_;
  int failures_ = 0;
  int lists_ = 0;
  int restarts_ = 0;
  std::mt19937_64 random_;
  std::thread thread_;
};

}  // namespace kubabase::kube
