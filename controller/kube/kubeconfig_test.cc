#include "controller/kube/kubeconfig.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

namespace kubabase::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// A throwaway self-signed certificate and its key, made for these tests only.
constexpr char kCertPem[] = R"(-----BEGIN CERTIFICATE-----
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
constexpr char kKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/tPaCcqYCZO0orgF
lA9tSFsIJQ2zlM9df46YDfZYk9KhRANCAAQ4LHN606mdn3ZgWua9O4QGw7wx8Uay
H2bmlLu9++Deep/uzBCUadUE0jNV8gMspMG8KjYdvKgD+lRQ7yMyOavH
-----END PRIVATE KEY-----
)";
constexpr char kToken[] = "s3cr3t-t0ken-value";

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kubeconfig_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string Write(const std::string& relative, std::string_view content) {
    fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
    return path.string();
  }

  // A kubeconfig with one cluster, one user (described by `user_body`) and one context.
  static std::string Kubeconfig(std::string_view cluster_body, std::string_view user_body,
                                std::string_view current = "dev") {
    return fmt::format(R"(apiVersion: v1
kind: Config
current-context: {}
clusters:
- name: dev-cluster
  cluster:
{}
users:
- name: dev-user
  user:
{}
contexts:
- name: dev
  context: {{cluster: dev-cluster, user: dev-user, namespace: shop}}
- name: other
  context: {{cluster: dev-cluster, user: dev-user}}
)",
                       current, cluster_body, user_body);
  }

  StatusOr<ClientConfig> LoadExplicit(const std::string& path, std::string context = "") {
    KubeconfigSources sources;
    sources.explicit_path = path;
    sources.context = context;
    sources.clock = &clock_;
    return LoadKubeconfigFrom(sources);
  }

  fs::path dir_;
  FakeClock clock_;
};

TEST_F(KubeconfigTest, LoadsTheCurrentContextWithInlineCertificatesAndToken) {
  std::string path = Write(
      "config",
      Kubeconfig(fmt::format("    server: https://127.0.0.1:6443/\n"
                             "    certificate-authority-data: {}",
                             Base64(kCertPem)),
                 fmt::format("    token: {}\n    client-certificate-data: {}\n"
                             "    client-key-data: {}",
                             kToken, Base64(kCertPem), Base64(kKeyPem))));
  StatusOr<ClientConfig> config = LoadExplicit(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");  // trailing slash dropped
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->client_cert_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->default_namespace, "shop");
  ASSERT_NE(config->token, nullptr);
  EXPECT_EQ(*config->token->Token(), kToken);
  EXPECT_THAT(config->description, AllOf(HasSubstr(path), HasSubstr("dev"), Not(HasSubstr(kToken))));
}

TEST_F(KubeconfigTest, ResolvesRelativeFilePathsAgainstTheKubeconfigDirectory) {
  Write("sub/pki/ca.crt", kCertPem);
  Write("sub/pki/admin.crt", kCertPem);
  Write("sub/pki/admin.key", kKeyPem);
  std::string path = Write("sub/config", Kubeconfig("    server: https://k8s:6443\n"
                                                    "    certificate-authority: pki/ca.crt",
                                                    "    client-certificate: pki/admin.crt\n"
                                                    "    client-key: pki/admin.key"));
  StatusOr<ClientConfig> config = LoadExplicit(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->client_key_pem, kKeyPem);
  EXPECT_EQ(config->token, nullptr);
}

TEST_F(KubeconfigTest, ACaFileWithInsecureSkipTlsVerifyIsRefusedAsClientGoDoes) {
  Write("ca.crt", kCertPem);
  std::string path = Write("config", Kubeconfig("    server: https://k8s:6443\n"
                                                "    certificate-authority: ca.crt\n"
                                                "    insecure-skip-tls-verify: true",
                                                "    token: t"));
  Status status = LoadExplicit(path).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_THAT(status.message(),
              HasSubstr("specifying a root certificates file with the insecure flag is not "
                        "allowed; remove one"));
  EXPECT_THAT(status.message(), HasSubstr(path));
  // insecure-skip-tls-verify alone stays allowed (client-go allows it too).
  path = Write("config", Kubeconfig("    server: https://k8s:6443\n"
                                    "    insecure-skip-tls-verify: true",
                                    "    token: t"));
  EXPECT_TRUE(LoadExplicit(path).ok());
}

TEST_F(KubeconfigTest, AGivenContextOverridesTheCurrentContext) {
  std::string path = Write("config", Kubeconfig("    server: https://k8s:6443", "    token: t"));
  StatusOr<ClientConfig> config = LoadExplicit(path, "other");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->default_namespace, "");  // "other" names no namespace
}

TEST_F(KubeconfigTest, TokenFileWinsOverTokenAndIsReadRelativeToTheKubeconfig) {
  Write("token", "from-file\n");
  std::string path = Write("config", Kubeconfig("    server: https://k8s:6443\n"
                                                "    insecure-skip-tls-verify: true",
                                                "    token: inline\n    tokenFile: token"));
  StatusOr<ClientConfig> config = LoadExplicit(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(*config->token->Token(), "from-file");
}

TEST_F(KubeconfigTest, KubeconfigEnvMergesFilesSkippingMissingOnesFirstDefinitionWins) {
  std::string first = Write("a", R"(current-context: b-ctx
clusters:
- name: shared
  cluster: {server: "https://first:6443"}
)");
  std::string second = Write("b", R"(current-context: ignored
clusters:
- name: shared
  cluster: {server: "https://second:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: b-ctx
  context: {cluster: shared, user: u}
)");
  KubeconfigSources sources;
  sources.kubeconfig_env = (dir_ / "missing").string() + ":" + first + ":" + second;
  sources.home = dir_.string();
  StatusOr<ClientConfig> config = LoadKubeconfigFrom(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://first:6443");
  EXPECT_EQ(*config->token->Token(), "t");
}

TEST_F(KubeconfigTest, FallsBackToHomeKubeConfig) {
  Write(".kube/config", Kubeconfig("    server: https://home:6443", "    token: t"));
  KubeconfigSources sources;
  sources.home = dir_.string();
  StatusOr<ClientConfig> config = LoadKubeconfigFrom(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://home:6443");
}

TEST_F(KubeconfigTest, NoKubeconfigAnywhereIsNotFound) {
  KubeconfigSources sources;
  sources.kubeconfig_env = (dir_ / "nope").string();
  EXPECT_EQ(LoadKubeconfigFrom(sources).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadKubeconfigFrom(KubeconfigSources{}).status().code(), StatusCode::kNotFound);
}

// Each bad file gives the expected code and a message naming the file and the field.
struct BadCase {
  const char* name;
  std::string cluster_body;
  std::string user_body;
  StatusCode code;
  std::string message_part;
};

TEST_F(KubeconfigTest, EveryMalformedPieceNamesFileAndFieldAndNeverASecret) {
  const std::string key_b64 = Base64(kKeyPem);
  const std::string good_cluster = "    server: https://k8s:6443";
  const std::string token_line = fmt::format("    token: {}\n", kToken);
  const BadCase cases[] = {
      {"missing server", "    insecure-skip-tls-verify: true", token_line,
       StatusCode::kInvalidArgument, "clusters[\"dev-cluster\"].cluster.server: missing"},
      {"server without scheme", "    server: k8s:6443", token_line, StatusCode::kInvalidArgument,
       ".server: \"k8s:6443\" must start with https://"},
      {"plain http server", "    server: http://k8s:8080", token_line,
       StatusCode::kInvalidArgument,
       ".server: \"http://k8s:8080\" is plain HTTP; kubabase talks to the apiserver only over "
       "https://"},
      {"CA data with insecure-skip-tls-verify",
       good_cluster + "\n    insecure-skip-tls-verify: true\n    certificate-authority-data: " +
           Base64(kCertPem),
       token_line, StatusCode::kInvalidArgument,
       "clusters[\"dev-cluster\"].cluster: certificate-authority(-data) together with "
       "insecure-skip-tls-verify: true: specifying a root certificates file with the insecure "
       "flag is not allowed"},
      {"bad bool", good_cluster + "\n    insecure-skip-tls-verify: maybe", token_line,
       StatusCode::kInvalidArgument, "insecure-skip-tls-verify: must be true or false"},
      {"bad CA base64", good_cluster + "\n    certificate-authority-data: '%%%'", token_line,
       StatusCode::kInvalidArgument, "certificate-authority-data: not valid base64"},
      {"CA not PEM", good_cluster + "\n    certificate-authority-data: " + Base64("hello"),
       token_line, StatusCode::kInvalidArgument, "certificate-authority: not PEM"},
      {"missing CA file", good_cluster + "\n    certificate-authority: nope/ca.crt", token_line,
       StatusCode::kNotFound, "certificate-authority: file"},
      {"key data not base64", good_cluster,
       token_line + "    client-certificate-data: " + Base64(kCertPem) +
           "\n    client-key-data: '" + kToken + "!'",
       StatusCode::kInvalidArgument, "users[\"dev-user\"].user.client-key-data: not valid base64"},
      {"certificate without key", good_cluster,
       token_line + "    client-certificate-data: " + Base64(kCertPem),
       StatusCode::kInvalidArgument, "client-certificate given without client-key"},
      {"key without certificate", good_cluster, token_line + "    client-key-data: " + key_b64,
       StatusCode::kInvalidArgument, "client-key given without client-certificate"},
      {"key is not a key", good_cluster,
       token_line + "    client-certificate-data: " + Base64(kCertPem) +
           "\n    client-key-data: " + Base64(std::string(kCertPem)),
       StatusCode::kInvalidArgument, "client-key: holds no readable"},
      {"missing token file", good_cluster, "    tokenFile: /nonexistent/token",
       StatusCode::kNotFound, "tokenFile: token file /nonexistent/token does not exist"},
      {"exec plugin", good_cluster, token_line + "    exec: {command: aws}",
       StatusCode::kUnimplemented, "users[\"dev-user\"].user.exec: not supported"},
      {"user is a list", good_cluster, "    - a", StatusCode::kInvalidArgument,
       "users[\"dev-user\"].user: must be a map"},
  };
  for (const BadCase& bad : cases) {
    SCOPED_TRACE(bad.name);
    std::string path = Write("config", Kubeconfig(bad.cluster_body, bad.user_body));
    Status status = LoadExplicit(path).status();
    EXPECT_EQ(status.code(), bad.code) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr(bad.message_part));
    EXPECT_THAT(status.message(), HasSubstr(path));
    EXPECT_THAT(status.message(), Not(HasSubstr(kToken)));
    EXPECT_THAT(status.message(), Not(HasSubstr("-----BEGIN CERT")));
    EXPECT_THAT(status.message(), Not(HasSubstr("MIG")));  // no PEM body
    EXPECT_THAT(status.message(), Not(HasSubstr(key_b64.substr(0, 20))));
  }
}

TEST_F(KubeconfigTest, UnknownContextClusterOrUserIsNotFoundByName) {
  std::string path = Write("config", R"(current-context: a
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: known, user: ghost}
clusters:
- name: known
  cluster: {server: "https://k:1"}
)");
  Status no_context = LoadExplicit(path, "zzz").status();
  EXPECT_EQ(no_context.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_context.message(), HasSubstr("no context named \"zzz\""));
  Status no_cluster = LoadExplicit(path).status();
  EXPECT_EQ(no_cluster.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_cluster.message(), HasSubstr("no cluster named \"c\""));
  Status no_user = LoadExplicit(path, "b").status();
  EXPECT_EQ(no_user.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_user.message(), HasSubstr("no user named \"ghost\""));
}

TEST_F(KubeconfigTest, MalformedYamlNamesTheFileAndLineWithoutQuotingIt) {
  std::string path = Write("config", std::string("clusters:\n- name: x\n  cluster: {server: [\n") +
                                         "token: " + kToken + "\n");
  Status status = LoadExplicit(path).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), AllOf(HasSubstr(path), HasSubstr("not valid YAML at line")));
  EXPECT_THAT(status.message(), Not(HasSubstr(kToken)));
}

TEST_F(KubeconfigTest, AMissingExplicitFileIsNotFoundNamingIt) {
  Status status = LoadExplicit((dir_ / "absent").string()).status();
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr((dir_ / "absent").string()));
}

TEST_F(KubeconfigTest, NoCurrentContextAndNoneGivenIsNotFound) {
  std::string path = Write("config", "clusters: []\n");
  EXPECT_EQ(LoadExplicit(path).status().code(), StatusCode::kNotFound);
}

// ---- in-cluster ----

TEST_F(KubeconfigTest, InClusterReadsTokenCaAndNamespace) {
  Write("sa/token", std::string(kToken) + "\n");
  Write("sa/ca.crt", kCertPem);
  Write("sa/namespace", "kubabase-system");
  InClusterSources sources{"10.96.0.1", "443", (dir_ / "sa").string(), &clock_};
  StatusOr<ClientConfig> config = InClusterConfigFrom(sources);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, kCertPem);
  EXPECT_EQ(config->default_namespace, "kubabase-system");
  EXPECT_EQ(*config->token->Token(), kToken);
}

TEST_F(KubeconfigTest, InClusterBracketsAnIpv6ServiceHost) {
  Write("sa/token", "t");
  Write("sa/ca.crt", kCertPem);
  StatusOr<ClientConfig> config =
      InClusterConfigFrom({"fd00::1", "443", (dir_ / "sa").string(), &clock_});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->default_namespace, "");
}

TEST_F(KubeconfigTest, InClusterFailuresNameTheMissingPiece) {
  std::string sa = (dir_ / "sa").string();
  EXPECT_EQ(InClusterConfigFrom({"", "", sa, &clock_}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(InClusterConfigFrom({"h", "https", sa, &clock_}).status().code(),
            StatusCode::kInvalidArgument);

  Status no_token = InClusterConfigFrom({"h", "443", sa, &clock_}).status();
  EXPECT_EQ(no_token.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_token.message(), HasSubstr(sa + "/token"));

  Write("sa/token", "  \n");
  Status empty_token = InClusterConfigFrom({"h", "443", sa, &clock_}).status();
  EXPECT_EQ(empty_token.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty_token.message(), HasSubstr("is empty"));

  Write("sa/token", kToken);
  Status no_ca = InClusterConfigFrom({"h", "443", sa, &clock_}).status();
  EXPECT_EQ(no_ca.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_ca.message(), HasSubstr(sa + "/ca.crt"));

  Write("sa/ca.crt", "garbage");
  Status bad_ca = InClusterConfigFrom({"h", "443", sa, &clock_}).status();
  EXPECT_EQ(bad_ca.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_ca.message(), AllOf(HasSubstr(sa + "/ca.crt"), Not(HasSubstr(kToken))));
}

// ---- FileTokenSource ----

TEST_F(KubeconfigTest, FileTokenSourceRereadsWhenTheFileChanges) {
  std::string path = Write("token", "first");
  auto source = FileTokenSource::Open(path, &clock_);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(*(*source)->Token(), "first");
  Write("token", "second-longer");  // a different size is noticed without waiting
  EXPECT_EQ(*(*source)->Token(), "second-longer");
}

TEST_F(KubeconfigTest, FileTokenSourceRereadsAfterMaxAgeEvenWithTheSameMtimeAndSize) {
  std::string path = Write("token", "aaaa");
  fs::file_time_type mtime = fs::last_write_time(path);
  auto source = FileTokenSource::Open(path, &clock_);
  ASSERT_TRUE(source.ok());
  Write("token", "bbbb");
  fs::last_write_time(path, mtime);
  EXPECT_EQ(*(*source)->Token(), "aaaa");  // looks unchanged: served from memory
  clock_.Advance(FileTokenSource::kDefaultMaxAge);
  EXPECT_EQ(*(*source)->Token(), "bbbb");
}

TEST_F(KubeconfigTest, FileTokenSourceKeepsTheLastTokenWhileTheFileIsMissing) {
  std::string path = Write("token", "kept");
  auto source = FileTokenSource::Open(path, &clock_);
  ASSERT_TRUE(source.ok());
  fs::remove(path);
  clock_.Advance(FileTokenSource::kDefaultMaxAge);
  EXPECT_EQ(*(*source)->Token(), "kept");
}

TEST(Base64DecodeTest, DecodesPaddedUnpaddedAndWrappedText) {
  EXPECT_EQ(internal::Base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(internal::Base64Decode("aGVsbG8"), "hello");
  EXPECT_EQ(internal::Base64Decode("aGVs\nbG8=\n"), "hello");
  EXPECT_EQ(internal::Base64Decode(""), "");
  EXPECT_EQ(internal::Base64Decode("a"), std::nullopt);
  EXPECT_EQ(internal::Base64Decode("a$=="), std::nullopt);
  EXPECT_EQ(internal::Base64Decode("aGVs=bG8"), std::nullopt);
}

}  // namespace
}  // namespace kubabase::kube
