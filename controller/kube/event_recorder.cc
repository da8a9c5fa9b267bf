#include "controller/kube/event_recorder.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "controller/base/time_format.h"
#include "controller/kube/json_fields.h"
#include "controller/kube/logging.h"

namespace kubabase::kube {
namespace {

using std::chrono::duration_cast;

constexpr size_t kMaxReasonBytes = 128;     // apiserver: reason and action
constexpr size_t kMaxInstanceBytes = 128;   // apiserver: reportingInstance
constexpr size_t kMaxEventNameBytes = 253;  // a DNS subdomain



std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "kubabase";
  return host;
}

EventRecorderOptions WithDefaults(EventRecorderOptions options) {
  if (options.reporting_instance.empty()) options.reporting_instance = HostName();
  options.reporting_instance = TruncateUtf8(options.reporting_instance, kMaxInstanceBytes);
  if (options.burst < 1) options.burst = 1;
  if (options.queue_capacity < 1) options.queue_capacity = 1;
  if (options.cache_size < 1) options.cache_size = 1;
  return options;
}

std::string ObjectKey(const ObjectReference& o) {
  return o.kind + "/" + o.namespace_ + "/" + o.name + "/" + o.uid;
}

// Keeps a cache bounded: when over capacity, forgets the entry used least recently. Linear, but
// only on overflow, and the caches hold a few thousand small entries.
template <typename Map, typename LastUsed>
void EvictOldest(Map& map, size_t capacity, LastUsed last_used) {
  while (map.size() > capacity) {
    auto oldest = map.begin();
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (last_used(it->second) < last_used(oldest->second)) oldest = it;
    }
    map.erase(oldest);
  }
}

}  // namespace

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the character that would be cut.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

ObjectReference ObjectReference::FromObject(const Json& object) {
  ObjectReference ref;
  if (!object.is_object()) return ref;
  ref.api_version = StringAt(object, {"apiVersion"});
  ref.kind = StringAt(object, {"kind"});
  auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) {
    ref.namespace_ = StringAt(*metadata, {"namespace"});
    ref.name = StringAt(*metadata, {"name"});
    ref.uid = StringAt(*metadata, {"uid"});
    ref.resource_version = StringAt(*metadata, {"resourceVersion"});
  }
  return ref;
}

EventRecorder::EventRecorder(ApiClient& client, const Clock& clock, EventRecorderOptions options,
                             Metrics* metrics)
    : client_(client), clock_(clock), options_(WithDefaults(std::move(options))), metrics_(metrics) {}

EventRecorder::~EventRecorder() { Stop(); }

void EventRecorder::Start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable() || stopping_) return;
  worker_ = std::thread([this] { WorkerLoop(); });
}

void EventRecorder::Stop() {
  bool had_worker = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    had_worker = worker_.joinable();
  }
  cv_.notify_all();
  if (had_worker) {
    worker_.join();
  } else {
    WorkerLoop();  // no thread was started: drain on this one, with the same deadline
  }
}

void EventRecorder::WorkerLoop() {
  std::optional<Clock::TimePoint> drain_deadline;
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_ && !drain_deadline) drain_deadline = clock_.Now() + options_.drain_timeout;
    if (queue_.empty()) return;  // only reached when stopping
    if (drain_deadline && clock_.Now() >= *drain_deadline) {
      const size_t dropped = queue_.size();
      queue_.clear();
      lock.unlock();
      for (size_t i = 0; i < dropped; ++i) Count("dropped");
      LogWarn("dropped events still queued at shutdown", {{"count", std::to_string(dropped)}});
      return;
    }
    Pending event = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Post(event);
    lock.lock();
  }
}

void EventRecorder::Record(const ObjectReference& object, EventType type, std::string_view reason,
                           std::string_view message) {
  Pending event{.object = object,
                .type = type,
                .reason = TruncateUtf8(reason.empty() ? "Unknown" : reason, kMaxReasonBytes),
                .message = TruncateUtf8(message, options_.max_message_bytes),
                .seen = clock_.Now(),
                .seen_wall = clock_.WallNow()};
  std::string result;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      result = "dropped";
    } else if (!TakeToken(ObjectKey(object), event.seen)) {
      result = "throttled";
    } else if (queue_.size() >= options_.queue_capacity) {
      result = "dropped";
    } else {
      queue_.push_back(std::move(event));
    }
  }
  if (result.empty()) {
    cv_.notify_one();
    return;
  }
  Count(result);
  LogDebug("event not posted", {{"object", ObjectKey(object)},
                                {"reason", std::string(reason)},
                                {"result", result}});
}

bool EventRecorder::TakeToken(const std::string& object_key, Clock::TimePoint now) {
  auto [it, inserted] = buckets_.try_emplace(object_key);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = options_.burst;
    bucket.refilled = now;
  } else if (options_.refill_interval > Clock::Duration::zero()) {
    // Whole tokens per elapsed interval, carrying the remainder: exact, no floating point drift.
    const int64_t earned = (now - bucket.refilled) / options_.refill_interval;
    bucket.tokens = std::min<int64_t>(options_.burst, bucket.tokens + earned);
    bucket.refilled = bucket.tokens == options_.burst ? now
                                                      : bucket.refilled + earned * options_.refill_interval;
  }
  bucket.last_used = now;
  const bool allowed = bucket.tokens >= 1;
  if (allowed) bucket.tokens -= 1;
  // A bucket forgotten by eviction comes back full: acceptable for a spam filter, and it keeps
  // memory bounded however many objects the operator touches.
  EvictOldest(buckets_, options_.cache_size, [](const Bucket& b) { return b.last_used; });
  return allowed;
}

size_t EventRecorder::PostQueued() {
  size_t processed = 0;
  while (true) {
    Pending event;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) return processed;
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    Post(event);
    ++processed;
  }
}

size_t EventRecorder::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void EventRecorder::Post(const Pending& event) {
  std::lock_guard post_lock(post_mu_);
  const std::string dedup_key = ObjectKey(event.object) + '\x1f' +
                                (event.type == EventType::kWarning ? "Warning" : "Normal") +
                                '\x1f' + event.reason + '\x1f' + event.message;
  auto it = posted_.find(dedup_key);
  if (it != posted_.end() && event.seen - it->second.last_seen < options_.dedup_window) {
    Posted& previous = it->second;
    const Json patch = {{"count", previous.count + 1},
                        {"lastTimestamp", Rfc3339(event.seen_wall)}};
    StatusOr<Json> patched = client_.MergePatch(Resource::Events(), previous.ns, previous.name, patch);
    if (patched.ok()) {
      previous.count += 1;
      previous.last_seen = event.seen;
      Count("updated");
      return;
    }
    if (!patched.status().IsNotFound()) {
      Count("failed");
      LogWarn("updating an event failed", {{"event", previous.ns + "/" + previous.name},
                                           {"error", patched.status().ToString()}});
      return;
    }
    // The Event expired (the apiserver's --event-ttl) or was deleted: start a new one.
    posted_.erase(it);
  }
  Create(event, dedup_key);
}

bool EventRecorder::Create(const Pending& event, const std::string& dedup_key) {
  const std::string ns =
      event.object.namespace_.empty() ? options_.cluster_scoped_namespace : event.object.namespace_;
  const Json body = NewEvent(event, ns);
  StatusOr<Json> created = client_.Create(Resource::Events(), ns, body);
  if (!created.ok()) {
    Count("failed");
    LogWarn("posting an event failed",
            {{"object", ObjectKey(event.object)}, {"reason", event.reason},
             {"error", created.status().ToString()}});
    return false;
  }
  posted_[dedup_key] = Posted{.ns = ns,
                              .name = body["metadata"]["name"].get<std::string>(),
                              .count = 1,
                              .last_seen = event.seen};
  EvictOldest(posted_, options_.cache_size, [](const Posted& p) { return p.last_seen; });
  Count("created");
  return true;
}

Json EventRecorder::NewEvent(const Pending& event, const std::string& ns) {
  // <object name>.<wall time in hex nanoseconds>, as client-go names Events: unique enough, and
  // sorts by time in `kubectl get events`.
  // Strictly increasing per recorder, so two events in the same clock tick never collide.
  const int64_t wall_nanos =
      duration_cast<std::chrono::nanoseconds>(event.seen_wall.time_since_epoch()).count();
  last_name_nanos_ = std::max(wall_nanos, last_name_nanos_ + 1);
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(last_name_nanos_));
  std::string base = event.object.name.empty() ? "object" : event.object.name;
  base = base.substr(0, kMaxEventNameBytes - std::string_view(suffix).size());

  Json involved = {{"apiVersion", event.object.api_version},
                   {"kind", event.object.kind},
                   {"name", event.object.name}};
  if (!event.object.namespace_.empty()) involved["namespace"] = event.object.namespace_;
  if (!event.object.uid.empty()) involved["uid"] = event.object.uid;
  if (!event.object.resource_version.empty()) {
    involved["resourceVersion"] = event.object.resource_version;
  }
  const std::string time = Rfc3339(event.seen_wall);
  return Json{{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", {{"name", base + suffix}, {"namespace", ns}}},
              {"involvedObject", std::move(involved)},
              {"type", event.type == EventType::kWarning ? "Warning" : "Normal"},
              {"reason", event.reason},
              {"message", event.message},
              {"action", event.reason},
              {"source", {{"component", options_.component}}},
              {"reportingComponent", options_.reporting_controller},
              {"reportingInstance", options_.reporting_instance},
              {"firstTimestamp", time},
              {"lastTimestamp", time},
              {"eventTime", Rfc3339(event.seen_wall, TimePrecision::kMicros)},
              {"count", 1}};
}

void EventRecorder::Count(std::string_view result) {
  if (metrics_ != nullptr) metrics_->events_posted().Add({{"result", std::string(result)}}).Increment();
}

}  // namespace kubabase::kube
