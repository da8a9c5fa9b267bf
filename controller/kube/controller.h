// Controller: watchers + stores + event mappers + a work queue + N workers around one
// ReconcileFunc. The generic loop; it knows nothing of what it reconciles.
//
//   Controller controller(client, {.name = "project", .workers = 4, .metrics = &metrics},
//       {{.resource = projects, .mapper = MapToSelf(), .primary = true},
//        {.resource = Resource::Deployments(), .label_selector = "app.kubernetes.io/managed-by=kubabase",
//         .mapper = MapByLabel("kubabase.io/project")}},
//       [&](const ObjectKey& key) { return reconciler.Reconcile(key); });
//   controller.Start();          // watchers now; workers once every store has synced
//   ...                          // /readyz: controller.HasSynced()
//   controller.Stop();           // SIGTERM: stop watchers, finish in-flight reconciles only
//
// Semantics (those of controller-runtime's reconcileHandler):
// - Every watch event is mapped to keys (its mapper) and queued; the queue de-duplicates, so a
//   burst of events is one reconcile, and never runs one key on two workers.
// - Workers start only after every store has synced, so a reconcile never sees a partial cache.
// - Outcome: error -> AddRateLimited (per-key exponential backoff; at least the error's
//   Retry-After, and at least permanent_error_min_delay for errors only a human can fix:
//   InvalidArgument, FailedPrecondition, PermissionDenied, Unauthenticated, Unimplemented);
//   Action::RequeueAfter(d) -> Forget + AddAfter(d); Action::Done() -> Forget.
//   An exception thrown by the reconcile is caught and treated as a kInternal error.
// - Every resync_period every primary object's keys are queued again: watches can miss events
//   and the outside world (a Postgres, DNS) changes without any.
// - Stop(): stop the watchers, drop the keys still queued, let workers finish the reconciles in
//   flight, join. Nothing queued is run: on SIGTERM or a lost lease another replica takes over
//   the keys, and a reconcile started after the hand-over could race with it.
//
// Metrics: reconcile_total{controller,result=success|error|requeue}, reconcile_errors_total,
// reconcile_duration_seconds, plus the queue's and the watchers' families.
//
// Thread-safety: Start/Stop from the owning thread; the reading methods (Get, List, ListByLabel,
// HasSynced) and Enqueue from any thread, including reconciles.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "controller/base/clock.h"
#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/logging.h"
#include "controller/kube/metrics.h"
#include "controller/kube/reconciler.h"
#include "controller/kube/watcher.h"
#include "controller/kube/work_queue.h"

namespace kubabase::kube {

// Maps a changed object to the keys to reconcile (none, one, or several).
using Mapper = std::function<std::vector<ObjectKey>(const Json& object)>;

// The object's own key: for the primary resource.
Mapper MapToSelf();
// The key of every controller-or-not owner reference of `kind` (e.g. "Project"). The owner is in
// the object's namespace unless `owner_cluster_scoped`, in which case the key is its name alone.
Mapper MapToOwner(std::string kind, bool owner_cluster_scoped = false);
// The cluster-scoped key named by the label `label_key` (e.g. "kubabase.io/project"), or none
// when the label is absent or empty.
Mapper MapByLabel(std::string label_key);

// One watched set of objects.
struct WatchSpec {
  Resource resource{};
  std::string namespace_name{};  // "": all namespaces
  std::string label_selector{};  // narrow the cache to what the controller manages
  std::string field_selector{};
  Transform transform = DefaultTransform();
  // What the store may hold (cache.h Filter); empty: everything the selectors return.
  Filter filter{};
  // Objects per list page. A page is held whole (response and parsed) before its objects are
  // filtered, so this bounds a list's memory: up to page_size objects of up to ~1.5 MiB each.
  int64_t page_size = 500;
  Mapper mapper{};      // empty: MapToSelf()
  // The resource this controller reconciles: its objects are queued again on every resync.
  // When no spec is marked, the first one is primary.
  bool primary = false;
};

struct ControllerOptions {
  std::string name = "controller";  // metrics label and log field
  int workers = 2;                  // 0: no threads; the owner calls ProcessNextItem (tests)
  Clock::Duration resync_period = std::chrono::minutes(10);  // 0: never
  Clock::Duration backoff_base = std::chrono::milliseconds(5);
  Clock::Duration backoff_max = std::chrono::seconds(1000);
  Clock::Duration permanent_error_min_delay = std::chrono::seconds(30);
  // Watcher reconnect backoff.
  Clock::Duration watch_initial_backoff = std::chrono::milliseconds(800);
  Clock::Duration watch_max_backoff = std::chrono::seconds(30);
  // Null: RealClock. Not owned.
  Clock* clock = nullptr;
  // Null: no metrics. Not owned.
  Metrics* metrics = nullptr;
  // See WorkQueueOptions::timer_thread; off only in tests driving a FakeClock.
  bool queue_timer_thread = true;
};

class Controller {
 public:
  // `client` is not owned and must outlive the controller. Requires: `watches` not empty.
  Controller(ApiClient& client, ControllerOptions options, std::vector<WatchSpec> watches,
             ReconcileFunc reconcile);
  // Stop()s.
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts every watcher, then (on a supervisor thread) the workers once all stores synced, and
  // the periodic resync. Requires: called at most once.
  void Start();
  // Stops the watchers, drops the queued keys, lets in-flight reconciles finish, joins every
  // thread. Idempotent; safe from several threads (a second caller returns at once).
  void Stop();

  // True once every store has completed its first list: the controller is ready.
  bool HasSynced() const;
  // Blocks until HasSynced(), Stop(), or `timeout` (real time) passes. Returns HasSynced().
  bool WaitForSync(std::chrono::milliseconds timeout);

  // --- Read-only cache access for reconciles (any thread). Null/empty when not cached. ---
  ObjectPtr Get(const Resource& resource, std::string_view ns, std::string_view name) const;
  std::vector<ObjectPtr> List(const Resource& resource, std::string_view ns = {}) const;
  std::vector<ObjectPtr> ListByLabel(const Resource& resource, std::string_view label_key,
                                     std::string_view label_value) const;
  // The store of the first spec watching `resource`, or null.
  const Store* store(const Resource& resource) const;

  // Queues `key` as if an event had mapped to it.
  void Enqueue(const ObjectKey& key);
  // Queues every primary object's keys now (what the periodic resync does).
  void Resync();
  // One worker iteration: takes a key (blocking), reconciles it, records the outcome. Returns
  // false once the queue is shut down and empty.
  bool ProcessNextItem();

  WorkQueue& queue() { return queue_; }

 private:
  struct Watched {
    WatchSpec spec;
    std::unique_ptr<Store> store;
    std::unique_ptr<Watcher> watcher;
  };

  void OnEvent(const Watched& watched, const ObjectEvent& event);
  void Supervise();
  StatusOr<Action> InvokeReconcile(const ObjectKey& key);

  const ControllerOptions options_;
  Clock& clock_;
  const ReconcileFunc reconcile_;
  const ScopedLog log_;
  WorkQueue queue_;
  std::vector<std::unique_ptr<Watched>> watched_;
  prometheus::Counter* success_metric_ = nullptr;
  prometheus::Counter* error_metric_ = nullptr;
  prometheus::Counter* requeue_metric_ = nullptr;
  prometheus::Counter* errors_metric_ = nullptr;
  prometheus::Histogram* duration_metric_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // a store synced, or stopping
  bool started_ = false;
  bool stopping_ = false;
  std::thread supervisor_;
  std::vector<std::thread> workers_;  // guarded by mu_ until joined
};

}  // namespace kubabase::kube
