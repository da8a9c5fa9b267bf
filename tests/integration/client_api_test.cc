// HttpApiClient against the real kube-apiserver: every verb, and how its errors map.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/client_support.h"

namespace kubabase::kube::testing {
namespace {

using ::testing::HasSubstr;

class ClientApiTest : public ClusterTest {};

TEST_F(ClientApiTest, CreatesGetsAndListsWithALabelSelectorPageByPage) {
  for (int i = 0; i < 5; ++i) {
    StatusOr<Json> created = client().Create(
        Resource::ConfigMaps(), ns(),
        ConfigMap("paged-" + std::to_string(i), {{"app", "paged"}}, {{"i", std::to_string(i)}}));
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("other", {{"app", "x"}})).ok());

  StatusOr<Json> got = client().Get(Resource::ConfigMaps(), ns(), "paged-3");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["data"]["i"], "3");

  ListOptions options;
  options.label_selector = "app=paged";
  options.limit = 2;
  StatusOr<Json> first = client().List(Resource::ConfigMaps(), ns(), options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)["items"].size(), 2u);
  EXPECT_FALSE(StringAt(*first, Json::json_pointer("/metadata/continue")).empty());

  StatusOr<Json> all = ListAll(client(), Resource::ConfigMaps(), ns(), options);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::set<std::string> names;
  for (const Json& item : (*all)["items"]) names.insert(item["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"paged-0", "paged-1", "paged-2", "paged-3", "paged-4"}));
  EXPECT_FALSE(ResourceVersionOf(*all).empty());
  EXPECT_FALSE((*all)["metadata"].contains("continue"));
}

TEST_F(ClientApiTest, MapsNotFoundAlreadyExistsConflictAndInvalidFromTheServer) {
  Status missing = client().Get(Resource::ConfigMaps(), ns(), "absent").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.http_status(), 404);
  EXPECT_EQ(missing.reason(), "NotFound");
  EXPECT_THAT(missing.message(), HasSubstr("\"absent\" not found"));

  StatusOr<Json> created = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("dup"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Status again = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("dup")).status();
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.http_status(), 409);
  EXPECT_EQ(again.reason(), "AlreadyExists");

  // A PUT carrying a resourceVersion the object no longer has: optimistic concurrency -> 409.
  Json stale = *created;
  ASSERT_TRUE(client().MergePatch(Resource::ConfigMaps(), ns(), "dup", {{"data", {{"a", "1"}}}}).ok());
  stale["data"] = {{"b", "2"}};
  Status conflict = client().Update(Resource::ConfigMaps(), ns(), "dup", stale).status();
  EXPECT_EQ(conflict.code(), StatusCode::kAborted);
  EXPECT_EQ(conflict.http_status(), 409);
  EXPECT_EQ(conflict.reason(), "Conflict");

  Status invalid =
      client().Create(Resource::ConfigMaps(), ns(), ConfigMap("Not_A_DNS_Name")).status();
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.http_status(), 422);
  EXPECT_EQ(invalid.reason(), "Invalid");
}

TEST_F(ClientApiTest, UpdateWithTheCurrentResourceVersionSucceeds) {
  StatusOr<Json> created = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("upd"));
  ASSERT_TRUE(created.ok());
  Json changed = *created;
  changed["data"] = {{"k", "v"}};
  StatusOr<Json> updated = client().Update(Resource::ConfigMaps(), ns(), "upd", changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["data"]["k"], "v");
  EXPECT_NE(ResourceVersionOf(*updated), ResourceVersionOf(*created));
}

TEST_F(ClientApiTest, MergePatchAddsAndRemovesKeys) {
  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("mp", {}, {{"keep", "1"}, {"drop", "2"}})).ok());
  StatusOr<Json> patched = client().MergePatch(
      Resource::ConfigMaps(), ns(), "mp", {{"data", {{"drop", nullptr}, {"add", "3"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["data"], (Json{{"keep", "1"}, {"add", "3"}}));
}

TEST_F(ClientApiTest, ServerSideApplyTwiceIsANoOpTheSecondTime) {
  ApplyOptions apply;
  apply.field_manager = "kubabase-it";
  apply.force = true;
  Json desired = ConfigMap("ssa", {{"app", "ssa"}}, {{"k", "v"}});
  StatusOr<Json> first = client().Apply(Resource::ConfigMaps(), ns(), "ssa", desired, apply);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  StatusOr<Json> second = client().Apply(Resource::ConfigMaps(), ns(), "ssa", desired, apply);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ResourceVersionOf(*first), ResourceVersionOf(*second));
  EXPECT_EQ((*second)["data"]["k"], "v");
}

TEST_F(ClientApiTest, ApplyConflictsWithAnotherManagerUnlessForced) {
  ApplyOptions theirs;
  theirs.field_manager = "someone-else";
  ASSERT_TRUE(client()
                  .Apply(Resource::ConfigMaps(), ns(), "owned", ConfigMap("owned", {}, {{"k", "theirs"}}),
                         theirs)
                  .ok());
  ApplyOptions ours;
  ours.field_manager = "kubabase-it";
  Json desired = ConfigMap("owned", {}, {{"k", "ours"}});
  Status conflict = client().Apply(Resource::ConfigMaps(), ns(), "owned", desired, ours).status();
  EXPECT_EQ(conflict.code(), StatusCode::kAborted);
  EXPECT_EQ(conflict.http_status(), 409);
  EXPECT_THAT(conflict.message(), HasSubstr("someone-else"));

  ours.force = true;
  StatusOr<Json> forced = client().Apply(Resource::ConfigMaps(), ns(), "owned", desired, ours);
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ((*forced)["data"]["k"], "ours");
}

TEST_F(ClientApiTest, ApplyWithoutAFieldManagerIsRefusedBeforeSending) {
  Status status =
      client().Apply(Resource::ConfigMaps(), ns(), "x", ConfigMap("x"), ApplyOptions{}).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientApiTest, DeleteHonoursPreconditionsAndPropagationPolicy) {
  StatusOr<Json> created = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("del"));
  ASSERT_TRUE(created.ok());
  DeleteOptions wrong;
  wrong.precondition_uid = "00000000-0000-0000-0000-000000000000";
  Status refused = client().Delete(Resource::ConfigMaps(), ns(), "del", wrong);
  EXPECT_EQ(refused.code(), StatusCode::kAborted);
  EXPECT_EQ(refused.http_status(), 409);
  EXPECT_THAT(refused.message(), HasSubstr("the UID in the precondition"));

  DeleteOptions right;
  right.precondition_uid = UidOf(*created);
  right.precondition_resource_version = ResourceVersionOf(*created);
  right.propagation_policy = "Foreground";
  Status deleted = client().Delete(Resource::ConfigMaps(), ns(), "del", right);
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  // Foreground deletion of an object without dependents finishes at once.
  Status gone = Status::Ok();
  for (int i = 0; i < 50; ++i) {
    gone = client().Get(Resource::ConfigMaps(), ns(), "del").status();
    if (gone.IsNotFound()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(gone.code(), StatusCode::kNotFound);
  EXPECT_EQ(client().Delete(Resource::ConfigMaps(), ns(), "del").code(), StatusCode::kNotFound);
}

// A tiny namespaced CRD with a status subresource, created for one test and removed after it.
class ClientStatusTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    if (HasFatalFailure()) return;
    group_ = "it" + RandomSuffix() + ".kubabase.test";
    widgets_ = Resource{group_, "v1", "widgets", "Widget", true};
    Json crd = Json::parse(R"({
      "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
      "spec": {"scope": "Namespaced",
               "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
               "versions": [{"name": "v1", "served": true, "storage": true,
                             "subresources": {"status": {}},
                             "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                               "status": {"type": "object", "properties": {
                                 "phase": {"type": "string"}}}}}}}]}})");
    crd["metadata"]["name"] = "widgets." + group_;
    crd["spec"]["group"] = group_;
    StatusOr<Json> created = client().Create(Resource::CustomResourceDefinitions(), "", crd);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    crd_created_ = true;
    // Wait until the apiserver serves the new type (Established, then the REST path answers).
    Status served = UnavailableError("not yet");
    for (int i = 0; i < 100 && !served.ok(); ++i) {
      served = client().List(widgets_, ns(), ListOptions{}).status();
      if (!served.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(served.ok()) << served.ToString();
  }

  void TearDown() override {
    if (crd_created_) {
      Status deleted = client().Delete(Resource::CustomResourceDefinitions(), "", "widgets." + group_);
      EXPECT_TRUE(deleted.ok()) << deleted.ToString();
    }
    ClusterTest::TearDown();
  }

  std::string group_;
  Resource widgets_;
  bool crd_created_ = false;
};

TEST_F(ClientStatusTest, TheStatusSubresourceIsWrittenApartFromTheSpec) {
  Json widget = {{"apiVersion", group_ + "/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w"}}},
                 {"spec", {{"size", 1}}},
                 {"status", {{"phase", "ignored-on-create"}}}};
  StatusOr<Json> created = client().Create(widgets_, ns(), widget);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->contains("status"));  // the main resource drops status

  StatusOr<Json> patched =
      client().MergePatch(widgets_, ns(), "w", {{"status", {{"phase", "Ready"}}}, {"spec", {{"size", 9}}}}, "status");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["status"]["phase"], "Ready");
  EXPECT_EQ((*patched)["spec"]["size"], 1);  // the status subresource ignores spec

  ApplyOptions apply;
  apply.field_manager = "kubabase-it";
  apply.force = true;
  apply.subresource = "status";
  Json status_only = {{"apiVersion", group_ + "/v1"},
                      {"kind", "Widget"},
                      {"metadata", {{"name", "w"}}},
                      {"status", {{"phase", "Applied"}}}};
  StatusOr<Json> applied = client().Apply(widgets_, ns(), "w", status_only, apply);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ((*applied)["status"]["phase"], "Applied");

  StatusOr<Json> read = client().Get(widgets_, ns(), "w", "status");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ((*read)["status"]["phase"], "Applied");

  Json replaced = *read;
  replaced["status"]["phase"] = "Updated";
  StatusOr<Json> updated = client().Update(widgets_, ns(), "w", replaced, "status");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ((*updated)["status"]["phase"], "Updated");
}

TEST_F(ClientApiTest, EveryRequestIsCounted) {
  ASSERT_TRUE(client().Get(Resource::ConfigMaps(), ns(), "none").status().IsNotFound());
  bool found = false;
  for (const auto& family : metrics_.registry()->Collect()) {
    if (family.name != "kubabase_api_requests_total") continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& label : metric.label) labels[label.name] = label.value;
      if (labels["verb"] == "GET" && labels["resource"] == "configmaps" && labels["code"] == "404") {
        found = metric.counter.value >= 1;
      }
    }
  }
  EXPECT_TRUE(found);
}

TEST(ClientTransportTest, ARefusedConnectionIsUnavailable) {
  ClientConfig config;
  config.server = "https://127.0.0.1:1";  // nothing listens on port 1
  HttpApiClientOptions options;
  options.request_timeout = std::chrono::seconds(5);
  StatusOr<std::unique_ptr<HttpApiClient>> client = HttpApiClient::Create(config, options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Status status = (*client)->Get(Resource::ConfigMaps(), "default", "x").status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
}

TEST(ClientTransportTest, AServerCertificateFromAnUntrustedCaIsUnavailable) {
  StatusOr<ClientConfig> config = ClusterConfig();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->ca_pem.clear();  // only the system roots, which never signed the test cluster
  config->insecure_skip_tls_verify = false;
  StatusOr<std::unique_ptr<HttpApiClient>> client = HttpApiClient::Create(*config, {});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  Status status = (*client)->Get(Resource::Namespaces(), "", "default").status();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("SSL"));
}

// A self-signed CA that signed nothing of the test cluster (made for the tests only).
constexpr char kUnrelatedCaPem[] = R"(-----BEGIN CERTIFICATE-----
MIIBhzCCAS2gAwIBAgIUVj3vhqMUBztBeftKAJsVFymMMY4wCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNa3ViYWJhc2UtdGVzdDAgFw0yNjExMjgwOTE2NTRaGA8yMTI2
MTEwNDA5MTY1NFowGDEWMBQGA1UEAwwNa3ViYWJhc2UtdGVzdDBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABDgsc3rTqZ2fdmBa5r07hAbDvDHxRrIfZuaUu7374N56
n+7MEJRp1QTSM1XyAyykwbwqNh28qAP6VFDvIzI5q8ejUzBRMB0GA1UdDgQWBBTB
zpogwsiCtB2OliF19r883XsZ4zAfBgNVHSMEGDAWgBTBzpogwsiCtB2OliF19r88
3XsZ4zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIGhbmo6DQjMK
JcS/BYLDoFvXGDtul1Kn0Gd4xWP4ONiYAiEA+GOa5Zot+1XmFtRrWaB0FWqE1oBf
+DiBkbmp+M2okGo=
-----END CERTIFICATE-----
)";

TEST(ClientTransportTest, AConfiguredCaIsTheOnlyTrustAnchorEvenWhenASystemRootSignedTheServer) {
  StatusOr<ClientConfig> config = ClusterConfig();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  // The cluster's CA becomes a system root of this process: OpenSSL's default verify paths, which
  // cpprestsdk loads into every connection, read the file SSL_CERT_FILE names.
  const std::string ca_file = (std::filesystem::temp_directory_path() /
                               ("kubabase-cluster-ca-" + RandomSuffix() + ".crt"))
                                  .string();
  std::ofstream(ca_file) << config->ca_pem;
  setenv("SSL_CERT_FILE", ca_file.c_str(), 1);

  // The control: with no CA configured, the system roots are trusted, so the apiserver is.
  ClientConfig system_roots = *config;
  system_roots.ca_pem.clear();
  StatusOr<std::unique_ptr<HttpApiClient>> trusting = HttpApiClient::Create(system_roots, {});
  ASSERT_TRUE(trusting.ok()) << trusting.status().ToString();
  StatusOr<Json> got = (*trusting)->Get(Resource::Namespaces(), "", "default");
  EXPECT_TRUE(got.ok()) << got.status().ToString();

  // With a CA configured, only that CA counts (client-go): the system root no longer does.
  ClientConfig other_ca = *config;
  other_ca.ca_pem = kUnrelatedCaPem;
  StatusOr<std::unique_ptr<HttpApiClient>> pinned = HttpApiClient::Create(other_ca, {});
  ASSERT_TRUE(pinned.ok()) << pinned.status().ToString();
  Status refused = (*pinned)->Get(Resource::Namespaces(), "", "default").status();
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr("SSL"));

  unsetenv("SSL_CERT_FILE");
  std::filesystem::remove(ca_file);
}

TEST(ClientTransportTest, InsecureSkipTlsVerifyConnectsWithoutTheCa) {
  StatusOr<ClientConfig> config = ClusterConfig();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config->ca_pem.clear();
  config->insecure_skip_tls_verify = true;
  StatusOr<std::unique_ptr<HttpApiClient>> client = HttpApiClient::Create(*config, {});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  StatusOr<Json> got = (*client)->Get(Resource::Namespaces(), "", "default");
  EXPECT_TRUE(got.ok()) << got.status().ToString();
}

}  // namespace
}  // namespace kubabase::kube::testing
