#include "controller/kube/watcher.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <utility>
#include <vector>

#include "controller/kube/logging.h"

namespace kubabase::kube {

namespace {

// 410 Gone / Expired, or the message older apiservers send without the code: the watch cannot
// resume from our resourceVersion, so only a relist can catch up.
bool IsTooOld(const Status& status) {
  return status.IsGone() || status.reason() == "Expired" || status.reason() == "Gone" ||
         status.message().find("too old resource version") != std::string::npos;
}

// The Status object of an ERROR watch event as a Status.
Status StatusFromErrorEvent(const Json& object) {
  int code = 0;
  std::string reason, message;
  if (object.is_object()) {
    if (auto it = object.find("code"); it != object.end() && it->is_number_integer()) {
      code = it->get<int>();
    }
    if (auto it = object.find("reason"); it != object.end() && it->is_string()) {
      reason = it->get<std::string>();
    }
    if (auto it = object.find("message"); it != object.end() && it->is_string()) {
      message = it->get<std::string>();
    }
  }
  Status status = code == 410 ? GoneError(message)
                              : UnavailableError("watch ERROR event: " + message);
  status.WithHttp(code, reason);
  return status;
}

const char* EventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
    case WatchEvent::Type::kBookmark: return "BOOKMARK";
    case WatchEvent::Type::kError: return "ERROR";
  }
  return "UNKNOWN";
}

}  // namespace

Watcher::Watcher(ApiClient& client, Store& store, WatcherOptions options,
                 ObjectEventHandler handler)
    : client_(client),
      store_(store),
      options_(std::move(options)),
      handler_(std::move(handler)),
      resource_name_(options_.resource.GroupResource()),
      random_(options_.seed != 0 ? options_.seed : std::random_device{}()) {
  if (options_.metrics != nullptr) {
    const prometheus::Labels labels{{"resource", resource_name_}};
    restarts_metric_ = &options_.metrics->watch_restarts().Add(labels);
    relists_metric_ = &options_.metrics->watch_relists().Add(labels);
    objects_metric_ = &options_.metrics->cache_objects().Add(labels);
    ignored_metric_ = &options_.metrics->cache_ignored().Add(labels);
  }
}

Watcher::~Watcher() { Stop(); }

void Watcher::Start() {
  thread_ = std::thread([this] {
    while (true) {
      Clock::Duration wait = Step();
      std::unique_lock lock(mu_);
      if (stopping_) return;
      // Real time on purpose: this thread is production's; tests call Step() themselves.
      if (wait > Clock::Duration::zero()) stop_cv_.wait_for(lock, wait, [this] { return stopping_; });
      if (stopping_) return;
    }
  });
}

void Watcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (stream_ != nullptr) stream_->Cancel();
    stop_cv_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Clock::Duration Watcher::Step() {
  WatchStream* stream = nullptr;
  Phase phase;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Clock::Duration::zero();
    phase = phase_;
    stream = stream_.get();
  }
  if (phase == Phase::kList) return ListStep();
  if (stream == nullptr) return OpenWatchStep();
  // Only this thread replaces stream_, so the pointer stays valid while we read from it.
  return ReadEventStep(*stream);
}

void Watcher::FillKind(Json& object) const {
  // List items carry no apiVersion/kind; watch events do. Store them alike.
  if (!object.is_object()) return;
  if (!object.contains("apiVersion")) object["apiVersion"] = options_.resource.ApiVersion();
  if (!object.contains("kind")) object["kind"] = options_.resource.kind;
}

Clock::Duration Watcher::ListStep() {
  std::vector<Json> items;
  std::string continue_token;
  std::string list_version;
  do {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Clock::Duration::zero();
    }
    ListOptions list;
    list.label_selector = options_.label_selector;
    list.field_selector = options_.field_selector;
    list.limit = options_.page_size;
    list.continue_token = continue_token;
    StatusOr<Json> page = client_.List(options_.resource, options_.namespace_name, list);
    if (!page.ok()) {
      // An expired continue token (410 mid-way through the pages): start again from the first
      // page at once, as client-go does; anything else is a failure worth a backoff.
      if (!continue_token.empty() && IsTooOld(page.status())) return Clock::Duration::zero();
      return Fail(page.status(), "list");
    }
    const Json& metadata = page->contains("metadata") ? (*page)["metadata"] : Json::object();
    if (auto it = metadata.find("resourceVersion"); it != metadata.end() && it->is_string()) {
      list_version = it->get<std::string>();
    }
    continue_token.clear();
    if (auto it = metadata.find("continue"); it != metadata.end() && it->is_string()) {
      continue_token = it->get<std::string>();
    }
    bool dropped = false;
    if (auto it = page->find("items"); it != page->end() && it->is_array()) {
      for (Json& item : *it) {
        FillKind(item);
        if (!store_.Admits(item)) {
          CountIgnored();
          dropped = true;
          item = Json();  // freed now, not when the whole list is done
          continue;
        }
        items.push_back(std::move(item));
      }
    }
#ifdef __GLIBC__
    // The page was received on the HTTP client's threads, in their malloc arenas; what was
    // dropped is free but stays mapped in each arena unless returned, so that pages of refused
    // objects would add up in the RSS.
    if (dropped) {
      page = Json();
      malloc_trim(0);
    }
#endif
  } while (!continue_token.empty());

  const size_t count = items.size();
  Store::ReplaceResult diff = store_.Replace(std::move(items));
  int lists;
  {
    std::lock_guard lock(mu_);
    resource_version_ = list_version;
    phase_ = Phase::kWatch;
    failures_ = 0;
    lists = ++lists_;
  }
  if (lists > 1 && relists_metric_ != nullptr) relists_metric_->Increment();
  UpdateCacheGauge();
  LogInfo("listed", {{"resource", resource_name_},
                     {"objects", std::to_string(count)},
                     {"resource_version", list_version},
                     {"added", std::to_string(diff.added.size())},
                     {"updated", std::to_string(diff.updated.size())},
                     {"deleted", std::to_string(diff.deleted.size())},
                     {"unchanged", std::to_string(diff.unchanged)}});
  for (ObjectPtr& object : diff.added) Emit(ObjectEvent::Type::kAdded, nullptr, std::move(object));
  for (auto& [old_object, object] : diff.updated) {
    Emit(ObjectEvent::Type::kUpdated, std::move(old_object), std::move(object));
  }
  // Objects deleted while we were not watching: their DELETED events were never seen.
  for (ObjectPtr& object : diff.deleted) Emit(ObjectEvent::Type::kDeleted, object, object);
  if (options_.on_synced) options_.on_synced();
  return Clock::Duration::zero();
}

Clock::Duration Watcher::OpenWatchStep() {
  std::string from;
  int64_t timeout_seconds;
  {
    std::lock_guard lock(mu_);
    from = resource_version_;
    const int64_t min_seconds =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                 options_.min_watch_timeout).count());
    timeout_seconds = std::uniform_int_distribution<int64_t>(min_seconds, 2 * min_seconds)(random_);
  }
  WatchOptions watch;
  watch.label_selector = options_.label_selector;
  watch.field_selector = options_.field_selector;
  watch.resource_version = from;
  watch.allow_bookmarks = true;
  watch.timeout_seconds = timeout_seconds;
  StatusOr<std::unique_ptr<WatchStream>> opened =
      client_.Watch(options_.resource, options_.namespace_name, watch);
  if (!opened.ok()) {
    if (IsTooOld(opened.status())) {
      StartRelist(opened.status());
      return Clock::Duration::zero();
    }
    return Fail(opened.status(), "watch");
  }
  std::lock_guard lock(mu_);
  stream_ = std::move(opened).value();
  // Stop() may have run while the request was in flight: it could not cancel this stream.
  if (stopping_) stream_->Cancel();
  return Clock::Duration::zero();
}

Clock::Duration Watcher::ReadEventStep(WatchStream& stream) {
  StatusOr<WatchEvent> next = stream.Next();
  if (!next.ok()) {
    const Status& status = next.status();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Clock::Duration::zero();
    }
    if (status.code() == StatusCode::kOutOfRange) {
      // The server's watch timeout: resume from where we are, as client-go does; not a failure.
      CloseStream();
      return Clock::Duration::zero();
    }
    if (IsTooOld(status)) {
      CloseStream();
      StartRelist(status);
      return Clock::Duration::zero();
    }
    CloseStream();
    return Fail(status, "watch stream");
  }

  WatchEvent& event = *next;
  if (options_.metrics != nullptr) {
    options_.metrics->watch_events()
        .Add({{"resource", resource_name_}, {"type", EventTypeName(event.type)}})
        .Increment();
  }
  if (event.type == WatchEvent::Type::kError) {
    Status status = StatusFromErrorEvent(event.object);
    CloseStream();
    if (IsTooOld(status)) {
      StartRelist(status);
      return Clock::Duration::zero();
    }
    return Fail(status, "watch ERROR event");
  }

  std::string version = ResourceVersionOf(event.object);
  {
    std::lock_guard lock(mu_);
    failures_ = 0;  // the connection works again
    if (!version.empty()) resource_version_ = version;
  }
  switch (event.type) {
    case WatchEvent::Type::kBookmark:
      break;  // only the resourceVersion moves
    case WatchEvent::Type::kAdded:
    case WatchEvent::Type::kModified: {
      FillKind(event.object);
      auto [old_object, object] = store_.Upsert(std::move(event.object));
      UpdateCacheGauge();
      if (object == nullptr) {  // refused by the filter
        CountIgnored();
        // It qualified before (e.g. it was relabelled): for the handler it is gone.
        if (old_object != nullptr) Emit(ObjectEvent::Type::kDeleted, old_object, old_object);
      } else if (old_object == nullptr) {
        Emit(ObjectEvent::Type::kAdded, nullptr, std::move(object));
      } else if (ResourceVersionOf(*old_object) != ResourceVersionOf(*object)) {
        Emit(ObjectEvent::Type::kUpdated, std::move(old_object), std::move(object));
      }  // else: a duplicate of what we hold; nothing changed
      break;
    }
    case WatchEvent::Type::kDeleted: {
      FillKind(event.object);
      ObjectPtr old_object = store_.Delete(KeyOf(event.object));
      UpdateCacheGauge();
      if (old_object == nullptr && !store_.Admits(event.object)) {
        CountIgnored();
        break;  // never ours: nothing to report
      }
      Json last = std::move(event.object);
      if (const Transform& transform = store_.transform()) transform(last);
      Emit(ObjectEvent::Type::kDeleted, std::move(old_object),
           std::make_shared<const Json>(std::move(last)));
      break;
    }
    case WatchEvent::Type::kError:
      break;  // handled above
  }
  return Clock::Duration::zero();
}

Clock::Duration Watcher::Fail(const Status& status, const char* during) {
  Clock::Duration delay;
  int failures;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Clock::Duration::zero();
    failures = ++failures_;
    // initial * 2^(failures-1), capped, without overflow.
    auto nominal = options_.initial_backoff;
    for (int i = 1; i < failures && nominal < options_.max_backoff; ++i) nominal *= 2;
    nominal = std::min(nominal, options_.max_backoff);
    const double jitter = std::clamp(options_.jitter, 0.0, 1.0);
    const double factor =
        1.0 - jitter * std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    delay = std::chrono::duration_cast<Clock::Duration>(nominal * factor);
  }
  LogWarn("watcher retrying", {{"resource", resource_name_},
                               {"during", during},
                               {"error", status.ToString()},
                               {"failures", std::to_string(failures)},
                               {"backoff_ms", std::to_string(std::chrono::duration_cast<
                                                  std::chrono::milliseconds>(delay).count())}});
  return delay;
}

void Watcher::CloseStream() {
  std::unique_ptr<WatchStream> closed;
  {
    std::lock_guard lock(mu_);
    closed = std::move(stream_);
    ++restarts_;
  }
  if (restarts_metric_ != nullptr) restarts_metric_->Increment();
  // Destroyed outside the lock: closing a connection may take a moment.
  closed.reset();
}

void Watcher::StartRelist(const Status& why) {
  LogInfo("watch expired; relisting", {{"resource", resource_name_}, {"error", why.ToString()}});
  std::lock_guard lock(mu_);
  phase_ = Phase::kList;
  resource_version_.clear();
}

void Watcher::Emit(ObjectEvent::Type type, ObjectPtr old_object, ObjectPtr object) {
  if (!handler_) return;
  handler_(ObjectEvent{type, std::move(old_object), std::move(object)});
}

void Watcher::UpdateCacheGauge() {
  if (objects_metric_ != nullptr) objects_metric_->Set(static_cast<double>(store_.Size()));
}

void Watcher::CountIgnored() {
  if (ignored_metric_ != nullptr) ignored_metric_->Increment();
}

Watcher::Phase Watcher::phase() const {
  std::lock_guard lock(mu_);
  return phase_;
}

std::string Watcher::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

int Watcher::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

int Watcher::relists() const {
  std::lock_guard lock(mu_);
  return std::max(0, lists_ - 1);
}

int Watcher::watch_restarts() const {
  std::lock_guard lock(mu_);
  return restarts_;
}

}  // namespace kubabase::kube
