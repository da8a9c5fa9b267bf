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
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t split = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || split == std::string::npos) return response;
  response.code = std::stoi(raw.substr(9, 3));
  response.headers = raw.substr(0, split);
  response.body = raw.substr(split + 4);
  return response;
}

class HealthServerTest : public ::testing::Test {
 protected:
  void StartServer() {
    HealthServerOptions options;
    options.bind_address = "127.0.0.1:0";
    options.readiness = [this]() -> Status {
      if (!ready_) return UnavailableError("caches not synced");
      return Status::Ok();
    };
    auto server = HealthServer::Start(options, metrics_.registry());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    ASSERT_GT(server_->port(), 0);
  }

  Metrics metrics_;
  std::atomic<bool> ready_{false};
  std::unique_ptr<HealthServer> server_;
};

TEST_F(HealthServerTest, ServesEveryRegisteredMetricInPrometheusTextFormat) {
  StartServer();
  metrics_.ApiRequest("GET", "leases.coordination.k8s.io", 200, 0.003);
  metrics_.reconcile_total().Add({{"controller", "things"}, {"result", "success"}}).Increment(3);

  const HttpResponse response = Request(server_->port(), "GET", "/metrics");

  EXPECT_EQ(response.code, 200);
  EXPECT_THAT(response.headers, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(response.body, HasSubstr("# TYPE kubabase_api_requests_total counter"));
  EXPECT_THAT(response.body,
              HasSubstr("kubabase_api_requests_total{code=\"200\",resource=\"leases.coordination.k8s.io\",verb=\"GET\"} 1"));
  EXPECT_THAT(response.body,
              HasSubstr("kubabase_reconcile_total{controller=\"things\",result=\"success\"} 3"));
  EXPECT_THAT(response.body, HasSubstr("kubabase_api_request_duration_seconds_bucket"));
}

TEST_F(HealthServerTest, HealthzAnswersOkWhileTheProcessRuns) {
  StartServer();
  const HttpResponse response = Request(server_->port(), "GET", "/healthz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(HealthServerTest, ReadyzFollowsTheReadinessPredicate) {
  StartServer();
  HttpResponse response = Request(server_->port(), "GET", "/readyz");
  EXPECT_EQ(response.code, 503);
  EXPECT_EQ(response.body, "not ready: caches not synced\n");

  ready_ = true;
  response = Request(server_->port(), "GET", "/readyz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "ok\n");
}

TEST_F(HealthServerTest, UnknownPathsAre404AndWritesAre405) {
  StartServer();
  EXPECT_EQ(Request(server_->port(), "GET", "/").code, 404);
  EXPECT_EQ(Request(server_->port(), "GET", "/metricsx").code, 404);
  EXPECT_EQ(Request(server_->port(), "GET", "/etc/passwd").code, 404);
  EXPECT_EQ(Request(server_->port(), "POST", "/healthz").code, 405);
}

TEST_F(HealthServerTest, HeadGetsHeadersWithoutABody) {
  StartServer();
  const HttpResponse response = Request(server_->port(), "HEAD", "/healthz");
  EXPECT_EQ(response.code, 200);
  EXPECT_EQ(response.body, "");
}

TEST_F(HealthServerTest, StopClosesTheListener) {
  StartServer();
  const int port = server_->port();
  server_->Stop();
  EXPECT_EQ(Request(port, "GET", "/healthz").code, 0);
  server_->Stop();  // idempotent
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
