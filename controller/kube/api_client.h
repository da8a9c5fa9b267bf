// ApiClient: the verbs of the Kubernetes API on any resource, returning Status instead of throwing.
//
//   std::unique_ptr<ApiClient> client = ...;   // HttpApiClient in production (http_api_client.h)
//   StatusOr<Json> lease = client->Get(Resource::Leases(), "kubabase-system", "kubabase");
//   ApplyOptions apply{.field_manager = "kubabase", .force = true};
//   StatusOr<Json> applied = client->Apply(Resource::ConfigMaps(), "shop", "sql", desired, apply);
//
// Errors carry the HTTP status, the apiserver's Status.reason and message, and Retry-After:
//   404 -> kNotFound, 409 AlreadyExists -> kAlreadyExists, 409 Conflict -> kAborted,
//   410 (Gone / Expired) -> kGone, 400 and 422 -> kInvalidArgument, 401 -> kUnauthenticated,
//   403 -> kPermissionDenied, 429 -> kResourceExhausted (+retry_after), 5xx -> kUnavailable,
//   504 and client timeouts -> kDeadlineExceeded, refused connections and TLS failures -> kUnavailable.
// Each error's message begins with the request it answers ("APPLY services shop/db: ..."), so
// callers add only what the request does not say.
//
// Implementations are thread-safe: one client serves every worker.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controller/base/status.h"
#include "controller/kube/resource.h"

namespace kubabase::kube {

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;               // 0: no limit (one page)
  std::string continue_token;      // from the previous page's metadata.continue
  std::string resource_version;    // "" : most recent (quorum read); "0": any cached version
  std::string resource_version_match;  // "", "NotOlderThan" or "Exact"
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;    // watch events after this version
  bool allow_bookmarks = true;
  int64_t timeout_seconds = 0;     // 0: the server's default (a random 30-60 min)
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background" or "Orphan"
  std::string precondition_uid;    // delete only if the object still has this uid
  std::string precondition_resource_version;
};

struct ApplyOptions {
  std::string field_manager;       // Requires: not empty.
  bool force = false;              // take ownership of fields other managers hold
  std::string subresource;         // "" or "status"
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark, kError };
  Type type = Type::kAdded;
  Json object;  // the object; for kError the apiserver's Status object
};

// One open watch. Next() blocks until an event arrives, the stream ends or fails, or Cancel().
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event. Errors: kOutOfRange when the server closed the stream normally (its timeout),
  // kCancelled after Cancel(), kGone when the server sent a 410 Status event, kUnavailable or
  // kDeadlineExceeded when the connection broke or went silent.
  virtual StatusOr<WatchEvent> Next() = 0;
  // Unblocks Next() from another thread. Thread-safe; idempotent.
  virtual void Cancel() = 0;
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // GET one object (or a subresource of it).
  virtual StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name,
                             std::string_view subresource = {}) = 0;
  // GET one page of a collection: the List object, with metadata.resourceVersion and, when more
  // pages follow, metadata.continue. An empty `ns` lists all namespaces.
  virtual StatusOr<Json> List(const Resource& resource, std::string_view ns,
                              const ListOptions& options) = 0;
  // POST. Returns the created object.
  virtual StatusOr<Json> Create(const Resource& resource, std::string_view ns,
                                const Json& object) = 0;
  // PUT (optimistic concurrency through metadata.resourceVersion). Returns the stored object.
  virtual StatusOr<Json> Update(const Resource& resource, std::string_view ns,
                                std::string_view name, const Json& object,
                                std::string_view subresource = {}) = 0;
  // PATCH with application/merge-patch+json (RFC 7386).
  virtual StatusOr<Json> MergePatch(const Resource& resource, std::string_view ns,
                                    std::string_view name, const Json& patch,
                                    std::string_view subresource = {}) = 0;
  // PATCH with application/apply-patch+yaml (server-side apply; JSON is valid YAML).
  virtual StatusOr<Json> Apply(const Resource& resource, std::string_view ns,
                               std::string_view name, const Json& object,
                               const ApplyOptions& options) = 0;
  // DELETE. Ok when the deletion was accepted (the object may linger behind finalizers).
  virtual Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                        const DeleteOptions& options = {}) = 0;
  // GET ?watch=1. Returns once the response headers arrived; events are read with Next().
  virtual StatusOr<std::unique_ptr<WatchStream>> Watch(const Resource& resource,
                                                       std::string_view ns,
                                                       const WatchOptions& options) = 0;
};

// A deadline for every request this thread sends while the scope lives (client-go's request
// context with a timeout). HttpApiClient gives up on a request still unanswered at the deadline
// (kDeadlineExceeded; one whose deadline already passed is not sent). The leader elector bounds
// each renewal by the time left before its renew deadline this way. Scopes nest: the earlier
// deadline wins. Not copyable; destroy on the thread that created it.
class ScopedRequestDeadline {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit ScopedRequestDeadline(TimePoint deadline) : previous_(Current()) {
    Current() = previous_.has_value() ? std::min(*previous_, deadline) : deadline;
  }
  ~ScopedRequestDeadline() { Current() = previous_; }
  ScopedRequestDeadline(const ScopedRequestDeadline&) = delete;
  ScopedRequestDeadline& operator=(const ScopedRequestDeadline&) = delete;

  // This thread's deadline, if a scope is open.
  static std::optional<TimePoint> Get() { return Current(); }

 private:
  static std::optional<TimePoint>& Current() {
    thread_local std::optional<TimePoint> deadline;
    return deadline;
  }
  std::optional<TimePoint> previous_;
};

}  // namespace kubabase::kube
