#include "controller/kube/health_server.h"

#include <civetweb.h>

#include <cstring>
#include <exception>
#include <string_view>

#include <prometheus/text_serializer.h>

#include "controller/kube/logging.h"

namespace kubabase::kube {
namespace {

constexpr const char* kTextPlain = "text/plain; charset=utf-8";
constexpr const char* kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

std::string_view ReasonPhrase(int code) {
  switch (code) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// Writes a whole response. HEAD gets the headers only. Returns `code`, which tells civetweb the
// request was handled.
int Respond(mg_connection* conn, int code, const char* content_type, std::string_view body) {
  const mg_request_info* info = mg_get_request_info(conn);
  const bool head = info != nullptr && info->request_method != nullptr &&
                    std::strcmp(info->request_method, "HEAD") == 0;
  const std::string_view reason = ReasonPhrase(code);
  mg_printf(conn,
            "HTTP/1.1 %d %.*s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            code, static_cast<int>(reason.size()), reason.data(), content_type, body.size());
  if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
  return code;
}

// True when the method is GET or HEAD; otherwise answers 405.
bool MethodAllowed(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  if (info != nullptr && info->request_method != nullptr &&
      (std::strcmp(info->request_method, "GET") == 0 ||
       std::strcmp(info->request_method, "HEAD") == 0)) {
    return true;
  }
  Respond(conn, 405, kTextPlain, "method not allowed\n");
  return false;
}

// Civetweb's own diagnostics (bind failures, bad requests) go to our log, not raw stderr.
int LogCivetweb(const mg_connection*, const char* message) {
  LogWarn("http server", {{"detail", message != nullptr ? message : ""}});
  return 1;
}

}  // namespace

StatusOr<std::string> CivetwebListeningPort(const std::string& bind_address) {
  const size_t colon = bind_address.rfind(':');
  if (colon == std::string::npos || colon + 1 == bind_address.size()) {
    return InvalidArgumentError("--metrics-bind-address \"" + bind_address +
                                "\": expected host:port or :port");
  }
  const std::string port = bind_address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return InvalidArgumentError("--metrics-bind-address \"" + bind_address + "\": port \"" + port +
                                "\" is not a number from 0 to 65535");
  }
  const std::string host = bind_address.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") return port;  // every IPv4 interface
  return bind_address;
}

HealthServer::HealthServer(const HealthServerOptions& options,
                           std::shared_ptr<prometheus::Registry> registry)
    : options_(options), registry_(std::move(registry)) {}

StatusOr<std::unique_ptr<HealthServer>> HealthServer::Start(
    const HealthServerOptions& options, std::shared_ptr<prometheus::Registry> registry) {
  KUBABASE_ASSIGN_OR_RETURN(const std::string listening, CivetwebListeningPort(options.bind_address));
  if (registry == nullptr) return InvalidArgumentError("health server: no metrics registry");
  std::unique_ptr<HealthServer> server(new HealthServer(options, std::move(registry)));

  const std::string threads = std::to_string(options.threads < 1 ? 1 : options.threads);
  const char* config[] = {"listening_ports", listening.c_str(),
                          "num_threads", threads.c_str(),
                          "request_timeout_ms", "10000",
                          "enable_keep_alive", "no",
                          nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &LogCivetweb;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = config;
  unsigned error_code = 0;
  char error_text[256] = {};
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  mg_init_library(0);
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return UnavailableError("health server: cannot listen on \"" + options.bind_address +
                            "\": " + (error_text[0] != '\0' ? error_text : "unknown error"));
  }
  mg_set_request_handler(server->context_, "/metrics$", &HealthServer::HandleMetrics, server.get());
  mg_set_request_handler(server->context_, "/healthz$", &HealthServer::HandleHealthz, server.get());
  mg_set_request_handler(server->context_, "/readyz$", &HealthServer::HandleReadyz, server.get());

  mg_server_port ports[4] = {};
  const int n = mg_get_server_ports(server->context_, 4, ports);
  if (n < 1) {
    server->Stop();
    return UnavailableError("health server: listening on \"" + options.bind_address +
                            "\" but no port reported");
  }
  server->port_ = ports[0].port;
  return server;
}

HealthServer::~HealthServer() { Stop(); }

void HealthServer::Stop() {
  if (context_ == nullptr) return;
  mg_stop(context_);
  context_ = nullptr;
}

int HealthServer::HandleMetrics(mg_connection* conn, void* self) {
  if (!MethodAllowed(conn)) return 405;
  try {
    auto* server = static_cast<HealthServer*>(self);
    const std::string body = prometheus::TextSerializer().Serialize(server->registry_->Collect());
    return Respond(conn, 200, kPrometheusText, body);
  } catch (const std::exception& e) {
    LogError("serving /metrics failed", {{"error", e.what()}});
    return Respond(conn, 500, kTextPlain, "internal error\n");
  }
}

int HealthServer::HandleHealthz(mg_connection* conn, void*) {
  if (!MethodAllowed(conn)) return 405;
  return Respond(conn, 200, kTextPlain, "ok\n");
}

int HealthServer::HandleReadyz(mg_connection* conn, void* self) {
  if (!MethodAllowed(conn)) return 405;
  try {
    auto* server = static_cast<HealthServer*>(self);
    const Status ready = server->options_.readiness ? server->options_.readiness() : Status::Ok();
    if (ready.ok()) return Respond(conn, 200, kTextPlain, "ok\n");
    return Respond(conn, 503, kTextPlain, "not ready: " + ready.message() + "\n");
  } catch (const std::exception& e) {
    LogError("serving /readyz failed", {{"error", e.what()}});
    return Respond(conn, 500, kTextPlain, "internal error\n");
  }
}

}  // namespace kubabase::kube
