#include "controller/kube/http_api_client.h"

#include <atomic>
#include <future>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <fmt/format.h>
#include <openssl/ssl.h>

#include "controller/kube/api_error.h"
#include "controller/kube/request_options.h"

namespace kubabase::kube {
namespace {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

}  // namespace

namespace internal {

// cpprestsdk hands each new connection's context here after loading the system roots into it
// (set_default_verify_paths). As client-go does (transport.TLSConfigFor: MinVersion TLS 1.2;
// a configured CA becomes the ONLY pool, RootCAs = rootCertPool(CAData)):
//   - the protocol floor is TLS 1.2, whatever the system's OpenSSL configuration allows;
//   - a configured CA replaces the store, so the system roots are no longer trusted; every
//     certificate of the bundle is a trust anchor, intermediates included (PARTIAL_CHAIN, as Go's
//     x509 treats any certificate of RootCAs).
// Then the client certificate and key. Returns the first problem; never throws (boost's
// error_code overloads).
Status ConfigureSslContext(const TlsMaterial& tls, boost::asio::ssl::context& context) {
  SSL_CTX* ctx = context.native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return InternalError("cannot set TLS 1.2 as the minimum protocol version");
  }
  boost::system::error_code ec;
  if (!tls.ca_pem.empty()) {
    X509_STORE* only_the_ca = X509_STORE_new();
    if (only_the_ca == nullptr) return InternalError("out of memory creating a certificate store");
    X509_STORE_set_flags(only_the_ca, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_cert_store(ctx, only_the_ca);  // takes it; frees the store with the system roots
    // Adds every certificate of the PEM bundle to that (now only) X509_STORE.
    context.add_certificate_authority(boost::asio::buffer(tls.ca_pem), ec);
    if (ec) return InvalidArgumentError(fmt::format("certificate-authority: {}", ec.message()));
  }
  if (!tls.cert_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(tls.cert_pem), ec);
    if (ec) return InvalidArgumentError(fmt::format("client-certificate: {}", ec.message()));
    context.use_private_key(boost::asio::buffer(tls.key_pem), boost::asio::ssl::context::pem, ec);
    if (ec) return InvalidArgumentError(fmt::format("client-key: {}", ec.message()));
    if (SSL_CTX_check_private_key(ctx) != 1) {
      return InvalidArgumentError("client-key: does not match client-certificate");
    }
  }
  return Status::Ok();
}

Status CheckTransportConfig(const ClientConfig& config) {
  if (config.server.empty()) return InvalidArgumentError("server: missing");
  if (config.server.rfind("https://", 0) != 0) {
    return InvalidArgumentError(fmt::format(
        "server: \"{}\" is not an https:// URL; kubabase talks to the apiserver only over TLS "
        "(plain http:// would send its token and every Secret it reads unencrypted)",
        config.server));
  }
  if (config.insecure_skip_tls_verify && !config.ca_pem.empty()) {
    return InvalidArgumentError(
        "certificate-authority together with insecure-skip-tls-verify: specifying a root "
        "certificates file with the insecure flag is not allowed (as in client-go); remove one");
  }
  return Status::Ok();
}

}  // namespace internal

namespace {

using internal::ConfigureSslContext;
using internal::TlsMaterial;

StatusOr<std::string> SerializeJson(const Json& value, std::string_view what) {
  try {
    return value.dump();
  } catch (const std::exception& e) {
    return InvalidArgumentError(fmt::format("{}: cannot serialize the body: {}", what, e.what()));
  }
}

std::string Describe(std::string_view verb, const Resource& resource, std::string_view ns,
                     std::string_view name, std::string_view subresource) {
  // "GET configmaps shop/sql", "LIST configmaps in shop", "GET namespaces shop (status)".
  std::string what = fmt::format("{} {}", verb, resource.GroupResource());
  bool in_namespace = !ns.empty() && resource.namespaced;
  if (name.empty()) {
    if (in_namespace) what += fmt::format(" in {}", ns);
  } else {
    what += in_namespace ? fmt::format(" {}/{}", ns, name) : fmt::format(" {}", name);
  }
  if (!subresource.empty()) what += fmt::format(" ({})", subresource);
  return what;
}

struct Request {
  http::method method;
  std::string metric_verb;
  std::string path_and_query;
  std::optional<std::string> body;
  std::string content_type;
  std::string what;  // for messages: "PATCH configmaps shop/sql"
};

// Watch events are lines of JSON; reads the chunked response as it arrives.
class HttpWatchStream final : public WatchStream {
 public:
  HttpWatchStream(std::unique_ptr<http_client> client, pplx::cancellation_token_source cancel,
                  http::http_response response, std::string what)
      : client_(std::move(client)),
        cancel_(std::move(cancel)),
        response_(std::move(response)),
        body_(response_.body().streambuf()),
        what_(std::move(what)) {}

  ~HttpWatchStream() override { Cancel(); }

  StatusOr<WatchEvent> Next() override {
    std::lock_guard lock(next_mu_);
    while (true) {
      if (cancelled_.load()) return CancelledError(what_ + ": cancelled");
      size_t newline = pending_.find('\n');
      if (newline != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
        return ParseEvent(line);
      }
      if (!end_.ok()) {
        if (!pending_.empty() && pending_.find_first_not_of(" \r\t") != std::string::npos &&
            end_.code() == StatusCode::kOutOfRange) {
          std::string line = std::move(pending_);  // a last event without its newline
          pending_.clear();
          return ParseEvent(line);
        }
        return end_;
      }
      ReadMore();
    }
  }

  void Cancel() override {
    bool was = cancelled_.exchange(true);
    // Closing the connection fails the pending read, which closes the body stream and so wakes a
    // Next() blocked in ReadMore().
    if (!was) cancel_.cancel();
  }

 private:
  // Blocks until at least one byte arrived or the body ended; sets end_ at the end.
  void ReadMore() {
    try {
      auto first = body_.bumpc().get();
      if (first == concurrency::streams::streambuf<uint8_t>::traits::eof()) {
        end_ = EndStatus();
        return;
      }
      pending_.push_back(static_cast<char>(first));
      // Take whatever else is already buffered without waiting for more.
      size_t available = body_.in_avail();
      if (available > 0) {
        size_t old_size = pending_.size();
        pending_.resize(old_size + available);
        size_t got =
            body_.getn(reinterpret_cast<uint8_t*>(pending_.data() + old_size), available).get();
        pending_.resize(old_size + got);
      }
    } catch (const http::http_exception& e) {
      end_ = Mapped(e.error_code().value(), e.what());
    } catch (const std::exception& e) {
      end_ = EndStatus();
      if (end_.code() == StatusCode::kOutOfRange) {
        end_ = UnavailableError(fmt::format("{}: reading the stream: {}", what_, e.what()));
      }
    }
  }

  // Why the body ended: the error cpprestsdk completed it with, or the server's normal close.
  Status EndStatus() {
    try {
      response_.content_ready().get();
    } catch (const http::http_exception& e) {
      return Mapped(e.error_code().value(), e.what());
    } catch (const std::exception& e) {
      return UnavailableError(fmt::format("{}: stream failed: {}", what_, e.what()));
    }
    if (cancelled_.load()) return CancelledError(what_ + ": cancelled");
    return OutOfRangeError(what_ + ": the server closed the watch");
  }

  Status Mapped(int error_code, std::string_view detail) {
    if (cancelled_.load()) return CancelledError(what_ + ": cancelled");
    Status status = StatusFromTransportError(error_code, detail, what_);
    if (status.code() == StatusCode::kDeadlineExceeded) {
      return DeadlineExceededError(
          fmt::format("{}: no data within the watch read deadline ({})", what_, detail));
    }
    return status;
  }

  StatusOr<WatchEvent> ParseEvent(const std::string& line) {
    Json event = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
      return InternalError(fmt::format("{}: a watch event that is not an event object ({} bytes)",
                                       what_, line.size()));
    }
    const std::string type = event["type"].get<std::string>();
    Json object = event.contains("object") ? std::move(event["object"]) : Json::object();
    WatchEvent out;
    if (type == "ADDED") out.type = WatchEvent::Type::kAdded;
    else if (type == "MODIFIED") out.type = WatchEvent::Type::kModified;
    else if (type == "DELETED") out.type = WatchEvent::Type::kDeleted;
    else if (type == "BOOKMARK") out.type = WatchEvent::Type::kBookmark;
    else if (type == "ERROR") return StatusFromApiStatus(object, what_);
    else return InternalError(fmt::format("{}: unknown watch event type \"{}\"", what_, type));
    out.object = std::move(object);
    return out;
  }

  const std::unique_ptr<http_client> client_;  // keeps the connection's client alive
  pplx::cancellation_token_source cancel_;
  http::http_response response_;
  concurrency::streams::streambuf<uint8_t> body_;
  const std::string what_;
  std::atomic<bool> cancelled_{false};
  std::mutex next_mu_;     // one reader at a time
  std::string pending_;    // guarded by next_mu_: bytes not yet forming a whole line
  Status end_;             // guarded by next_mu_: ok while the body may still bring data
};

}  // namespace

struct HttpApiClient::Impl {
  ClientConfig config;
  HttpApiClientOptions options;
  const Clock* clock = nullptr;
  std::shared_ptr<const TlsMaterial> tls;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<http_client> client;  // ordinary requests
  // Requests cancelled at their deadline (RequestBefore) and perhaps still unwinding in the HTTP
  // library's threads; the destructor waits (bounded) for them so that none outlives the client.
  std::mutex abandoned_mu;
  std::vector<std::shared_future<void>> abandoned;

  ~Impl() {
    std::lock_guard lock(abandoned_mu);
    for (const std::shared_future<void>& ended : abandoned) {
      ended.wait_for(std::chrono::seconds(5));
    }
  }

  void Abandon(std::shared_future<void> ended) {
    std::lock_guard lock(abandoned_mu);
    std::erase_if(abandoned, [](const std::shared_future<void>& f) {
      return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    });
    abandoned.push_back(std::move(ended));
  }

  // A client whose inactivity timeout is `timeout`.
  std::unique_ptr<http_client> NewClient(std::chrono::seconds timeout) const {
    http_client_config client_config;
    client_config.set_timeout(timeout);
    client_config.set_validate_certificates(!config.insecure_skip_tls_verify);
    std::shared_ptr<const TlsMaterial> material = tls;
    client_config.set_ssl_context_callback([material](boost::asio::ssl::context& context) {
      // Validated in Create(); a failure here would also fail the handshake, reported then.
      ConfigureSslContext(*material, context).IgnoreError();
    });
    return std::make_unique<http_client>(web::uri(config.server), client_config);
  }

  // Headers common to every request. Errors: those of the token source.
  Status Prepare(http::http_request& request, const Request& spec) const {
    request.set_method(spec.method);
    request.set_request_uri(web::uri(spec.path_and_query));
    request.headers().add("Accept", "application/json");
    request.headers().add("User-Agent", options.user_agent);
    // The Host header also selects the SNI name and the name the certificate is checked against.
    if (!config.tls_server_name.empty()) request.headers().add("Host", config.tls_server_name);
    if (config.token != nullptr) {
      StatusOr<std::string> token = config.token->Token();
      if (!token.ok()) return token.status().Annotate(spec.what);
      request.headers().add("Authorization", "Bearer " + *token);
    }
    if (spec.body) request.set_body(*spec.body, spec.content_type);
    return Status::Ok();
  }

  void Record(const Request& spec, const Resource& resource, int code,
              Clock::TimePoint start) const {
    if (options.metrics == nullptr) return;
    double seconds = std::chrono::duration<double>(clock->Now() - start).count();
    options.metrics->ApiRequest(spec.metric_verb, resource.GroupResource(), code, seconds);
  }

  // Sends `request` and waits for its whole response until `deadline`; then cancels it (the
  // connection is closed) and returns kDeadlineExceeded. Throws what request() throws.
  StatusOr<http::http_response> RequestBefore(http::http_request& request,
                                              ScopedRequestDeadline::TimePoint deadline,
                                              const std::string& what) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceededError(what + ": the request's deadline passed before it was sent");
    }
    pplx::cancellation_token_source cancel;
    // The whole body too: content_ready() completes once it is read.
    pplx::task<http::http_response> task =
        client->request(request, cancel.get_token()).then([](http::http_response response) {
          return response.content_ready();
        });
    auto finished = std::make_shared<std::promise<void>>();
    std::future<void> done = finished->get_future();
    task.then([finished](pplx::task<http::http_response> ended) {
      // Observe its failure here: after a deadline nobody else will, and pplx traps (SIGTRAP)
      // when a task's exception is destroyed unobserved.
      try {
        ended.wait();
      } catch (...) {
      }
      finished->set_value();
    });
    if (done.wait_until(deadline) != std::future_status::ready) {
      cancel.cancel();
      Abandon(done.share());
      return DeadlineExceededError(what + ": no complete answer before the request's deadline");
    }
    return task.get();
  }

  // Sends one request and returns the parsed body of a 2xx answer.
  StatusOr<Json> Do(const Resource& resource, const Request& spec) {
    limiter->Wait();
    Clock::TimePoint start = clock->Now();
    int code = 0;
    try {
      http::http_request request;
      KUBABASE_RETURN_IF_ERROR(Prepare(request, spec));
      http::http_response response;
      if (std::optional<ScopedRequestDeadline::TimePoint> deadline = ScopedRequestDeadline::Get()) {
        KUBABASE_ASSIGN_OR_RETURN(response, RequestBefore(request, *deadline, spec.what));
      } else {
        response = client->request(request).get();
      }
      code = response.status_code();
      std::string body = response.extract_utf8string(/*ignore_content_type=*/true).get();
      Record(spec, resource, code, start);
      if (code < 200 || code > 299) {
        std::string retry_after;
        auto it = response.headers().find("Retry-After");
        if (it != response.headers().end()) retry_after = it->second;
        return StatusFromResponse(code, body, retry_after, spec.what);
      }
      if (body.empty()) return Json::object();
      Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        return InternalError(
            fmt::format("{}: HTTP {} with a body that is not JSON ({} bytes)", spec.what, code,
                        body.size()));
      }
      return parsed;
    } catch (const http::http_exception& e) {
      Record(spec, resource, code, start);
      return StatusFromTransportError(e.error_code().value(), e.what(), spec.what);
    } catch (const std::exception& e) {
      Record(spec, resource, code, start);
      return UnavailableError(fmt::format("{}: {}", spec.what, e.what()));
    }
  }

  // The writing verbs' request: serializes `body` and sends it as `content_type`. Errors:
  // kInvalidArgument "<what>: cannot serialize the body: ..." (nothing sent), else those of Do.
  StatusOr<Json> Send(const Resource& resource, http::method method, std::string metric_verb,
                      std::string path_and_query, const Json& body, std::string content_type,
                      std::string what) {
    KUBABASE_ASSIGN_OR_RETURN(std::string serialized, SerializeJson(body, what));
    return Do(resource, Request{std::move(method), std::move(metric_verb),
                                std::move(path_and_query), std::move(serialized),
                                std::move(content_type), std::move(what)});
  }

  StatusOr<std::unique_ptr<WatchStream>> StartWatch(const Resource& resource, const Request& spec,
                                                    std::chrono::seconds read_deadline) {
    limiter->Wait();
    Clock::TimePoint start = clock->Now();
    int code = 0;
    try {
      std::unique_ptr<http_client> watch_client = NewClient(read_deadline);
      http::http_request request;
      KUBABASE_RETURN_IF_ERROR(Prepare(request, spec));
      pplx::cancellation_token_source cancel;
      http::http_response response = watch_client->request(request, cancel.get_token()).get();
      code = response.status_code();
      Record(spec, resource, code, start);
      if (code != 200) {
        std::string body = response.extract_utf8string(true).get();
        std::string retry_after;
        auto it = response.headers().find("Retry-After");
        if (it != response.headers().end()) retry_after = it->second;
        return StatusFromResponse(code, body, retry_after, spec.what);
      }
      return std::unique_ptr<WatchStream>(std::make_unique<HttpWatchStream>(
          std::move(watch_client), std::move(cancel), std::move(response), spec.what));
    } catch (const http::http_exception& e) {
      Record(spec, resource, code, start);
      return StatusFromTransportError(e.error_code().value(), e.what(), spec.what);
    } catch (const std::exception& e) {
      Record(spec, resource, code, start);
      return UnavailableError(fmt::format("{}: {}", spec.what, e.what()));
    }
  }
};

HttpApiClient::HttpApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpApiClient::~HttpApiClient() = default;

RateLimiter& HttpApiClient::rate_limiter() { return *impl_->limiter; }

StatusOr<std::unique_ptr<HttpApiClient>> HttpApiClient::Create(
    const ClientConfig& config, const HttpApiClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &RealClock::Get();
  impl->tls = std::make_shared<TlsMaterial>(
      TlsMaterial{config.ca_pem, config.client_cert_pem, config.client_key_pem});
  impl->limiter = std::make_unique<RateLimiter>(options.qps, options.burst, impl->clock);
  if (Status transport = internal::CheckTransportConfig(config); !transport.ok()) {
    return config.description.empty() ? transport : transport.Annotate(config.description);
  }
  try {
    // Load the TLS material once now, so a bad key is reported here and not at the first request.
    boost::asio::ssl::context probe(boost::asio::ssl::context::sslv23);
    Status tls = ConfigureSslContext(*impl->tls, probe);
    if (!tls.ok()) return config.description.empty() ? tls : tls.Annotate(config.description);
    web::uri server(config.server);
    if (server.host().empty()) {
      return InvalidArgumentError(fmt::format("server: \"{}\" has no host", config.server));
    }
    impl->client = impl->NewClient(options.request_timeout);
  } catch (const std::exception& e) {
    return InvalidArgumentError(
        fmt::format("server: \"{}\" is not usable: {}", config.server, e.what()));
  }
  return std::unique_ptr<HttpApiClient>(new HttpApiClient(std::move(impl)));
}

StatusOr<Json> HttpApiClient::Get(const Resource& resource, std::string_view ns,
                                  std::string_view name, std::string_view subresource) {
  Request spec{http::methods::GET, "GET", resource.ObjectPath(ns, name, subresource),
               std::nullopt, "", Describe("GET", resource, ns, name, subresource)};
  return impl_->Do(resource, spec);
}

StatusOr<Json> HttpApiClient::List(const Resource& resource, std::string_view ns,
                                   const ListOptions& options) {
  Request spec{http::methods::GET, "LIST", resource.CollectionPath(ns) + ListQuery(options),
               std::nullopt, "", Describe("LIST", resource, ns, "", "")};
  return impl_->Do(resource, spec);
}

StatusOr<Json> HttpApiClient::Create(const Resource& resource, std::string_view ns,
                                     const Json& object) {
  std::string name;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("name") && object["metadata"]["name"].is_string()) {
    name = object["metadata"]["name"].get<std::string>();
  }
  return impl_->Send(resource, http::methods::POST, "CREATE", resource.CollectionPath(ns), object,
                     kJsonContentType, Describe("CREATE", resource, ns, name, ""));
}

StatusOr<Json> HttpApiClient::Update(const Resource& resource, std::string_view ns,
                                     std::string_view name, const Json& object,
                                     std::string_view subresource) {
  return impl_->Send(resource, http::methods::PUT, "UPDATE",
                     resource.ObjectPath(ns, name, subresource), object, kJsonContentType,
                     Describe("UPDATE", resource, ns, name, subresource));
}

StatusOr<Json> HttpApiClient::MergePatch(const Resource& resource, std::string_view ns,
                                         std::string_view name, const Json& patch,
                                         std::string_view subresource) {
  return impl_->Send(resource, http::methods::PATCH, "PATCH",
                     resource.ObjectPath(ns, name, subresource), patch, kMergePatchContentType,
                     Describe("PATCH", resource, ns, name, subresource));
}

StatusOr<Json> HttpApiClient::Apply(const Resource& resource, std::string_view ns,
                                    std::string_view name, const Json& object,
                                    const ApplyOptions& options) {
  std::string what = Describe("APPLY", resource, ns, name, options.subresource);
  if (options.field_manager.empty()) {
    return InvalidArgumentError(what + ": ApplyOptions.field_manager is required");
  }
  // JSON is YAML, so the object goes as it is under the apply-patch+yaml content type.
  return impl_->Send(resource, http::methods::PATCH, "APPLY",
                     resource.ObjectPath(ns, name, options.subresource) + ApplyQuery(options),
                     object, kApplyPatchContentType, std::move(what));
}

Status HttpApiClient::Delete(const Resource& resource, std::string_view ns, std::string_view name,
                             const DeleteOptions& options) {
  return impl_->Send(resource, http::methods::DEL, "DELETE", resource.ObjectPath(ns, name),
                     DeleteOptionsBody(options), kJsonContentType,
                     Describe("DELETE", resource, ns, name, ""))
      .status();
}

StatusOr<std::unique_ptr<WatchStream>> HttpApiClient::Watch(const Resource& resource,
                                                            std::string_view ns,
                                                            const WatchOptions& options) {
  std::chrono::seconds read_deadline =
      options.timeout_seconds > 0
          ? std::chrono::seconds(options.timeout_seconds) + impl_->options.watch_timeout_slack
          : impl_->options.watch_idle_timeout;
  Request spec{http::methods::GET, "WATCH", resource.CollectionPath(ns) + WatchQuery(options),
               std::nullopt, "", Describe("WATCH", resource, ns, "", "")};
  return impl_->StartWatch(resource, spec, read_deadline);
}

StatusOr<Json> ListAll(ApiClient& client, const Resource& resource, std::string_view ns,
                       ListOptions options) {
  if (options.limit <= 0) options.limit = 500;
  options.continue_token.clear();
  Json all;
  while (true) {
    KUBABASE_ASSIGN_OR_RETURN(Json page, client.List(resource, ns, options));
    if (!page.is_object()) return InternalError("LIST: the answer is not an object");
    Json items = page.contains("items") && page["items"].is_array() ? std::move(page["items"])
                                                                    : Json::array();
    std::string next;
    if (page.contains("metadata") && page["metadata"].is_object()) {
      const Json& metadata = page["metadata"];
      if (metadata.contains("continue") && metadata["continue"].is_string()) {
        next = metadata["continue"].get<std::string>();
      }
    }
    if (all.is_null()) {
      all = std::move(page);
      all["items"] = std::move(items);
    } else {
      for (Json& item : items) all["items"].push_back(std::move(item));
    }
    if (next.empty()) break;
    options.continue_token = next;
    // Later pages must come from the first page's snapshot; the token already pins it.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
  if (all.contains("metadata") && all["metadata"].is_object()) {
    all["metadata"].erase("continue");
    all["metadata"].erase("remainingItemCount");
  }
  return all;
}

}  // namespace kubabase::kube
