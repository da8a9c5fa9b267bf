// How answers from the apiserver become Status values: the table in api_client.h, in one place.
//
//   Status s = StatusFromResponse(409, body, /*retry_after=*/"", "PATCH configmaps shop/sql");
//   s.code();          // kAborted (reason Conflict) or kAlreadyExists (reason AlreadyExists)
//   s.http_status();   // 409
//   s.reason();        // "Conflict", from the apiserver's Status object
//   s.message();       // "PATCH configmaps shop/sql: Operation cannot be fulfilled on ..."
//
// Mapping: 404 -> kNotFound; 409 AlreadyExists -> kAlreadyExists, other 409 -> kAborted;
// 410, reason Expired or Gone, or a message saying "too old resource version" -> kGone;
// 400, 405, 406, 413, 415, 422 -> kInvalidArgument; 401 -> kUnauthenticated; 403 ->
// kPermissionDenied; 429 -> kResourceExhausted; 504 -> kDeadlineExceeded; other 5xx ->
// kUnavailable; anything else that is not 2xx -> kInternal. Retry-After (delta seconds) is
// attached whenever the server sent one.
//
// Messages carry the request (`what`) and the apiserver's own message, or the first 200 bytes of
// a body that is not a Status. The apiserver's messages name objects and fields, not Secret values.
//
// Pure functions; thread-safe; never throw.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "controller/base/status.h"
#include "controller/kube/resource.h"

namespace kubabase::kube {

// The Status for a non-2xx response. Requires: http_status is not 2xx.
Status StatusFromResponse(int http_status, std::string_view body, std::string_view retry_after,
                          std::string_view what);

// The Status for a metav1.Status object, e.g. the object of a watch ERROR event (its `code`
// field plays the HTTP status; a missing code counts as 500).
Status StatusFromApiStatus(const Json& api_status, std::string_view what);

// The Status for a request that got no HTTP answer. `error_code` is the errno-style value of the
// transport's exception (std::errc): timed_out -> kDeadlineExceeded, operation_canceled ->
// kCancelled, anything else (refused, reset, TLS handshake, DNS) -> kUnavailable.
Status StatusFromTransportError(int error_code, std::string_view detail, std::string_view what);

// Retry-After in delta seconds ("7"). std::nullopt for empty, negative or HTTP-date values.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view header);

}  // namespace kubabase::kube
