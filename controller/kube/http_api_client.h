// HttpApiClient: the ApiClient that talks HTTPS to a real kube-apiserver (cpprestsdk over OpenSSL).
//
//   KUBABASE_ASSIGN_OR_RETURN(ClientConfig config, LoadKubeconfig(flags.kubeconfig, ""));
//   HttpApiClientOptions options;
//   options.qps = 20;
//   options.burst = 30;
//   options.metrics = &metrics;
//   KUBABASE_ASSIGN_OR_RETURN(std::unique_ptr<HttpApiClient> client,
//                             HttpApiClient::Create(config, options));
//   StatusOr<Json> cm = client->Get(Resource::ConfigMaps(), "shop", "sql");
//
// TLS, as client-go's transport does it: https:// only (an http:// server is refused by Create);
// TLS 1.2 at least; the config's CA, when given, is the ONLY trust anchor (the system roots are
// dropped from the connection's X509_STORE; without a CA the system roots are used); client
// certificate and key from memory; SNI and host-name verification against the server's host or
// tls-server-name; or no verification at all with insecure-skip-tls-verify, which Create refuses
// together with a CA ("specifying a root certificates file with the insecure flag is not
// allowed"). Every request carries the bearer token of the config's TokenSource, read per
// request so a rotated service-account token is picked up.
//
// Pacing and metrics: every request (watches included) first waits on a token bucket (qps, burst),
// then is recorded as Metrics::ApiRequest(verb, group-resource, HTTP code or 0, seconds), verb one
// of GET LIST CREATE UPDATE PATCH APPLY DELETE WATCH.
//
// Timeouts. cpprestsdk's http_client_config::set_timeout is NOT a whole-request deadline: its asio
// client re-arms one timer on every completed socket operation (connect, handshake, each header
// read, each chunk header and chunk of the body) and closes the connection when the timer fires.
// So it is an inactivity timeout. Consequences, relied on here and proven in
// tests/integration/client_watch_test.cc:
//   - ordinary requests get `request_timeout` of silence at most;
//   - a watch is never cut while events (or bookmarks) flow, however long it lives, so it gets its
//     own client whose timeout is the read deadline: timeoutSeconds + `watch_timeout_slack` when
//     the caller set a server timeout, else `watch_idle_timeout`. A silent dead connection thus
//     ends in kDeadlineExceeded instead of hanging; the normal end is the server closing the
//     stream at timeoutSeconds (kOutOfRange).
// Callers (reflectors) should always set timeoutSeconds (client-go picks 5-10 min at random): the
// apiserver (v1.36 watch cache) sends bookmarks about 2 s before that deadline and roughly every
// minute, but only once its cache has moved past the watch's starting version, so a watch on a
// collection where nothing changes stays silent and, without timeoutSeconds, would end in
// kDeadlineExceeded after watch_idle_timeout (harmless: re-watch from the same version).
//
// Errors follow api_error.h; transport failures: refused/reset/TLS -> kUnavailable, timeouts ->
// kDeadlineExceeded. No exception escapes any method. Thread-safe: one client serves every worker;
// a WatchStream is read by one thread while any thread may Cancel() it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "controller/base/clock.h"
#include "controller/base/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/kubeconfig.h"
#include "controller/kube/metrics.h"
#include "controller/kube/rate_limiter.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace kubabase::kube {

struct HttpApiClientOptions {
  double qps = 20;                                  // <= 0: no client-side limit
  int burst = 40;
  std::chrono::seconds request_timeout{30};         // silence allowed in a non-watch request
  std::chrono::seconds watch_timeout_slack{30};     // added to a watch's timeoutSeconds
  std::chrono::seconds watch_idle_timeout{330};     // read deadline of a watch without timeoutSeconds
  Metrics* metrics = nullptr;                       // may be null; must outlive the client
  const Clock* clock = nullptr;                     // null: the real clock; for pacing and latency
  std::string user_agent = "kubabase";
};

class HttpApiClient final : public ApiClient {
 public:
  // Errors: kInvalidArgument when the server URL is not an https:// URL, when a CA is combined
  // with insecure_skip_tls_verify, or when the CA, certificate or key cannot be loaded by OpenSSL
  // (e.g. the key does not match the certificate). Does not contact the server.
  static StatusOr<std::unique_ptr<HttpApiClient>> Create(const ClientConfig& config,
                                                         const HttpApiClientOptions& options);
  ~HttpApiClient() override;

  StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name,
                     std::string_view subresource = {}) override;
  StatusOr<Json> List(const Resource& resource, std::string_view ns,
                      const ListOptions& options) override;
  StatusOr<Json> Create(const Resource& resource, std::string_view ns,
                        const Json& object) override;
  StatusOr<Json> Update(const Resource& resource, std::string_view ns, std::string_view name,
                        const Json& object, std::string_view subresource = {}) override;
  StatusOr<Json> MergePatch(const Resource& resource, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view subresource = {}) override;
  StatusOr<Json> Apply(const Resource& resource, std::string_view ns, std::string_view name,
                       const Json& object, const ApplyOptions& options) override;
  Status Delete(const Resource& resource, std::string_view ns, std::string_view name,
                const DeleteOptions& options = {}) override;
  // The returned stream reads the chunked body incrementally: Next() returns each event as soon
  // as its line arrived. An ERROR event is returned as the error it carries (410 -> kGone).
  StatusOr<std::unique_ptr<WatchStream>> Watch(const Resource& resource, std::string_view ns,
                                               const WatchOptions& options) override;

  // Not part of ApiClient: the client-side limiter, for tests and metrics.
  RateLimiter& rate_limiter();

 private:
  struct Impl;
  explicit HttpApiClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Lists every page of a collection by following metadata.continue with `options.limit` per page
// (500 when 0). Returns one List object holding all items, with the resourceVersion of the first
// page (the consistent snapshot that a watch should start from). Errors: those of List; kGone when
// the continue token expired midway (re-list from scratch).
StatusOr<Json> ListAll(ApiClient& client, const Resource& resource, std::string_view ns,
                       ListOptions options);

namespace internal {
// The TLS material a connection needs, shared by every client an HttpApiClient creates.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};
// What Create checks before anything else: an https:// server, and no CA together with
// insecure_skip_tls_verify. The error names the field, never a secret.
Status CheckTransportConfig(const ClientConfig& config);
// Sets up one connection's context (see the banner): TLS 1.2 minimum, the CA as the only trust
// anchor when given, the client certificate and key.
Status ConfigureSslContext(const TlsMaterial& tls, boost::asio::ssl::context& context);
}  // namespace internal

}  // namespace kubabase::kube
