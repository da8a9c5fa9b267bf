#include "controller/kube/health_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/kube/metrics.h"

namespace kubabase::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct HttpResponse {
  int code = 0;
  std::string headers;
  std::string body;
};

// A real HTTP/1.1 request over a loopback socket; the server closes after the response.
HttpResponse Request(int port, const std::string& method, const std::string& path) {
  HttpResponse response;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return response;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return response;
  }
  const std::string request =
      method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return response;
  }
  // Read the headers, then exactly Content-Length bytes (none for HEAD), as a real client does;
  // waiting for the server to close first would race civetweb's graceful close.
  std::string raw;
  char buf[4096];
  size_t split = std::string::npos;
  size_t want = std::string::npos;
  while (want == std::string::npos || raw.size() < want) {
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
    if (split == std::string::npos && (split = raw.find("\r\n\r\n")) != std::string::npos) {
      const size_t at = raw.find("Content-Length: ");
      const size_t length = at < split ? std::stoul(raw.substr(at + 16)) : 0;
      want = split + 4 + (method == "HEAD" ? 0 : length);
    }
  }
  close(fd);
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || split == std::string::npos) return response;
  response.code = std::stoi(raw.substr(9, 3));
  response.headers = raw.substr(0, split);
  response.body = raw.substr(split + 4);
  return response;
}

// One server for the suite: civetweb's mg_stop waits out its master thread's 2 s poll, so each
// stop costs up to 2 s; starting one per test would make the suite slow, not more thorough.
class HealthServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    metrics_ = new Metrics();
    ready_ = new std::atomic<bool>(false);
    HealthServerOptions options;
    options.bind_address = "127.0.0.1:0";
    options.readiness = []() -> Status {
      if (!*ready_) return UnavailableError("caches not synced");
      return Status::Ok();
    };
    auto server = HealthServer::Start(options, metrics_->registry());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
    ASSERT_GT(port(), 0);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete ready_;
    delete metrics_;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static int port() { return server_->port(); }

  static Metrics* metrics_;
  static std::atomic<bool>* ready_;
  static HealthServer* server_;
};

Metrics* HealthServerTest::metrics_ = nullptr;
std::atomic<bool>* HealthServerTest::ready_ = nullptr;
HealthServer* HealthServerTest::server_ = nullptr;

TEST_F(HealthServerTest, ServesEveryRegisteredMetricInPrometheusTextFormat) {
  static int run = 0;  // fresh label values on every --gtest_repeat iteration
  const std::string id = std::to_string(++run);
  metrics_->ApiRequest("GET", "leases-" + id, 200, 0.003);
  metrics_->reconcile_total().Add({{"controller", "things-" + id}, {"result", "success"}}).Increment(3);

  const HttpResponse response = Request(port(), "GET", "/metrics");

  EXPECT_EQ(response.code, 200);
  EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response.body, HasSubstr("# TYPE kubabase_api_requests_total counter"));
  EXPECT_THAT(response.body, HasSubstr("kubabase_api_requests_total{code=\"200\",resource=\"leases-" +
                                       id + "\",verb=\"GET\"} 1"));
  EXPECT_THAT(response.body, HasSubstr("kubabase_reconcile_total{controller=\"things-" + id +
                                       "\",result=\"success\"} 3"));
  EXPECT_THAT(response.body, HasSubstr("kubabase_api_request_duration_seconds_bucket"));
}

TEST_F(HealthServerTest, HealthzAnswersOkWhileTheProcessRuns) {
  const HttpResponse response = Request(port(), "GET", "/healthz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(HealthServerTest, ReadyzFollowsTheReadinessPredicate) {
  *ready_ = false;
  HttpResponse response = Request(port(), "GET", "/readyz");
  EXPECT_EQ(response.code, 503);
  EXPECT_EQ(response.body, "not ready: caches not synced\n");

  *ready_ = true;
  response = Request(port(), "GET", "/readyz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "ok\n");
  *ready_ = false;
}

TEST_F(HealthServerTest, UnknownPathsAre404AndWritesAre405) {
  EXPECT_EQ(Request(port(), "GET", "/").code, 404);
  EXPECT_EQ(Request(port(), "GET", "/metricsx").code, 404);
  EXPECT_EQ(Request(port(), "GET", "/etc/passwd").code, 404);
  EXPECT_EQ(Request(port(), "POST", "/healthz").code, 405);
}

TEST_F(HealthServerTest, HeadGetsHeadersWithoutABody) {
  const HttpResponse response = Request(port(), "HEAD", "/healthz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "");
}

TEST(HealthServerStopTest, StopClosesTheListener) {
  Metrics metrics;
  HealthServerOptions options;
  options.bind_address = "127.0.0.1:0";
  auto server = HealthServer::Start(options, metrics.registry());
  ASSERT_TRUE(server.ok());
  const int port = (*server)->port();
  EXPECT_EQ(Request(port, "GET", "/readyz").code, 200) << "no predicate: ready";
  (*server)->Stop();
  EXPECT_EQ(Request(port, "GET", "/healthz").code, 0);
  (*server)->Stop();  // idempotent
}

TEST(HealthServerStartTest, ABusyPortIsAnUnavailableErrorNamingTheAddress) {
  Metrics metrics;
  HealthServerOptions options;
  options.bind_address = "127.0.0.1:0";
  auto first = HealthServer::Start(options, metrics.registry());
  ASSERT_TRUE(first.ok());
  options.bind_address = "127.0.0.1:" + std::to_string((*first)->port());

  auto second = HealthServer::Start(options, metrics.registry());

  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr(options.bind_address));
}

TEST(CivetwebListeningPortTest, TranslatesBindAddresses) {
  EXPECT_EQ(*CivetwebListeningPort(":8080"), "8080");
  EXPECT_EQ(*CivetwebListeningPort("0.0.0.0:8080"), "8080");
  EXPECT_EQ(*CivetwebListeningPort("127.0.0.1:0"), "127.0.0.1:0");
  EXPECT_EQ(*CivetwebListeningPort("[::1]:9090"), "[::1]:9090");
  EXPECT_EQ(CivetwebListeningPort("8080").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CivetwebListeningPort(":http").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CivetwebListeningPort(":70000").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CivetwebListeningPort("localhost:").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kubabase::kube
