// Where the operator finds its apiserver and credentials: a kubeconfig file or the in-cluster
// service account, turned into one ClientConfig.
//
//   StatusOr<ClientConfig> config = flags.kubeconfig.empty() && InCluster()
//                                        ? InClusterConfig()
//                                        : LoadKubeconfig(flags.kubeconfig, flags.context);
//   if (!config.ok()) return config.status();  // names the file, the field and the problem
//   auto client = HttpApiClient::Create(*config, {});
//
// LoadKubeconfig follows kubectl's order: the explicit path (--kubeconfig), else every file in
// $KUBECONFIG (':'-separated; missing ones skipped; merged so that the first file to define a
// name or current-context wins), else ~/.kube/config. It uses the given context or the
// current-context. Relative file paths (certificate-authority, client-certificate, client-key,
// tokenFile) are resolved against the directory of the file that defined them.
//
// Supported: server, certificate-authority(-data), insecure-skip-tls-verify, tls-server-name,
// token, tokenFile (re-read as it rotates; wins over token, as in client-go),
// client-certificate(-data), client-key(-data), the context's namespace. exec and auth-provider
// plugins and username/password are rejected with kUnimplemented naming the field.
//
// Errors: kNotFound when no file, context, cluster or user can be found; kInvalidArgument for
// malformed YAML, a missing server, a server that is not https:// (plain http:// is refused, as is
// a certificate-authority together with insecure-skip-tls-verify, as client-go refuses it), bad
// base64 or PEM, a certificate without its key. Each message
// names the file and the field; none ever contains a token, key or certificate content.
//
// Thread-safety: the functions are thread-safe; a ClientConfig is a value, its TokenSource is
// thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "controller/base/clock.h"
#include "controller/base/status.h"

namespace kubabase::kube {

// Supplies the bearer token for each request. Implementations are thread-safe.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // The current token. Errors: kUnavailable (naming the file) when it can no longer be read.
  virtual StatusOr<std::string> Token() = 0;
};

// A token fixed at load time (kubeconfig `token`).
class StaticTokenSource final : public TokenSource {
 public:
  explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
  StatusOr<std::string> Token() override { return token_; }

 private:
  const std::string token_;
};

// A token read from a file (kubeconfig `tokenFile`, the service-account token that the kubelet
// rotates). The file is read again when its modification time or size changed, and at least once
// per `max_age` (so a rotation hidden behind a same-second mtime is still seen). If a re-read
// fails, the last good token is kept and served; the first read must succeed.
class FileTokenSource final : public TokenSource {
 public:
  static constexpr std::chrono::minutes kDefaultMaxAge{1};

  // Reads the file once. Errors: kNotFound or kInvalidArgument (empty file), naming `path`.
  // `clock` must outlive the source.
  static StatusOr<std::shared_ptr<FileTokenSource>> Open(std::string path, const Clock* clock,
                                                         Clock::Duration max_age = kDefaultMaxAge);

  StatusOr<std::string> Token() override;
  const std::string& path() const { return path_; }

 private:
  FileTokenSource(std::string path, const Clock* clock, Clock::Duration max_age)
      : path_(std::move(path)), clock_(clock), max_age_(max_age) {}
  Status ReadLocked();

  const std::string path_;
  const Clock* const clock_;
  const Clock::Duration max_age_;
  std::mutex mu_;
  std::string token_;                   // guarded by mu_
  Clock::TimePoint read_at_{};          // guarded by mu_
  int64_t mtime_ns_ = -1;               // guarded by mu_
  int64_t size_ = -1;                   // guarded by mu_
};

// Everything needed to talk to one apiserver.
struct ClientConfig {
  std::string server;                 // "https://10.0.0.1:6443", no trailing slash
  std::string ca_pem;                 // the ONLY trusted CAs (PEM); empty: the system's roots
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;        // overrides the host name checked and sent as SNI
  std::string client_cert_pem;        // client certificate chain (PEM); empty: none
  std::string client_key_pem;         // its private key (PEM); a secret, never logged
  std::shared_ptr<TokenSource> token; // null: no bearer token
  std::string default_namespace;      // the context's namespace or the pod's; "" if unknown
  std::string description;            // for logs: "kubeconfig /x/config context kind-a" (no secrets)
};

// Loads a kubeconfig as kubectl would; see the banner. `path` and `context` may be empty.
StatusOr<ClientConfig> LoadKubeconfig(std::string_view path, std::string_view context);

// The operator's rule (notes/flags.md): a kubeconfig when --kubeconfig or $KUBECONFIG is set or
// ~/.kube/config exists; otherwise the in-cluster service account when KUBERNETES_SERVICE_HOST is
// set; otherwise LoadKubeconfig's kNotFound.
StatusOr<ClientConfig> LoadClientConfig(std::string_view kubeconfig_flag, std::string_view context);

// What LoadKubeconfig reads from the process, made explicit for tests.
struct KubeconfigSources {
  std::string explicit_path;   // --kubeconfig
  std::string kubeconfig_env;  // $KUBECONFIG
  std::string home;            // $HOME
  std::string context;         // --context
  const Clock* clock = nullptr;  // for tokenFile; null: the real clock
};
StatusOr<ClientConfig> LoadKubeconfigFrom(const KubeconfigSources& sources);

// The service account of the pod this process runs in. Errors: kNotFound when not in a cluster
// (KUBERNETES_SERVICE_HOST/_PORT unset, or the token file missing), kInvalidArgument when a file
// is empty or the CA is not PEM.
StatusOr<ClientConfig> InClusterConfig();

// What InClusterConfig reads, made explicit for tests.
struct InClusterSources {
  std::string service_host;  // $KUBERNETES_SERVICE_HOST
  std::string service_port;  // $KUBERNETES_SERVICE_PORT
  std::string secrets_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  const Clock* clock = nullptr;  // null: the real clock
};
StatusOr<ClientConfig> InClusterConfigFrom(const InClusterSources& sources);

namespace internal {
// Decodes standard base64, ignoring whitespace. std::nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view text);
// Ok when `pem` holds at least one X.509 certificate (`what` names it in the error).
Status CheckCertificatesPem(std::string_view pem, std::string_view what);
// Ok when `pem` holds a private key. The error never quotes the key.
Status CheckPrivateKeyPem(std::string_view pem, std::string_view what);
}  // namespace internal

}  // namespace kubabase::kube
