// kubabase: the operator's process. Flags -> Options, then wiring: API client, metrics and health
// server, event recorder, the Project controller and reconciler, leader election, signals.
// No logic lives here (controller/project/options.h documents the flags).
//
// Exit codes: 0 clean shutdown (SIGTERM/SIGINT: stop watches and workers, letting only the
// in-flight reconciles finish while the Lease is still renewed, then release the Lease); 1 startup
// or configuration error; 2 leadership lost (at once: nothing queued or in flight is waited for,
// since another replica may already be reconciling).
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "controller/kube/controller.h"
#include "controller/kube/event_recorder.h"
#include "controller/kube/health_server.h"
#include "controller/kube/http_api_client.h"
#include "controller/kube/kubeconfig.h"
#include "controller/kube/leader_election.h"
#include "controller/kube/logging.h"
#include "controller/kube/metrics.h"
#include "controller/project/options.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"
#include "controller/project/secret_refs.h"

namespace {

using namespace kubabase;  // NOLINT: main's wiring touches every layer

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitLostLeadership = 2;

int Fail(const Status& status, std::string_view what) {
  kube::LogError(what, {{"error", status.ToString()}});
  return kExitConfig;
}

std::string LeaseNamespace(const project::Options& options, const kube::ClientConfig& config) {
  if (!options.leader_election_namespace.empty()) return options.leader_election_namespace;
  const bool in_cluster = config.description.rfind("in-cluster", 0) == 0;
  if (in_cluster && !config.default_namespace.empty()) return config.default_namespace;
  return "kubabase-system";
}

int Run(const project::Options& options, sigset_t signals) {
  kube::Metrics metrics;
  StatusOr<kube::ClientConfig> config = kube::LoadClientConfig(options.kubeconfig, options.context);
  if (!config.ok()) return Fail(config.status(), "no usable cluster configuration");
  kube::HttpApiClientOptions client_options;
  client_options.qps = options.qps;
  client_options.burst = options.burst;
  client_options.metrics = &metrics;
  auto client = kube::HttpApiClient::Create(*config, client_options);
  if (!client.ok()) return Fail(client.status(), "cannot create the API client");
  kube::LogInfo("starting", {{"cluster", config->description},
                             {"workers", std::to_string(options.workers)},
                             {"leader_elect", options.leader_elect ? "true" : "false"}});

  const std::string identity = kube::DefaultLeaderIdentity();
  kube::EventRecorderOptions event_options;
  event_options.reporting_instance = identity;
  event_options.cluster_scoped_namespace = options.events_namespace;
  kube::EventRecorder events(**client, RealClock::Get(), event_options, &metrics);

  kube::Controller* controller_ref = nullptr;  // set below; the reconciler reads its caches
  project::CacheReader cache{
      .get = [&](const kube::Resource& r, std::string_view ns, std::string_view name) {
        return controller_ref->Get(r, ns, name);
      },
      .list_by_label = [&](const kube::Resource& r, std::string_view key,
                           std::string_view value) {
        return controller_ref->ListByLabel(r, key, value);
      },
      .list = [&](const kube::Resource& r) { return controller_ref->List(r); }};
  project::SecretRefIndex secret_refs;  // which Projects name which user Secrets
  project::ReconcilerOptions reconciler_options;
  reconciler_options.defaults = options.defaults;
  reconciler_options.secret_refs = &secret_refs;
  reconciler_options.events = &events;
  reconciler_options.metrics = &metrics;
  project::ProjectReconciler reconciler(**client, cache, reconciler_options);

  kube::ControllerOptions controller_options;
  controller_options.name = "project";
  controller_options.workers = options.workers;
  controller_options.resync_period = options.resync_period;
  controller_options.metrics = &metrics;
  std::vector<kube::WatchSpec> watches = project::WatchSpecs(options.defaults);
  watches.push_back(project::ReloadSecretsWatch(secret_refs));
  kube::Controller controller(**client, controller_options, std::move(watches),
                              [&](const kube::ObjectKey& key) { return reconciler.Reconcile(key); });
  controller_ref = &controller;
  reconciler.set_enqueue([&](const kube::ObjectKey& key) { controller.Enqueue(key); });

  std::unique_ptr<kube::LeaderElector> elector;
  if (options.leader_elect) {
    kube::LeaderElectionOptions election;
    election.lease_namespace = LeaseNamespace(options, *config);
    election.lease_name = options.leader_election_id;
    election.identity = identity;
    election.on_started_leading = [&] {
      kube::LogInfo("leading; starting the controller");
      events.Start();
      controller.Start();
    };
    // SIGTERM: the workers stop (in-flight reconciles finish) while the Lease is still ours and
    // renewed; only then is it released, so a standby never starts beside a write of ours.
    election.before_release = [&] { controller.Stop(); };
    election.on_stopped_leading = [&] { controller.Stop(); };
    // Lost: exit now. Finishing the queue, or even the reconciles in flight, would write while
    // another replica may already lead (controller-runtime exits the same way).
    election.on_lost_leading = [] {
      kube::LogError("leadership lost; exiting at once without finishing any reconcile");
      std::fflush(nullptr);
      std::_Exit(kExitLostLeadership);
    };
    auto created = kube::LeaderElector::Create(**client, RealClock::Get(), election, &metrics);
    if (!created.ok()) return Fail(created.status(), "invalid leader election settings");
    elector = std::move(*created);
  }

  std::unique_ptr<kube::HealthServer> health;
  if (options.metrics_bind_address != "0") {
    kube::HealthServerOptions health_options;
    health_options.bind_address = options.metrics_bind_address;
    kube::LeaderElector* elector_ref = elector.get();
    health_options.readiness = [&controller, elector_ref]() -> Status {
      if (elector_ref != nullptr && !elector_ref->LeadershipKnown()) {
        return UnavailableError("leadership not known yet");
      }
      // A standby is ready: it serves metrics and waits for the Lease.
      if (elector_ref != nullptr && !elector_ref->IsLeader()) return Status::Ok();
      if (!controller.HasSynced()) return UnavailableError("caches not synced");
      return Status::Ok();
    };
    auto started = kube::HealthServer::Start(health_options, metrics.registry());
    if (!started.ok()) return Fail(started.status(), "cannot serve metrics and probes");
    health = std::move(*started);
    kube::LogInfo("serving /metrics /healthz /readyz", {{"port", std::to_string(health->port())}});
  }

  // Signals were blocked in every thread; this one waits for them.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread signal_thread([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (signal == SIGUSR1) return;  // our own wake-up at exit
    kube::LogInfo("signal received; shutting down", {{"signal", std::to_string(signal)}});
    if (elector) elector->Stop();
    std::lock_guard lock(mu);
    stop = true;
    cv.notify_all();
  });

  int exit_code = kExitOk;
  if (elector) {
    Status ran = elector->Run();  // returns after Stop() (lease released) or when leadership is lost
    if (!ran.ok()) {
      kube::LogError("leadership lost; exiting", {{"error", ran.ToString()}});
      exit_code = kExitLostLeadership;
    }
  } else {
    events.Start();
    controller.Start();
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  controller.Stop();  // idempotent: drops the queue, lets in-flight reconciles finish, joins
  events.Stop();
  if (health) health->Stop();
  {
    std::lock_guard lock(mu);
    if (!stop) pthread_kill(signal_thread.native_handle(), SIGUSR1);  // wake the signal thread
  }
  signal_thread.join();
  kube::LogInfo("stopped", {{"exit_code", std::to_string(exit_code)}});
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  StatusOr<project::Options> options = project::ParseOptions(args, project::EnvironmentMap());
  if (!options.ok()) {
    std::cerr << "kubabase: " << options.status().message() << "\n\n" << project::HelpText();
    return kExitConfig;
  }
  if (options->help) {
    std::cout << project::HelpText();
    return kExitOk;
  }
  kube::LoggingOptions logging;
  logging.level = options->log_level;
  logging.format = options->log_format;
  if (Status configured = kube::ConfigureLogging(logging); !configured.ok()) {
    std::cerr << "kubabase: " << configured.message() << "\n";
    return kExitConfig;
  }
  // Block the signals before any thread starts, so every thread inherits the mask and only the
  // signal thread (sigwait) sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Run(*options, signals);
}
