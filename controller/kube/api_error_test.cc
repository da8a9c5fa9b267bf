#include "controller/kube/api_error.h"

#include <system_error>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

namespace kubabase::kube {
namespace {

using ::testing::HasSubstr;

std::string ApiStatusBody(int code, std::string_view reason, std::string_view message) {
  return Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
              {"code", code},     {"reason", reason},   {"message", message}}
      .dump();
}

struct MappingCase {
  int http_status;
  std::string reason;
  std::string message;
  StatusCode want;
};

TEST(ApiErrorTest, MapsEveryHttpStatusOfTheTable) {
  const MappingCase cases[] = {
      {400, "BadRequest", "bad", StatusCode::kInvalidArgument},
      {401, "Unauthorized", "Unauthorized", StatusCode::kUnauthenticated},
      {403, "Forbidden", "forbidden", StatusCode::kPermissionDenied},
      {404, "NotFound", "configmaps \"x\" not found", StatusCode::kNotFound},
      {405, "MethodNotAllowed", "no", StatusCode::kInvalidArgument},
      {409, "AlreadyExists", "configmaps \"x\" already exists", StatusCode::kAlreadyExists},
      {409, "Conflict", "the object has been modified", StatusCode::kAborted},
      {409, "", "Apply failed with 1 conflict", StatusCode::kAborted},
      {410, "Expired", "The provided continue parameter is too old", StatusCode::kGone},
      {410, "Gone", "gone", StatusCode::kGone},
      {415, "UnsupportedMediaType", "no", StatusCode::kInvalidArgument},
      {422, "Invalid", "ConfigMap \"X\" is invalid", StatusCode::kInvalidArgument},
      {429, "TooManyRequests", "slow down", StatusCode::kResourceExhausted},
      {500, "InternalError", "etcd", StatusCode::kUnavailable},
      {500, "InternalError", "too old resource version: 5 (10)", StatusCode::kGone},
      {503, "ServiceUnavailable", "later", StatusCode::kUnavailable},
      {504, "Timeout", "timeout", StatusCode::kDeadlineExceeded},
      {418, "", "teapot", StatusCode::kInternal},
  };
  for (const MappingCase& c : cases) {
    SCOPED_TRACE(fmt::format("{} {}", c.http_status, c.reason));
    Status status =
        StatusFromResponse(c.http_status, ApiStatusBody(c.http_status, c.reason, c.message), "",
                           "GET configmaps shop/x");
    EXPECT_EQ(status.code(), c.want);
    EXPECT_EQ(status.http_status(), c.http_status);
    EXPECT_EQ(status.reason(), c.reason);
    EXPECT_EQ(status.message(), "GET configmaps shop/x: " + c.message);
  }
}

TEST(ApiErrorTest, AttachesRetryAfterFromTheHeader) {
  Status status = StatusFromResponse(429, ApiStatusBody(429, "TooManyRequests", "slow"), "7",
                                     "LIST pods");
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(status.retry_after().has_value());
  EXPECT_EQ(*status.retry_after(), std::chrono::seconds(7));
  EXPECT_TRUE(status.IsTransient());
}

TEST(ApiErrorTest, ABodyThatIsNotAStatusIsQuotedShortly) {
  std::string html(1000, 'x');
  Status status = StatusFromResponse(502, "<html>" + html, "", "GET pods a/b");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.reason(), "");
  EXPECT_THAT(status.message(), HasSubstr("GET pods a/b: HTTP 502: <html>xx"));
  EXPECT_LT(status.message().size(), 260u);
  EXPECT_EQ(StatusFromResponse(503, "", "", "").message(), "HTTP 503");
}

TEST(ApiErrorTest, ParsesRetryAfterDeltaSecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("1"), std::chrono::seconds(1));
  EXPECT_EQ(ParseRetryAfter(" 30 "), std::chrono::seconds(30));
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("99999999999999"), std::nullopt);
}

TEST(ApiErrorTest, AWatchErrorEventWithCode410IsGone) {
  Json event_object = Json::parse(
      R"json({"kind":"Status","apiVersion":"v1","status":"Failure",
          "message":"too old resource version: 1 (200)","reason":"Expired","code":410})json");
  Status status = StatusFromApiStatus(event_object, "WATCH configmaps");
  EXPECT_EQ(status.code(), StatusCode::kGone);
  EXPECT_EQ(status.http_status(), 410);
  EXPECT_EQ(status.reason(), "Expired");
}

TEST(ApiErrorTest, AnApiStatusWithoutCodeOrMessageIsStillDescribed) {
  Status status = StatusFromApiStatus(Json::object(), "WATCH pods");
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "WATCH pods: HTTP 500");
  Json throttled = {{"code", 429}, {"reason", "TooManyRequests"},
                    {"details", {{"retryAfterSeconds", 3}}}};
  Status slow = StatusFromApiStatus(throttled, "");
  EXPECT_EQ(slow.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(slow.retry_after(), std::chrono::seconds(3));
  EXPECT_EQ(StatusFromApiStatus(Json("not an object"), "").code(), StatusCode::kUnavailable);
}

TEST(ApiErrorTest, TransportErrorsMapToTimeoutCancelOrUnavailable) {
  EXPECT_EQ(StatusFromTransportError(static_cast<int>(std::errc::timed_out), "t", "GET x").code(),
            StatusCode::kDeadlineExceeded);
  EXPECT_EQ(
      StatusFromTransportError(static_cast<int>(std::errc::operation_canceled), "c", "").code(),
      StatusCode::kCancelled);
  Status refused =
      StatusFromTransportError(static_cast<int>(std::errc::connection_refused), "refused", "GET x");
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(), "GET x: refused");
  EXPECT_EQ(StatusFromTransportError(0, "Error in SSL handshake", "").code(),
            StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kubabase::kube
