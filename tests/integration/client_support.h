// Shared by the integration tests: a client for the local control plane (ClusterClient) and,
// for the client_* tests, a fresh namespace per test (ClusterTest).
//
//   class MyTest : public ClusterTest {};
//   TEST_F(MyTest, Something) { client().Create(Resource::ConfigMaps(), ns(), object); }
//
// The control plane is found through $KUBABASE_CLUSTER_DIR/kubeconfig (tests/cluster/README.md);
// without it every test fails with a message saying how to start one.
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "controller/kube/http_api_client.h"
#include "controller/kube/kubeconfig.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube::testing {

// The admin config of the local control plane, or an error saying how to get one.
inline StatusOr<ClientConfig> ClusterConfig() {
  const char* dir = std::getenv("KUBABASE_CLUSTER_DIR");
  if (dir == nullptr || *dir == '\0') {
    return FailedPreconditionError(
        "KUBABASE_CLUSTER_DIR is not set: run `ctest -L integration` (which starts the control "
        "plane) or scripts/cluster-up.sh and export KUBABASE_CLUSTER_DIR");
  }
  std::string path = (std::filesystem::path(dir) / "kubeconfig").string();
  return LoadKubeconfig(path, "");
}

// A client of the local control plane with `options`; the errors of ClusterConfig or Create.
inline StatusOr<std::unique_ptr<HttpApiClient>> ClusterClient(
    const HttpApiClientOptions& options) {
  KUBABASE_ASSIGN_OR_RETURN(ClientConfig config, ClusterConfig());
  return HttpApiClient::Create(config, options);
}

inline std::string RandomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 6; ++i) out.push_back(kChars[rng() % 36]);
  return out;
}

inline std::string StringAt(const Json& object, const Json::json_pointer& pointer) {
  if (!object.contains(pointer) || !object[pointer].is_string()) return {};
  return object[pointer].get<std::string>();
}
inline std::string ResourceVersionOf(const Json& object) {
  return StringAt(object, Json::json_pointer("/metadata/resourceVersion"));
}
inline std::string UidOf(const Json& object) {
  return StringAt(object, Json::json_pointer("/metadata/uid"));
}

inline Json ConfigMap(const std::string& name, const Json& labels = Json::object(),
                      const Json& data = Json::object()) {
  Json object = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", name}}},
                 {"data", data}};
  if (!labels.empty()) object["metadata"]["labels"] = labels;
  return object;
}

// A test with its own client and its own namespace, deleted afterwards.
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<ClientConfig> config = ClusterConfig();
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    HttpApiClientOptions options = ClientOptions();
    options.metrics = &metrics_;
    StatusOr<std::unique_ptr<HttpApiClient>> client = HttpApiClient::Create(config_, options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    ns_ = "kubabase-it-" + RandomSuffix();
    Json namespace_object = {{"apiVersion", "v1"},
                             {"kind", "Namespace"},
                             {"metadata", {{"name", ns_}, {"labels", {{"kubabase.io/test", "client"}}}}}};
    StatusOr<Json> created = client_->Create(Resource::Namespaces(), "", namespace_object);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }

  void TearDown() override {
    if (client_ != nullptr && !ns_.empty()) {
      Status deleted = client_->Delete(Resource::Namespaces(), "", ns_);
      EXPECT_TRUE(deleted.ok() || deleted.IsNotFound()) << deleted.ToString();
    }
  }

  // Tests may override the client's options.
  virtual HttpApiClientOptions ClientOptions() {
    HttpApiClientOptions options;
    options.qps = 100;
    options.burst = 200;
    return options;
  }

  HttpApiClient& client() { return *client_; }
  const std::string& ns() const { return ns_; }

  ClientConfig config_;
  Metrics metrics_;
  std::unique_ptr<HttpApiClient> client_;
  std::string ns_;
};

}  // namespace kubabase::kube::testing
