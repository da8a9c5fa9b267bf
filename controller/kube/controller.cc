#include "controller/kube/controller.h"

#include <exception>
#include <utility>

#include "controller/kube/json_fields.h"

namespace kubabase::kube {

namespace {

const Json& EmptyObject() {
  static const Json* const kEmpty = new Json(Json::object());
  return *kEmpty;
}

// object[field] when it is a JSON object, else {}: never throws, never copies.
const Json& ObjectAt(const Json& object, const char* field) {
  if (!object.is_object()) return EmptyObject();
  auto it = object.find(field);
  return it != object.end() && it->is_object() ? *it : EmptyObject();
}


// Errors no retry can cure; retrying them at 5 ms, 10 ms, ... only burns API requests.
bool NeedsAHuman(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

std::string Millis(Clock::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

Mapper MapToSelf() {
  return [](const Json& object) -> std::vector<ObjectKey> {
    const Json& metadata = ObjectAt(object, "metadata");
    std::string name = StringAt(metadata, {"name"});
    if (name.empty()) return {};
    return {ObjectKey{StringAt(metadata, {"namespace"}), std::move(name)}};
  };
}

Mapper MapToOwner(std::string kind, bool owner_cluster_scoped) {
  return [kind = std::move(kind), owner_cluster_scoped](const Json& object) {
    std::vector<ObjectKey> keys;
    const Json& metadata = ObjectAt(object, "metadata");
    auto owners = metadata.find("ownerReferences");
    if (owners == metadata.end() || !owners->is_array()) return keys;
    const std::string ns = owner_cluster_scoped ? "" : StringAt(metadata, {"namespace"});
    for (const Json& owner : *owners) {
      if (!owner.is_object() || StringAt(owner, {"kind"}) != kind) continue;
      std::string name = StringAt(owner, {"name"});
      if (!name.empty()) keys.push_back({ns, std::move(name)});
    }
    return keys;
  };
}

Mapper MapByLabel(std::string label_key) {
  return [label_key = std::move(label_key)](const Json& object) -> std::vector<ObjectKey> {
    const Json& labels = ObjectAt(ObjectAt(object, "metadata"), "labels");
    std::string value = StringAt(labels, {label_key});
    if (value.empty()) return {};
    return {ObjectKey{"", std::move(value)}};
  };
}

Controller::Controller(ApiClient& client, ControllerOptions options,
                       std::vector<WatchSpec> watches, ReconcileFunc reconcile)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()),
      reconcile_(std::move(reconcile)),
      log_({{"controller", options_.name}}),
      queue_({.name = options_.name,
              .clock = &clock_,
              .metrics = options_.metrics,
              .base_delay = options_.backoff_base,
              .max_delay = options_.backoff_max,
              .timer_thread = options_.queue_timer_thread}) {
  if (options_.metrics != nullptr) {
    Metrics& m = *options_.metrics;
    success_metric_ = &m.reconcile_total().Add({{"controller", options_.name}, {"result", "success"}});
    error_metric_ = &m.reconcile_total().Add({{"controller", options_.name}, {"result", "error"}});
    requeue_metric_ = &m.reconcile_total().Add({{"controller", options_.name}, {"result", "requeue"}});
    errors_metric_ = &m.reconcile_errors().Add({{"controller", options_.name}});
    duration_metric_ = &m.reconcile_duration().Add({{"controller", options_.name}},
                                                   Metrics::LatencyBuckets());
  }
  bool any_primary = false;
  for (const WatchSpec& spec : watches) any_primary = any_primary || spec.primary;
  if (!any_primary && !watches.empty()) watches.front().primary = true;

  for (WatchSpec& spec : watches) {
    auto watched = std::make_unique<Watched>();
    if (!spec.mapper) spec.mapper = MapToSelf();
    watched->store = std::make_unique<Store>(spec.transform, spec.filter);
    WatcherOptions watch;
    watch.resource = spec.resource;
    watch.namespace_name = spec.namespace_name;
    watch.label_selector = spec.label_selector;
    watch.field_selector = spec.field_selector;
    watch.page_size = spec.page_size;
    watch.initial_backoff = options_.watch_initial_backoff;
    watch.max_backoff = options_.watch_max_backoff;
    watch.metrics = options_.metrics;
    watch.on_synced = [this] {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    };
    watched->spec = std::move(spec);
    Watched* raw = watched.get();
    watched->watcher = std::make_unique<Watcher>(
        client, *watched->store, std::move(watch),
        [this, raw](const ObjectEvent& event) { OnEvent(*raw, event); });
    watched_.push_back(std::move(watched));
  }
}

Controller::~Controller() { Stop(); }

void Controller::OnEvent(const Watched& watched, const ObjectEvent& event) {
  // Level-based: the key is all a reconcile gets. For an update, keys the old object mapped to
  // are queued too, so an owner that lost a child (relabelled, re-owned) hears of it.
  std::vector<ObjectKey> keys = watched.spec.mapper(*event.object);
  if (event.type == ObjectEvent::Type::kUpdated && event.old_object != nullptr) {
    for (ObjectKey& key : watched.spec.mapper(*event.old_object)) keys.push_back(std::move(key));
  }
  for (const ObjectKey& key : keys) queue_.Add(key.ToString());
}

void Controller::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_ || stopping_) return;
    started_ = true;
  }
  log_.Info("starting", {{"watches", std::to_string(watched_.size())},
                         {"workers", std::to_string(options_.workers)}});
  for (auto& watched : watched_) watched->watcher->Start();
  supervisor_ = std::thread([this] { Supervise(); });
}

void Controller::Supervise() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopping_ || HasSynced(); });
    if (stopping_) return;
    for (int i = 0; i < options_.workers; ++i) {
      workers_.emplace_back([this] {
        while (ProcessNextItem()) {
        }
      });
    }
  }
  log_.Info("caches synced; workers started");
  if (options_.resync_period <= Clock::Duration::zero()) return;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // Real time: this thread is production's; tests call Resync() themselves.
    if (cv_.wait_for(lock, options_.resync_period, [this] { return stopping_; })) break;
    lock.unlock();
    Resync();
    lock.lock();
  }
}

void Controller::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  // Watchers first: no new events arrive while the workers finish.
  for (auto& watched : watched_) watched->watcher->Stop();
  if (supervisor_.joinable()) supervisor_.join();
  // The supervisor has exited, so workers_ no longer changes. Queued keys are dropped, not
  // drained: after SIGTERM or a lost lease another replica reconciles them, and a reconcile
  // started now could run alongside it. Only the ones in flight finish.
  queue_.ShutDownNow();
  for (std::thread& worker : workers_) worker.join();
  log_.Info("stopped");
}

bool Controller::HasSynced() const {
  for (const auto& watched : watched_) {
    if (!watched->store->HasSynced()) return false;
  }
  return true;
}

bool Controller::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return stopping_ || HasSynced(); });
  return HasSynced();
}

const Store* Controller::store(const Resource& resource) const {
  for (const auto& watched : watched_) {
    const Resource& r = watched->spec.resource;
    if (r.group == resource.group && r.resource == resource.resource) return watched->store.get();
  }
  return nullptr;
}

ObjectPtr Controller::Get(const Resource& resource, std::string_view ns,
                          std::string_view name) const {
  // Several specs may watch one resource with different selectors: ask each.
  for (const auto& watched : watched_) {
    const Resource& r = watched->spec.resource;
    if (r.group != resource.group || r.resource != resource.resource) continue;
    if (ObjectPtr object = watched->store->Get(ns, name)) return object;
  }
  return nullptr;
}

std::vector<ObjectPtr> Controller::List(const Resource& resource, std::string_view ns) const {
  const Store* s = store(resource);
  return s == nullptr ? std::vector<ObjectPtr>{} : s->List(ns);
}

std::vector<ObjectPtr> Controller::ListByLabel(const Resource& resource,
                                               std::string_view label_key,
                                               std::string_view label_value) const {
  const Store* s = store(resource);
  return s == nullptr ? std::vector<ObjectPtr>{} : s->ListByLabel(label_key, label_value);
}

void Controller::Enqueue(const ObjectKey& key) { queue_.Add(key.ToString()); }

void Controller::Resync() {
  int queued = 0;
  for (const auto& watched : watched_) {
    if (!watched->spec.primary) continue;
    for (const ObjectPtr& object : watched->store->List()) {
      for (const ObjectKey& key : watched->spec.mapper(*object)) {
        queue_.Add(key.ToString());
        ++queued;
      }
    }
  }
  log_.Debug("resync", {{"keys", std::to_string(queued)}});
}

StatusOr<Action> Controller::InvokeReconcile(const ObjectKey& key) {
  // A throwing reconcile must not take the process (and every other project) down with it.
  try {
    return reconcile_(key);
  } catch (const std::exception& e) {
    return InternalError(std::string("reconcile threw: ") + e.what());
  } catch (...) {
    return InternalError("reconcile threw a non-standard exception");
  }
}

bool Controller::ProcessNextItem() {
  std::optional<std::string> key = queue_.Get();
  if (!key.has_value()) return false;
  const ScopedLog log = log_.With({{"key", *key}});

  StatusOr<ObjectKey> object_key = ObjectKey::Parse(*key);
  if (!object_key.ok()) {
    log.Error("dropping malformed key", {{"error", object_key.status().ToString()}});
    queue_.Forget(*key);
    queue_.Done(*key);
    return true;
  }

  const Clock::TimePoint start = clock_.Now();
  StatusOr<Action> result = InvokeReconcile(*object_key);
  const Clock::Duration took = clock_.Now() - start;
  if (duration_metric_ != nullptr) {
    duration_metric_->Observe(std::chrono::duration<double>(took).count());
  }

  if (!result.ok()) {
    const Status& error = result.status();
    Clock::Duration at_least{};
    if (error.retry_after().has_value()) at_least = *error.retry_after();
    if (NeedsAHuman(error)) at_least = std::max(at_least, options_.permanent_error_min_delay);
    Clock::Duration delay = queue_.AddRateLimited(*key, at_least);
    if (error_metric_ != nullptr) error_metric_->Increment();
    if (errors_metric_ != nullptr) errors_metric_->Increment();
    log.Warn("reconcile failed", {{"error", error.ToString()},
                                  {"retry_in_ms", Millis(delay)},
                                  {"requeues", std::to_string(queue_.NumRequeues(*key))},
                                  {"duration_ms", Millis(took)}});
  } else if (result->requeue()) {
    queue_.Forget(*key);
    queue_.AddAfter(*key, result->requeue_after());
    if (requeue_metric_ != nullptr) requeue_metric_->Increment();
    log.Debug("reconciled; requeue", {{"after_ms", Millis(result->requeue_after())},
                                      {"duration_ms", Millis(took)}});
  } else {
    queue_.Forget(*key);
    if (success_metric_ != nullptr) success_metric_->Increment();
    log.Debug("reconciled", {{"duration_ms", Millis(took)}});
  }
  queue_.Done(*key);
  return true;
}

}  // namespace kubabase::kube
