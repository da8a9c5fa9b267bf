// What can be shown without a server: ListAll's paging control flow (over a fake ApiClient),
// HttpApiClient::Create's validation, and a request deadline against a socket that never
// answers. The HTTP behaviour itself is proven against the real apiserver in
// tests/integration/client_*_test.cc.
#include "controller/kube/http_api_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/kube/testing/unimplemented_api_client.h"

namespace kubabase::kube {
namespace {

using ::testing::HasSubstr;

// Serves List pages from a script and records the options of each call.
class PagingApiClient : public testing::UnimplementedApiClient {
 public:
  std::vector<StatusOr<Json>> pages;
  std::vector<ListOptions> calls;

  StatusOr<Json> List(const Resource&, std::string_view, const ListOptions& options) override {
    calls.push_back(options);
    if (calls.size() > pages.size()) return InternalError("no more pages scripted");
    return pages[calls.size() - 1];
  }
};

Json Page(std::vector<std::string> names, std::string resource_version, std::string next) {
  Json page = {{"kind", "ConfigMapList"}, {"apiVersion", "v1"},
               {"metadata", {{"resourceVersion", resource_version}}}, {"items", Json::array()}};
  if (!next.empty()) {
    page["metadata"]["continue"] = next;
    page["metadata"]["remainingItemCount"] = 1;
  }
  for (const std::string& name : names) page["items"].push_back({{"metadata", {{"name", name}}}});
  return page;
}

TEST(ListAllTest, FollowsContinueTokensAndJoinsTheItems) {
  PagingApiClient client;
  client.pages = {Page({"a", "b"}, "100", "token-1"), Page({"c", "d"}, "100", "token-2"),
                  Page({"e"}, "100", "")};
  ListOptions options;
  options.label_selector = "app=x";
  options.limit = 2;
  options.resource_version = "0";
  StatusOr<Json> all = ListAll(client, Resource::ConfigMaps(), "shop", options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ((*all)["items"].size(), 5u);
  EXPECT_EQ((*all)["items"][4]["metadata"]["name"], "e");
  EXPECT_EQ((*all)["metadata"]["resourceVersion"], "100");
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
  EXPECT_FALSE((*all)["metadata"].contains("remainingItemCount"));

  ASSERT_EQ(client.calls.size(), 3u);
  EXPECT_EQ(client.calls[0].continue_token, "");
  EXPECT_EQ(client.calls[0].resource_version, "0");
  EXPECT_EQ(client.calls[1].continue_token, "token-1");
  EXPECT_EQ(client.calls[1].resource_version, "");  // the token pins the snapshot
  EXPECT_EQ(client.calls[2].continue_token, "token-2");
  for (const ListOptions& call : client.calls) {
    EXPECT_EQ(call.label_selector, "app=x");
    EXPECT_EQ(call.limit, 2);
  }
}

TEST(ListAllTest, UsesPagesOf500WhenNoLimitIsGiven) {
  PagingApiClient client;
  client.pages = {Page({}, "7", "")};
  StatusOr<Json> all = ListAll(client, Resource::ConfigMaps(), "", ListOptions{});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE((*all)["items"].empty());
  EXPECT_EQ(client.calls.at(0).limit, 500);
}

TEST(ListAllTest, AnExpiredContinueTokenEndsWithGone) {
  PagingApiClient client;
  client.pages = {Page({"a"}, "1", "old"),
                  GoneError("continue parameter is too old").WithHttp(410, "Expired")};
  Status status = ListAll(client, Resource::ConfigMaps(), "", ListOptions{}).status();
  EXPECT_EQ(status.code(), StatusCode::kGone);
}

TEST(HttpApiClientCreateTest, RejectsAMissingOrMalformedServer) {
  ClientConfig config;
  EXPECT_EQ(HttpApiClient::Create(config, {}).status().code(), StatusCode::kInvalidArgument);
  config.server = "https://";
  EXPECT_EQ(HttpApiClient::Create(config, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpApiClientCreateTest, RejectsTlsMaterialOpenSslCannotLoad) {
  ClientConfig config;
  config.server = "https://127.0.0.1:6443";
  config.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  Status status = HttpApiClient::Create(config, {}).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("certificate-authority"));
}

TEST(HttpApiClientCreateTest, AcceptsAPlainConfigWithoutContactingTheServer) {
  ClientConfig config;
  config.server = "https://127.0.0.1:1";
  HttpApiClientOptions options;
  options.qps = 5;
  options.burst = 7;
  StatusOr<std::unique_ptr<HttpApiClient>> client = HttpApiClient::Create(config, options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->rate_limiter().burst(), 7);
}

// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's backlog
// and then hear nothing, like an apiserver that hangs.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 8) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The leader elector bounds each renewal this way: a request unanswered at its deadline ends with
// kDeadlineExceeded then, not after the client's 30 s inactivity timeout.
TEST(HttpApiClientDeadlineTest, ARequestUnansweredAtItsDeadlineEndsWithDeadlineExceeded) {
  SilentListener listener;
  ClientConfig config;
  config.server = "https://127.0.0.1:" + std::to_string(listener.port());
  config.insecure_skip_tls_verify = true;
  HttpApiClientOptions options;
  options.request_timeout = std::chrono::seconds(600);  // never what ends this test
  auto client = HttpApiClient::Create(config, options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  StatusOr<Json> got = [&] {
    ScopedRequestDeadline deadline(std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(300));
    return (*client)->Get(Resource::Leases(), "kubabase-system", "kubabase");
  }();
  EXPECT_EQ(got.status().code(), StatusCode::kDeadlineExceeded) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("GET leases.coordination.k8s.io"));
  EXPECT_THAT(got.status().message(), HasSubstr("deadline"));
}

TEST(HttpApiClientDeadlineTest, ARequestWhoseDeadlinePassedIsNotSent) {
  ClientConfig config;
  config.server = "https://127.0.0.1:1";
  auto client = HttpApiClient::Create(config, {});
  ASSERT_TRUE(client.ok());
  ScopedRequestDeadline deadline(std::chrono::steady_clock::now() - std::chrono::seconds(1));
  StatusOr<Json> got = (*client)->Get(Resource::Leases(), "kubabase-system", "kubabase");
  EXPECT_EQ(got.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(got.status().message(), HasSubstr("before it was sent"));
}

TEST(ScopedRequestDeadlineTest, NestsWithTheEarlierDeadlineWinningAndRestoresOnExit) {
  const auto now = std::chrono::steady_clock::now();
  EXPECT_FALSE(ScopedRequestDeadline::Get().has_value());
  {
    ScopedRequestDeadline outer(now + std::chrono::seconds(5));
    {
      ScopedRequestDeadline later(now + std::chrono::seconds(9));
      EXPECT_EQ(ScopedRequestDeadline::Get(), now + std::chrono::seconds(5));
      ScopedRequestDeadline earlier(now + std::chrono::seconds(1));
      EXPECT_EQ(ScopedRequestDeadline::Get(), now + std::chrono::seconds(1));
    }
    EXPECT_EQ(ScopedRequestDeadline::Get(), now + std::chrono::seconds(5));
  }
  EXPECT_FALSE(ScopedRequestDeadline::Get().has_value());
}

}  // namespace
}  // namespace kubabase::kube
