// HealthServer: the operator's HTTP endpoint for Prometheus and the kubelet's probes.
//
//   HealthServerOptions options;
//   options.bind_address = flags.metrics_bind_address;          // ":8080", "127.0.0.1:0"
//   options.readiness = [&]() -> Status {
//     if (!controller.HasSynced()) return UnavailableError("caches not synced");
//     if (!elector.LeadershipKnown()) return UnavailableError("leadership not known yet");
//     return Status::Ok();
//   };
//   KUBABASE_ASSIGN_OR_RETURN(auto server, HealthServer::Start(options, metrics.registry()));
//   LogInfo("serving metrics", {{"port", std::to_string(server->port())}});
//
// Endpoints (GET or HEAD; other methods get 405, other paths 404):
//   /metrics  200, Prometheus text format 0.0.4 of every family in the registry
//   /healthz  200 "ok" while the process serves HTTP (liveness: a wedged process stops answering)
//   /readyz   200 "ok" when `readiness` returns Ok (or is unset), else 503 with its message
//
// Served by civetweb (the embedded server prometheus-cpp's pull exposer also uses) with a couple
// of threads; handlers never throw. `readiness` runs on a server thread and must be thread-safe
// and quick (read atomics or take short locks; never call the API).
//
// Thread-safety: Start, port and Stop from the owner; the destructor stops the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <prometheus/registry.h>

#include "controller/base/status.h"

struct mg_context;
struct mg_connection;

namespace kubabase::kube {

struct HealthServerOptions {
  // "host:port" or ":port" (all interfaces); port 0 picks a free port (see port()).
  std::string bind_address = ":8080";
  std::function<Status()> readiness;
  int threads = 2;
};

class HealthServer {
 public:
  // Listens at once. Errors: kInvalidArgument for a malformed address (no port, a non-numeric
  // port), kUnavailable when the address cannot be bound (in use, not local), with civetweb's text.
  // `registry` is kept alive by the server.
  static StatusOr<std::unique_ptr<HealthServer>> Start(
      const HealthServerOptions& options, std::shared_ptr<prometheus::Registry> registry);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // The port actually bound (the chosen one when the address asked for port 0).
  int port() const { return port_; }
  // Stops listening and waits for in-flight requests. Idempotent.
  void Stop();

 private:
  HealthServer(const HealthServerOptions& options, std::shared_ptr<prometheus::Registry> registry);

  static int HandleMetrics(mg_connection* conn, void* self);
  static int HandleHealthz(mg_connection* conn, void* self);
  static int HandleReadyz(mg_connection* conn, void* self);

  const HealthServerOptions options_;
  const std::shared_ptr<prometheus::Registry> registry_;
  mg_context* context_ = nullptr;
  int port_ = 0;
};

// Civetweb's listening_ports value for a bind address: ":8080" -> "8080",
// "127.0.0.1:0" -> "127.0.0.1:0", "[::1]:9090" -> "[::1]:9090". Errors: kInvalidArgument.
StatusOr<std::string> CivetwebListeningPort(const std::string& bind_address);

}  // namespace kubabase::kube
