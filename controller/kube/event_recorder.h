// EventRecorder: posts core/v1 Events about objects, in the background, de-duplicated and
// rate-limited, so that `kubectl describe` shows what the operator did and why.
//
//   EventRecorderOptions options;
//   options.reporting_instance = identity;   // e.g. the leader-election identity
//   EventRecorder recorder(client, RealClock::Get(), options, &metrics);
//   recorder.Start();
//   recorder.Warning(ObjectReference::FromObject(project), "HostConflict",
//                    "host a.example.com is already claimed by Project b; choose another host");
//   ...
//   recorder.Stop();   // posts what is still queued (bounded by drain_timeout), joins the thread
//
// Contract:
// - Record() never blocks on the API and never fails: it takes a token, enqueues and returns. One
//   worker thread posts. A full queue drops the event; so does an object over its rate limit.
//   Every outcome is counted in kubabase_events_posted_total{result}: created, updated (a
//   de-duplicated repeat), throttled (rate limit), dropped (queue full or shutdown), failed (API
//   error; the event is not retried, Events are best-effort).
// - De-duplication: the same object (kind, namespace, name, uid), type, reason and message seen
//   again within dedup_window of its last occurrence PATCHes the existing Event's count and
//   lastTimestamp instead of creating another (if that Event is gone, e.g. by the apiserver's
//   event TTL, a new one is created).
// - Rate limit: a token bucket per object, burst 25 and one token per 5 minutes, as client-go's
//   EventSourceObjectSpamFilter; repeats that are de-duplicated consume tokens too.
// - Shape (what the apiserver validates for core/v1 Events with eventTime set): involvedObject,
//   type Normal|Warning, reason (<= 128 bytes, also used as action), message (truncated to 1 KiB on
//   a UTF-8 boundary), source.component, reportingComponent (a qualified name), reportingInstance
//   (<= 128 bytes), firstTimestamp/lastTimestamp (RFC 3339 seconds), eventTime (microseconds),
//   count. Events about namespaced objects go to the object's namespace; about cluster-scoped
//   objects (a Namespace, a cluster-scoped custom resource) to cluster_scoped_namespace, which the
//   apiserver accepts only as "default" (as kubectl shows them for Nodes) or "kube-system".
// - Never pass a secret: reason and message are stored in plain text, readable by anyone who can
//   list Events. Callers name keys, Secrets and fields, never their values.
//
// Thread-safety: Record/Normal/Warning from any thread. Start/Stop from one owner thread.
// PostQueued only while the worker is not running (tests; Stop uses it internally).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "controller/base/clock.h"
#include "controller/kube/api_client.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube {

// core/v1 ObjectReference: the object an Event is about.
struct ObjectReference {
  std::string api_version;  // "kubabase.io/v1alpha1"
  std::string kind;         // "Project"
  std::string namespace_;   // "" for cluster-scoped objects
  std::string name;
  std::string uid;               // optional; ties the Event to this incarnation of the name
  std::string resource_version;  // optional

  // Reads apiVersion, kind and metadata.{namespace,name,uid,resourceVersion} from an object;
  // missing fields stay empty (never throws).
  static ObjectReference FromObject(const Json& object);
};

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string component = "kubabase";             // source.component
  std::string reporting_controller = "kubabase";  // reportingComponent: a qualified name
  std::string reporting_instance;                 // "" means the host name; cut to 128 bytes
  std::string cluster_scoped_namespace = "default";
  size_t queue_capacity = 1000;
  int burst = 25;                                         // tokens per object
  Clock::Duration refill_interval = std::chrono::minutes(5);  // one token back per interval
  Clock::Duration dedup_window = std::chrono::minutes(10);
  size_t cache_size = 4096;  // objects and distinct events remembered (least recently used go)
  size_t max_message_bytes = 1024;
  Clock::Duration drain_timeout = std::chrono::seconds(5);  // Stop() posts queued events this long
};

class EventRecorder {
 public:
  // `client`, `clock` and `metrics` (may be null) must outlive the recorder.
  EventRecorder(ApiClient& client, const Clock& clock, EventRecorderOptions options = {},
                Metrics* metrics = nullptr);
  ~EventRecorder();  // Stop()
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Starts the worker thread. Idempotent.
  void Start();
  // Stops accepting events, posts those queued until drain_timeout (the rest count as dropped),
  // and joins the worker. Idempotent.
  void Stop();

  // Queues an Event about `object`. Never blocks on the API, never fails (see the contract above).
  // Requires: reason is a short UpperCamelCase word; message holds no secret.
  void Record(const ObjectReference& object, EventType type, std::string_view reason,
              std::string_view message);
  void Normal(const ObjectReference& object, std::string_view reason, std::string_view message) {
    Record(object, EventType::kNormal, reason, message);
  }
  void Warning(const ObjectReference& object, std::string_view reason, std::string_view message) {
    Record(object, EventType::kWarning, reason, message);
  }

  // Posts every queued event on the calling thread; returns how many were processed.
  size_t PostQueued();
  // Events waiting to be posted.
  size_t queued() const;

 private:
  struct Pending {
    ObjectReference object;
    EventType type;
    std::string reason;
    std::string message;
    Clock::TimePoint seen;        // steady, for the de-duplication window
    Clock::WallTime seen_wall;    // written into the Event
  };
  struct Bucket {
    int64_t tokens = 0;
    Clock::TimePoint refilled{};   // tokens are earned in whole intervals from here
    Clock::TimePoint last_used{};
  };
  struct Posted {
    std::string ns;
    std::string name;
    int64_t count = 0;
    Clock::TimePoint last_seen{};
  };

  bool TakeToken(const std::string& object_key, Clock::TimePoint now);  // REQUIRES: mu_ held
  void Post(const Pending& event);
  bool Create(const Pending& event, const std::string& dedup_key);
  Json NewEvent(const Pending& event, const std::string& ns);  // REQUIRES: post_mu_ held
  void Count(std::string_view result);
  void WorkerLoop();

  ApiClient& client_;
  const Clock& clock_;
  const EventRecorderOptions options_;
  Metrics* const metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::unordered_map<std::string, Bucket> buckets_;
  bool stopping_ = false;
  std::thread worker_;

  std::mutex post_mu_;  // serialises posting (the worker, or PostQueued in tests)
  std::unordered_map<std::string, Posted> posted_;
  int64_t last_name_nanos_ = 0;
};

// Cuts `text` to at most `max_bytes` bytes without splitting a UTF-8 character.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace kubabase::kube
