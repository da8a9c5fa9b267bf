// HttpApiClient's TLS against real TLS servers: `openssl s_server` on 127.0.0.1 with certificates
// that `openssl` makes at test time, so the handshake, the chain verification and the protocol
// negotiation are OpenSSL's own, exactly as with a real apiserver.
//
//   - A configured CA is the ONLY trust anchor (client-go's rootCertPool): a server whose
//     certificate a system root signed is refused once a CA is configured. The "system root" is
//     made one for this process through SSL_CERT_FILE, which OpenSSL's default verify paths (the
//     ones cpprestsdk loads) read; a control test shows that root is trusted without a CA.
//   - TLS 1.2 is the floor even where the system's OpenSSL configuration admits older versions:
//     this binary runs with an OPENSSL_CONF that admits TLS 1.0 at security level 0 (set before
//     OpenSSL initialises, below), and a control shows `openssl s_client` under that same
//     configuration does talk TLS 1.1 to the server the client refuses.
// The transport-config refusals (http://, CA with insecure-skip-tls-verify) need no server.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/kube/http_api_client.h"

namespace kubabase::kube {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

fs::path MakeTempDir(const char* stem) {
  std::string pattern = (fs::temp_directory_path() / fmt::format("{}.XXXXXX", stem)).string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

void WriteFile(const fs::path& path, std::string_view content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The permissive OpenSSL configuration this whole binary runs under. It must be in the
// environment before OpenSSL loads its configuration (at its first use), hence a static
// initializer rather than a fixture: nothing in this binary touches OpenSSL before main().
struct WeakOpenSslConfig {
  WeakOpenSslConfig() : dir(MakeTempDir("kubabase_tls_conf")) {
    WriteFile(dir / "openssl.cnf",
              "openssl_conf = openssl_init\n"
              "[openssl_init]\nssl_conf = ssl_sect\n"
              "[ssl_sect]\nsystem_default = system_default_sect\n"
              "[system_default_sect]\nMinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n");
    setenv("OPENSSL_CONF", (dir / "openssl.cnf").c_str(), 1);
  }
  ~WeakOpenSslConfig() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
};
const WeakOpenSslConfig kWeakOpenSslConfig;

// Runs `script` with /bin/sh in `dir`; true when it exits 0.
bool Sh(const fs::path& dir, const std::string& script) {
  std::string command = fmt::format("cd '{}' && ( {} ) >>openssl.log 2>&1", dir.string(), script);
  return std::system(command.c_str()) == 0;
}

// A CA (ca.crt/ca.key) named `name` in `dir`, or a server certificate for 127.0.0.1 signed by it.
bool MakeCa(const fs::path& dir, const std::string& name) {
  return Sh(dir, fmt::format(
                     "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                     "-keyout {0}.key -out {0}.crt -days 2 -subj /CN={0} "
                     "-addext basicConstraints=critical,CA:TRUE "
                     "-addext keyUsage=critical,keyCertSign,cRLSign",
                     name));
}
bool MakeServerCert(const fs::path& dir, const std::string& ca, const std::string& name) {
  WriteFile(dir / (name + ".ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n");
  return Sh(dir, fmt::format("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                             "-keyout {1}.key -out {1}.csr -subj /CN=localhost && "
                             "openssl x509 -req -in {1}.csr -CA {0}.crt -CAkey {0}.key "
                             "-CAcreateserial -days 2 -out {1}.crt -extfile {1}.ext",
                             ca, name));
}

// `openssl s_server -HTTP` on 127.0.0.1:<ephemeral>: answers GET /<path> with the file <path>
// under its directory (a whole HTTP response). Killed when destroyed.
class TlsServer {
 public:
  TlsServer(const fs::path& dir, const std::string& cert, std::vector<std::string> extra) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      if (chdir(dir.c_str()) != 0) _exit(127);
      std::vector<std::string> args = {"openssl", "s_server", "-accept", "127.0.0.1:0",
                                        "-cert",   cert + ".crt", "-key", cert + ".key",
                                        "-HTTP"};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execvp("openssl", argv.data());
      _exit(127);
    }
    close(out[1]);
    // The first line is "ACCEPT 127.0.0.1:<port>" once it listens.
    FILE* from = fdopen(out[0], "r");
    char line[256];
    while (from != nullptr && fgets(line, sizeof line, from) != nullptr) {
      std::string text(line);
      output_ += text;
      if (text.rfind("ACCEPT ", 0) == 0) {
        port_ = std::stoi(text.substr(text.rfind(':') + 1));
        break;
      }
    }
    from_ = from;  // left open: the little it prints later fits in the pipe's buffer
  }
  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (from_ != nullptr) fclose(from_);
  }
  int port() const { return port_; }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  FILE* from_ = nullptr;
  int port_ = 0;
  std::string output_;
};

class HttpApiClientTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("kubabase_tls_test");
    ASSERT_TRUE(MakeCa(dir_, "cluster-ca")) << ReadFile(dir_ / "openssl.log");
    ASSERT_TRUE(MakeCa(dir_, "system-ca")) << ReadFile(dir_ / "openssl.log");
    ASSERT_TRUE(MakeServerCert(dir_, "cluster-ca", "by-cluster-ca")) << ReadFile(dir_ / "openssl.log");
    ASSERT_TRUE(MakeServerCert(dir_, "system-ca", "by-system-ca")) << ReadFile(dir_ / "openssl.log");
    // What the server answers to GET /api/v1/namespaces/default: s_server -HTTP sends the file
    // as it is, so it holds the whole HTTP response.
    const std::string body =
        R"({"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}})";
    WriteFile(dir_ / "api/v1/namespaces/default",
              fmt::format("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: {}\r\n\r\n{}",
                          body.size(), body));
    // "system-ca" is a system root of this process from now on.
    const char* previous = std::getenv("SSL_CERT_FILE");
    previous_cert_file_ = previous == nullptr ? "" : previous;
    had_cert_file_ = previous != nullptr;
    setenv("SSL_CERT_FILE", (dir_ / "system-ca.crt").c_str(), 1);
  }
  void TearDown() override {
    if (had_cert_file_) {
      setenv("SSL_CERT_FILE", previous_cert_file_.c_str(), 1);
    } else {
      unsetenv("SSL_CERT_FILE");
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // GET /api/v1/namespaces/default from the server on `port`, trusting `ca_pem` ("" = the
  // system roots).
  StatusOr<Json> GetDefaultNamespace(int port, const std::string& ca_pem) {
    ClientConfig config;
    config.server = fmt::format("https://127.0.0.1:{}", port);
    config.ca_pem = ca_pem;
    HttpApiClientOptions options;
    options.request_timeout = std::chrono::seconds(10);
    KUBABASE_ASSIGN_OR_RETURN(std::unique_ptr<HttpApiClient> client,
                              HttpApiClient::Create(config, options));
    return client->Get(Resource::Namespaces(), "", "default");
  }

  fs::path dir_;
  std::string previous_cert_file_;
  bool had_cert_file_ = false;
};

TEST_F(HttpApiClientTlsTest, WithoutACaTheSystemRootsAreTrusted) {
  // The control for the next test: the server signed by "system-ca" is accepted when no CA is
  // configured, so "system-ca" really is a trusted system root here.
  TlsServer server(dir_, "by-system-ca", {});
  ASSERT_GT(server.port(), 0) << server.output();
  StatusOr<Json> got = GetDefaultNamespace(server.port(), "");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "default");
}

TEST_F(HttpApiClientTlsTest, AConfiguredCaReplacesTheSystemRoots) {
  // client-go: "When caData is not empty, it will be the ONLY information used in the CertPool."
  TlsServer server(dir_, "by-system-ca", {});
  ASSERT_GT(server.port(), 0) << server.output();
  StatusOr<Json> got = GetDefaultNamespace(server.port(), ReadFile(dir_ / "cluster-ca.crt"));
  ASSERT_FALSE(got.ok()) << "a system root was trusted although a CA was configured";
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("SSL"));
}

TEST_F(HttpApiClientTlsTest, AServerSignedByTheConfiguredCaIsAccepted) {
  TlsServer server(dir_, "by-cluster-ca", {});
  ASSERT_GT(server.port(), 0) << server.output();
  StatusOr<Json> got = GetDefaultNamespace(server.port(), ReadFile(dir_ / "cluster-ca.crt"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "default");
}

TEST_F(HttpApiClientTlsTest, EveryCertificateOfTheBundleIsTrustedAndOnlyThose) {
  // A bundle of both CAs trusts both servers (each certificate of the bundle is an anchor).
  std::string bundle = ReadFile(dir_ / "cluster-ca.crt") + ReadFile(dir_ / "system-ca.crt");
  for (const char* cert : {"by-cluster-ca", "by-system-ca"}) {
    SCOPED_TRACE(cert);
    TlsServer server(dir_, cert, {});
    ASSERT_GT(server.port(), 0) << server.output();
    StatusOr<Json> got = GetDefaultNamespace(server.port(), bundle);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
  }
}

TEST_F(HttpApiClientTlsTest, ATls11OnlyServerIsRefusedEvenWhereOpenSslWouldAllowIt) {
  TlsServer server(dir_, "by-cluster-ca", {"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"});
  ASSERT_GT(server.port(), 0) << server.output();
  // The control: under this binary's OPENSSL_CONF, OpenSSL itself does speak TLS 1.1 to it.
  ASSERT_TRUE(Sh(dir_, fmt::format("echo | openssl s_client -connect 127.0.0.1:{} -tls1_1 "
                                   "-CAfile cluster-ca.crt -verify_return_error "
                                   "-cipher DEFAULT@SECLEVEL=0 </dev/null | "
                                   "grep -q 'Protocol *: TLSv1.1'",
                                   server.port())))
      << ReadFile(dir_ / "openssl.log");
  StatusOr<Json> got = GetDefaultNamespace(server.port(), ReadFile(dir_ / "cluster-ca.crt"));
  ASSERT_FALSE(got.ok()) << "the client spoke TLS 1.1";
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
}

TEST_F(HttpApiClientTlsTest, TheContextFloorIsTls12) {
  boost::asio::ssl::context context(boost::asio::ssl::context::sslv23);
  ASSERT_TRUE(internal::ConfigureSslContext({}, context).ok());
  EXPECT_EQ(SSL_CTX_get_min_proto_version(context.native_handle()), TLS1_2_VERSION);
}

TEST(HttpApiClientTransportConfigTest, APlainHttpServerIsRefused) {
  ClientConfig config;
  config.server = "http://127.0.0.1:8080";
  config.description = "kubeconfig /x/config context dev";
  Status status = HttpApiClient::Create(config, {}).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("server: \"http://127.0.0.1:8080\" is not an https:// URL; kubabase talks "
                        "to the apiserver only over TLS"));
  EXPECT_THAT(status.message(), HasSubstr("kubeconfig /x/config context dev"));
}

TEST(HttpApiClientTransportConfigTest, ACaTogetherWithInsecureSkipTlsVerifyIsRefused) {
  fs::path dir = MakeTempDir("kubabase_tls_ca");
  ASSERT_TRUE(MakeCa(dir, "ca")) << ReadFile(dir / "openssl.log");
  ClientConfig config;
  config.server = "https://127.0.0.1:6443";
  config.ca_pem = ReadFile(dir / "ca.crt");
  config.insecure_skip_tls_verify = true;
  Status status = HttpApiClient::Create(config, {}).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("certificate-authority together with insecure-skip-tls-verify: "
                        "specifying a root certificates file with the insecure flag is not "
                        "allowed"));
  EXPECT_THAT(status.message(), Not(HasSubstr("BEGIN CERTIFICATE")));
  // Either one alone is fine.
  config.insecure_skip_tls_verify = false;
  EXPECT_TRUE(HttpApiClient::Create(config, {}).ok());
  config.ca_pem.clear();
  config.insecure_skip_tls_verify = true;
  EXPECT_TRUE(HttpApiClient::Create(config, {}).ok());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace kubabase::kube
