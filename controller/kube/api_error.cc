#include "controller/kube/api_error.h"

#include <cerrno>
#include <system_error>

#include <fmt/format.h>

#include "controller/kube/json_fields.h"

namespace kubabase::kube {
namespace {

constexpr size_t kMaxQuotedBody = 200;

std::string Prefixed(std::string_view what, std::string_view message) {
  if (what.empty()) return std::string(message);
  return fmt::format("{}: {}", what, message);
}

StatusCode CodeFor(int http_status, std::string_view reason, std::string_view message) {
  // The watch cache has reported an expired resourceVersion with several codes over the years;
  // the message is the stable signal.
  if (message.find("too old resource version") != std::string_view::npos) return StatusCode::kGone;
  switch (http_status) {
    case 400: case 405: case 406: case 413: case 415: case 422:
      return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kAborted;
    case 410: return StatusCode::kGone;
    case 429: return StatusCode::kResourceExhausted;
    case 504: return StatusCode::kDeadlineExceeded;
    default: break;
  }
  if (reason == "Expired" || reason == "Gone") return StatusCode::kGone;
  if (http_status >= 500 && http_status <= 599) return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

Status Build(int http_status, std::string reason, std::string message,
             std::optional<std::chrono::seconds> retry_after, std::string_view what) {
  Status status(CodeFor(http_status, reason, message), Prefixed(what, message));
  status.WithHttp(http_status, std::move(reason));
  if (retry_after) status.WithRetryAfter(*retry_after);
  return status;
}


}  // namespace

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  if (header.empty() || header.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : header) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return std::chrono::seconds(seconds);
}

Status StatusFromApiStatus(const Json& api_status, std::string_view what) {
  int code = 500;
  std::string reason;
  std::string message;
  if (api_status.is_object()) {
    auto it = api_status.find("code");
    if (it != api_status.end() && it->is_number_integer()) code = it->get<int>();
    reason = StringAt(api_status, {"reason"});
    message = StringAt(api_status, {"message"});
  }
  if (message.empty()) {
    message = reason.empty() ? fmt::format("HTTP {}", code) : fmt::format("HTTP {} {}", code, reason);
  }
  std::optional<std::chrono::seconds> retry_after;
  if (api_status.is_object()) {
    auto details = api_status.find("details");
    if (details != api_status.end() && details->is_object()) {
      auto after = details->find("retryAfterSeconds");
      if (after != details->end() && after->is_number_integer() && after->get<int64_t>() >= 0) {
        retry_after = std::chrono::seconds(after->get<int64_t>());
      }
    }
  }
  return Build(code, std::move(reason), std::move(message), retry_after, what);
}

Status StatusFromResponse(int http_status, std::string_view body, std::string_view retry_after,
                          std::string_view what) {
  std::string reason;
  std::string message;
  Json parsed = Json::parse(body, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && StringAt(parsed, {"kind"}) == "Status") {
    reason = StringAt(parsed, {"reason"});
    message = StringAt(parsed, {"message"});
  }
  if (message.empty()) {
    std::string_view quoted = body.substr(0, kMaxQuotedBody);
    while (!quoted.empty() && (quoted.back() == '\n' || quoted.back() == '\r')) {
      quoted.remove_suffix(1);
    }
    message = quoted.empty() ? fmt::format("HTTP {}", http_status)
                             : fmt::format("HTTP {}: {}{}", http_status, quoted,
                                           body.size() > kMaxQuotedBody ? "..." : "");
  }
  return Build(http_status, std::move(reason), std::move(message), ParseRetryAfter(retry_after),
               what);
}

Status StatusFromTransportError(int error_code, std::string_view detail, std::string_view what) {
  std::string message = Prefixed(what, detail);
  if (error_code == static_cast<int>(std::errc::timed_out)) {
    return DeadlineExceededError(std::move(message));
  }
  if (error_code == static_cast<int>(std::errc::operation_canceled)) {
    return CancelledError(std::move(message));
  }
  return UnavailableError(std::move(message));
}

}  // namespace kubabase::kube
