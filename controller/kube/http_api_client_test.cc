// What can be shown without a server: ListAll's paging control flow (over a fake ApiClient) and
// HttpApiClient::Create's validation. The HTTP behaviour itself is proven against the real
// apiserver in tests/integration/client_*_test.cc.
#include "controller/kube/http_api_client.h"

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

}  // namespace
}  // namespace kubabase::kube
