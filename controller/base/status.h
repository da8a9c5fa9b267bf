// Status and StatusOr<T>: how every public kubabase function reports failure.
//
// No exception leaves a public base/, kube/ or project/ function. Adapters around throwing
// libraries (cpprestsdk, nlohmann::json, yaml-cpp) catch and return a Status instead.
//
//   StatusOr<Json> got = client.Get(pods, "default", "web");
//   if (!got.ok()) {
//     if (got.status().IsNotFound()) return CreateIt();
//     return got.status();          // let the caller decide whether to log
//   }
//   Use(*got);
//
// The codes tell the caller what to do (as absl's StatusCode docs do):
//   kUnavailable, kDeadlineExceeded, kResourceExhausted  retry the call, with backoff
//   kAborted (409 Conflict)                               re-read and retry the larger operation
//   kInvalidArgument, kFailedPrecondition                 nothing to retry until someone fixes state
//   kNotFound, kAlreadyExists, kGone                      decide: often "already done" or "re-list"
//
// Status is a value type; copying is cheap when ok. Thread-compatible.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kubabase {

enum class StatusCode {
  kOk = 0,
  kCancelled,
  kInvalidArgument,     // the request is malformed (HTTP 400, 422)
  kDeadlineExceeded,    // a timeout (HTTP 504, client timeouts)
  kNotFound,            // HTTP 404
  kAlreadyExists,       // HTTP 409 with reason AlreadyExists
  kPermissionDenied,    // HTTP 403
  kResourceExhausted,   // HTTP 429: throttled; see retry_after()
  kFailedPrecondition,  // state must be fixed by someone first
  kAborted,             // HTTP 409 Conflict: optimistic-concurrency failure
  kOutOfRange,          // end of a stream
  kUnimplemented,
  kInternal,            // a bug, or a response we cannot understand
  kUnavailable,         // HTTP 5xx, connection refused or reset, TLS failure
  kUnauthenticated,     // HTTP 401
  kGone,                // HTTP 410: a resourceVersion is too old; re-list
};

// The name of a code, e.g. "NotFound". Never empty.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An ok Status.
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // For errors that came from the Kubernetes API: the HTTP status code (0 if none), the
  // apiserver's Status.reason (e.g. "AlreadyExists", "Expired"; empty if none) and, for 429 and
  // some 5xx, the server's Retry-After.
  int http_status() const { return http_status_; }
  const std::string& reason() const { return reason_; }
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
  Status& WithHttp(int http_status, std::string reason) {
    http_status_ = http_status;
    reason_ = std::move(reason);
    return *this;
  }
  Status& WithRetryAfter(std::chrono::seconds after) {
    retry_after_ = after;
    return *this;
  }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsConflict() const { return code_ == StatusCode::kAborted; }
  bool IsGone() const { return code_ == StatusCode::kGone; }
  // True for the codes worth retrying as they are: unavailable, timeouts, throttling, conflicts.
  bool IsTransient() const;

  // A new Status with `context: ` put before the message; code and HTTP details kept.
  Status Annotate(std::string_view context) const;

  // "NotFound: projects.kubabase.io \"x\" not found" or "OK".
  std::string ToString() const;

  // Marks a Status as deliberately ignored.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int http_status_ = 0;
  std::string reason_;
  std::optional<std::chrono::seconds> retry_after_;
};

// Named constructors.
inline Status CancelledError(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status AbortedError(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status OutOfRangeError(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status GoneError(std::string m) { return {StatusCode::kGone, std::move(m)}; }

// Either a T or a non-ok Status.
//   Requires: a StatusOr is built from an ok Status only by mistake; that becomes kInternal.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(value_).ok()) value_ = InternalError("StatusOr built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  // The error, or an ok Status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(value_); }

  // Requires: ok().
  const T& value() const& { return std::get<T>(value_); }
  T& value() & { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace kubabase

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define KUBABASE_RETURN_IF_ERROR(expr)            \
  do {                                            \
    ::kubabase::Status kubabase_status_ = (expr); \
    if (!kubabase_status_.ok()) return kubabase_status_; \
  } while (0)

#define KUBABASE_CONCAT_INNER_(a, b) a##b
#define KUBABASE_CONCAT_(a, b) KUBABASE_CONCAT_INNER_(a, b)
// `KUBABASE_ASSIGN_OR_RETURN(auto x, MaybeX());` declares x from a StatusOr or returns its error.
#define KUBABASE_ASSIGN_OR_RETURN(lhs, expr) \
  KUBABASE_ASSIGN_OR_RETURN_IMPL_(KUBABASE_CONCAT_(kubabase_statusor_, __LINE__), lhs, expr)
#define KUBABASE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
