// e2e_projects_bench: N Projects created at once against the local control plane, with the
// operator binary as a process. Prints a table: time from create to Ready=True (p50, p95, max),
// API requests per project by verb (from the operator's own kubabase_api_requests_total), and
// the operator's resident memory before, after, and at its peak. Not a test: it asserts nothing
// beyond every project becoming Ready, and exits 1 if one does not.
//
//   scripts/cluster-up.sh
//   KUBABASE_CLUSTER_DIR=/tmp/kubabase-cluster build/tests/bench/e2e_projects_bench 20
//
// Each project has 4 long-running pods and a bootstrap Job pod; one kwok node holds 110 pods, so
// above ~20 projects start the cluster with KUBABASE_CLUSTER_NODES=2 or more.
// The Projects are deleted afterwards (deletionPolicy Retain, then their namespaces).
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "controller/kube/resource.h"
#include "tests/e2e/harness.h"

namespace {

using namespace kubabase;               // NOLINT
using namespace kubabase::e2e::harness;  // NOLINT
using Clock = std::chrono::steady_clock;

const kube::Resource& Projects() {
  static const kube::Resource projects{.group = "kubabase.io",
                                       .version = "v1alpha1",
                                       .resource = "projects",
                                       .kind = "Project",
                                       .namespaced = false};
  return projects;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

bool IsReady(const Json& project) {
  Json ready = Condition(project, "Ready");
  return ready.is_object() && ready.value("status", "") == "True" &&
         IntAt(project, "/status/observedGeneration") == IntAt(project, "/metadata/generation");
}

int Run(int count) {
  auto client = ConnectToCluster(nullptr);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n", client.status().ToString().c_str());
    return 1;
  }
  if (Status crd = EnsureProjectCrd(**client, std::chrono::seconds(60)); !crd.ok()) {
    std::fprintf(stderr, "%s\n", crd.ToString().c_str());
    return 1;
  }
  // As installed: the operator's own ServiceAccount and RBAC.
  StatusOr<std::string> kubeconfig = OperatorKubeconfig(**client);
  if (!kubeconfig.ok()) {
    std::fprintf(stderr, "%s\n", kubeconfig.status().ToString().c_str());
    return 1;
  }
  OperatorProcess::Options options;
  options.binary = OperatorBinary();
  options.kubeconfig = *kubeconfig;
  auto op = OperatorProcess::Start(options);
  if (!op.ok()) {
    std::fprintf(stderr, "%s\n", op.status().ToString().c_str());
    return 1;
  }
  if (Status ready = (*op)->WaitReady(std::chrono::seconds(60)); !ready.ok()) {
    std::fprintf(stderr, "%s\n", ready.ToString().c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int64_t rss_idle = (*op)->RssKiB();
  StatusOr<std::string> baseline_text = (*op)->Scrape("/metrics");
  const auto baseline = RequestsByVerb(ParseMetrics(baseline_text.ok() ? *baseline_text : ""));

  std::mt19937_64 rng(std::random_device{}());
  const std::string run = "bench" + std::to_string(rng() % 100000);
  std::map<std::string, Clock::time_point> created;
  std::map<std::string, double> seconds_to_ready;
  std::vector<std::string> names;
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    std::string name = run + "-" + std::to_string(i);
    Json object = {{"apiVersion", "kubabase.io/v1alpha1"},
                   {"kind", "Project"},
                   {"metadata", {{"name", name}, {"labels", {{"kubabase.io/bench", run}}}}},
                   {"spec", Json::object()}};
    StatusOr<Json> made = (*client)->Create(Projects(), "", object);
    if (!made.ok()) {
      std::fprintf(stderr, "create %s: %s\n", name.c_str(), made.status().ToString().c_str());
      continue;
    }
    created[name] = Clock::now();
    names.push_back(name);
  }

  int64_t rss_peak_seen = 0;
  const auto deadline = start + std::chrono::seconds(120 + 15 * count);
  while (seconds_to_ready.size() < created.size() && Clock::now() < deadline) {
    StatusOr<Json> list =
        (*client)->List(Projects(), "", Selecting("kubabase.io/bench=" + run));
    const auto now = Clock::now();
    if (list.ok()) {
      for (const Json& project : (*list)["items"]) {
        std::string name = StringAt(project, "/metadata/name");
        if (seconds_to_ready.count(name) || !created.count(name) || !IsReady(project)) continue;
        seconds_to_ready[name] = std::chrono::duration<double>(now - created[name]).count();
      }
    }
    rss_peak_seen = std::max(rss_peak_seen, (*op)->RssKiB());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double all_ready = std::chrono::duration<double>(Clock::now() - start).count();
  // Let the last status writes land before counting.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  StatusOr<std::string> after_text = (*op)->Scrape("/metrics");
  const auto after = RequestsByVerb(ParseMetrics(after_text.ok() ? *after_text : ""));
  const int64_t rss_after = (*op)->RssKiB();
  const int64_t rss_hwm = (*op)->PeakRssKiB();

  std::vector<double> times;
  for (const auto& [name, seconds] : seconds_to_ready) times.push_back(seconds);
  const double n = std::max<double>(1, static_cast<double>(created.size()));
  std::printf("\ne2e_projects_bench: %zu projects created at once, one operator (4 workers)\n\n",
              created.size());
  std::printf("| metric | value |\n|---|---:|\n");
  std::printf("| projects Ready | %zu / %zu |\n", seconds_to_ready.size(), created.size());
  std::printf("| all Ready after (s) | %.1f |\n", all_ready);
  std::printf("| time to Ready p50 (s) | %.1f |\n", Percentile(times, 0.50));
  std::printf("| time to Ready p95 (s) | %.1f |\n", Percentile(times, 0.95));
  std::printf("| time to Ready max (s) | %.1f |\n", Percentile(times, 1.0));
  double total = 0, writes = 0;
  for (const auto& [verb, value] : after) {
    double delta = value - (baseline.count(verb) ? baseline.at(verb) : 0);
    if (verb == "WATCH") continue;  // long-lived; not per project
    total += delta;
    if (IsWriteVerb(verb)) writes += delta;
    std::printf("| %s requests per project | %.1f |\n", verb.c_str(), delta / n);
  }
  std::printf("| all requests per project (without WATCH) | %.1f |\n", total / n);
  std::printf("| write requests per project | %.1f |\n", writes / n);
  std::printf("| operator RSS idle (MiB) | %.1f |\n", rss_idle / 1024.0);
  std::printf("| operator RSS after (MiB) | %.1f |\n", rss_after / 1024.0);
  std::printf("| operator RSS peak, sampled / VmHWM (MiB) | %.1f / %.1f |\n",
              rss_peak_seen / 1024.0, rss_hwm / 1024.0);

  // Clean up: Retain is the quick path (no namespace wait), then the namespaces.
  for (const std::string& name : names) {
    (void)(*client)->Delete(Projects(), "", name);
  }
  Status gone = WaitUntil(
      [&](std::string* why) {
        StatusOr<Json> list =
            (*client)->List(Projects(), "", Selecting("kubabase.io/bench=" + run));
        if (!list.ok()) return false;
        *why = std::to_string((*list)["items"].size()) + " left";
        return (*list)["items"].empty();
      },
      std::chrono::seconds(120), "the benchmark's Projects to go");
  if (!gone.ok()) std::fprintf(stderr, "cleanup: %s\n", gone.ToString().c_str());
  for (const std::string& name : names) {
    (void)(*client)->Delete(kube::Resource::Namespaces(), "", "project-" + name);
  }
  StatusOr<int> stopped = (*op)->Stop(SIGTERM, std::chrono::seconds(30));
  if (!stopped.ok() || *stopped != 0) {
    std::fprintf(stderr, "operator stop: %s\n",
                 stopped.ok() ? std::to_string(*stopped).c_str()
                              : stopped.status().ToString().c_str());
  }
  std::printf("\noperator log: %s\n", (*op)->log_path().c_str());
  return seconds_to_ready.size() == created.size() && !created.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 20;
  if (count < 1) {
    std::fprintf(stderr, "usage: e2e_projects_bench [N>=1]  (default 20)\n");
    return 2;
  }
  return Run(count);
}
