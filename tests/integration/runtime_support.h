// Shared by the runtime_* integration tests: operations on the local control plane that the
// runtime must survive (an apiserver restart, an etcd compaction), and request counting.
//
//   StatusOr<ApiserverProcess> apiserver = FindApiserver();
//   KUBABASE_RETURN_IF_ERROR(RestartApiserver(*apiserver, std::chrono::seconds(3)));
//   StatusOr<int64_t> revision = CompactEtcd(*apiserver);
//   double lists = CountRequests(metrics, "LIST", "configmaps");
//
// The control plane is kwokctl's binary runtime started by scripts/cluster-up.sh in
// $KUBABASE_CLUSTER_DIR: kube-apiserver's pid is in data/kwok/clusters/<name>/pids/, its log in
// .../logs/. The restart re-executes the exact command line, working directory and log file of
// the running process, so the apiserver comes back as kwokctl configured it (same port, same
// certificates, same etcd), and records the new pid where kwokctl and cluster-down.sh look.
// etcd is reached on the --etcd-servers URL from that command line (with its client
// certificate when it is https), through curl and etcd's v3 JSON gateway.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <prometheus/metric_family.h>

#include "controller/base/shell_quote.h"
#include "controller/base/status.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube::testing {

struct ApiserverProcess {
  pid_t pid = 0;
  std::filesystem::path pid_file;
  std::filesystem::path log_file;
  std::filesystem::path cwd;
  std::vector<std::string> argv;

  // The value of --flag=value on the command line, or "".
  std::string Flag(const std::string& flag) const {
    const std::string prefix = "--" + flag + "=";
    for (size_t i = 0; i < argv.size(); ++i) {
      if (argv[i].rfind(prefix, 0) == 0) return argv[i].substr(prefix.size());
      if (argv[i] == "--" + flag && i + 1 < argv.size()) return argv[i + 1];
    }
    return "";
  }
};

// Runs `command` with /bin/sh; returns its stdout, or an error with its exit status.
inline StatusOr<std::string> RunShell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return InternalError("popen failed: " + command);
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  int rc = pclose(pipe);
  if (rc != 0) {
    return InternalError("command failed (status " + std::to_string(rc) + "): " + command +
                         "\n" + out);
  }
  return out;
}

// The running kube-apiserver of the cluster in $KUBABASE_CLUSTER_DIR.
inline StatusOr<ApiserverProcess> FindApiserver() {
  const char* dir = std::getenv("KUBABASE_CLUSTER_DIR");
  if (dir == nullptr || *dir == '\0') {
    return FailedPreconditionError("KUBABASE_CLUSTER_DIR is not set");
  }
  namespace fs = std::filesystem;
  fs::path clusters = fs::path(dir) / "data" / "kwok" / "clusters";
  std::error_code ec;
  for (const auto& cluster : fs::directory_iterator(clusters, ec)) {
    fs::path pid_file = cluster.path() / "pids" / "kube-apiserver.pid";
    if (!fs::exists(pid_file)) continue;
    ApiserverProcess process;
    process.pid_file = pid_file;
    process.log_file = cluster.path() / "logs" / "kube-apiserver.log";
    std::ifstream(pid_file) >> process.pid;
    if (process.pid <= 0) return InternalError("bad pid in " + pid_file.string());
    const fs::path proc = fs::path("/proc") / std::to_string(process.pid);
    std::ifstream cmdline(proc / "cmdline", std::ios::binary);
    std::string arg;
    while (std::getline(cmdline, arg, '\0')) process.argv.push_back(arg);
    if (process.argv.empty()) {
      return FailedPreconditionError("kube-apiserver pid " + std::to_string(process.pid) +
                                     " from " + pid_file.string() + " is not running");
    }
    process.cwd = fs::read_symlink(proc / "cwd", ec);
    if (ec) process.cwd = cluster.path();
    return process;
  }
  return NotFoundError("no kube-apiserver pid file under " + clusters.string());
}

// True when something accepts TCP connections on 127.0.0.1:port.
inline bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// Stops kube-apiserver (SIGTERM, SIGKILL after 30 s), keeps it down for `down_for`, then starts
// the same command again in the background and waits until it listens again. Updates `process`
// with the new pid. Does not wait for readiness.
//
// While the apiserver is down its port is free, and kwokctl gives a cluster being created the
// highest free port: with several clusters on one machine another one took ours (seen twice).
// So the restart holds the lock scripts/cluster-up.sh takes around port selection
// (/tmp/kubabase-cluster-ports.lock) until the apiserver listens again. O_CLOEXEC: the new
// apiserver must not inherit the lock, or it would hold it for its whole life and block every
// cluster start on the machine (it did, once).
inline Status RestartApiserver(ApiserverProcess& process, std::chrono::seconds down_for) {
  const int port = std::atoi(process.Flag("secure-port").c_str());
  const int lock_fd = ::open("/tmp/kubabase-cluster-ports.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0666);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX) != 0) {
    if (lock_fd >= 0) ::close(lock_fd);
    return InternalError("cannot lock /tmp/kubabase-cluster-ports.lock");
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing releases the flock
  } unlock{lock_fd};

  if (::kill(process.pid, SIGTERM) != 0) {
    return InternalError("cannot signal kube-apiserver pid " + std::to_string(process.pid));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::kill(process.pid, 0) == 0) {
    // The apiserver is not our child: once it exits it is reaped and kill(0) fails.
    if (std::chrono::steady_clock::now() > deadline) ::kill(process.pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(down_for);
  std::string command = "cd " + ShellQuote(process.cwd.string()) + " && (setsid";
  for (const std::string& arg : process.argv) command += " " + ShellQuote(arg);
  command += " >>" + ShellQuote(process.log_file.string()) + " 2>&1 </dev/null & echo $!)";
  KUBABASE_ASSIGN_OR_RETURN(std::string pid_text, RunShell(command));
  process.pid = static_cast<pid_t>(std::atol(pid_text.c_str()));
  if (process.pid <= 0) return InternalError("no pid from: " + command);
  std::ofstream(process.pid_file) << process.pid << "\n";
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (port <= 0 || !PortAccepts(port)) {
    if (::kill(process.pid, 0) != 0 || std::chrono::steady_clock::now() > deadline) {
      StatusOr<std::string> tail = RunShell("tail -n 3 " + ShellQuote(process.log_file.string()));
      return UnavailableError("restarted kube-apiserver does not listen on port " +
                              std::to_string(port) + ": " + (tail.ok() ? *tail : ""));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status::Ok();
}

// curl arguments to reach etcd as the apiserver does.
inline StatusOr<std::string> EtcdCurl(const ApiserverProcess& apiserver, const std::string& path,
                                      const std::string& body) {
  std::string servers = apiserver.Flag("etcd-servers");
  if (servers.empty()) return FailedPreconditionError("kube-apiserver has no --etcd-servers");
  std::string server = servers.substr(0, servers.find(','));
  std::string command = "curl -sS --fail --max-time 30 -X POST";
  if (server.rfind("https", 0) == 0) {
    for (const auto& [flag, curl_flag] : std::vector<std::pair<std::string, std::string>>{
             {"etcd-cafile", "--cacert"}, {"etcd-certfile", "--cert"}, {"etcd-keyfile", "--key"}}) {
      std::string file = apiserver.Flag(flag);
      if (!file.empty()) {
        std::filesystem::path p(file);
        if (p.is_relative()) p = apiserver.cwd / p;
        command += " " + curl_flag + " " + ShellQuote(p.string());
      }
    }
  }
  command += " " + ShellQuote(server + path) + " -d " + ShellQuote(body);
  return RunShell(command);
}

// Compacts etcd at its current revision, so every older resourceVersion is gone. Returns the
// revision.
inline StatusOr<int64_t> CompactEtcd(const ApiserverProcess& apiserver) {
  // An empty range read returns the store's current revision in its header.
  KUBABASE_ASSIGN_OR_RETURN(std::string range,
                            EtcdCurl(apiserver, "/v3/kv/range", R"({"key":"AA=="})"));
  int64_t revision = 0;
  try {
    revision = std::stoll(nlohmann::json::parse(range).at("header").at("revision").get<std::string>());
  } catch (const std::exception& e) {
    return InternalError(std::string("unexpected etcd range answer: ") + e.what() + ": " + range);
  }
  KUBABASE_ASSIGN_OR_RETURN(
      std::string compacted,
      EtcdCurl(apiserver, "/v3/kv/compaction",
               R"({"revision":")" + std::to_string(revision) + R"(","physical":true})"));
  (void)compacted;
  return revision;
}

// Sum of kubabase_api_requests_total{verb, resource} over every code.
inline double CountRequests(Metrics& metrics, const std::string& verb,
                            const std::string& resource) {
  double total = 0;
  for (const prometheus::MetricFamily& family : metrics.registry()->Collect()) {
    if (family.name != "kubabase_api_requests_total") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      bool verb_ok = false, resource_ok = false;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "verb" && label.value == verb) verb_ok = true;
        if (label.name == "resource" && label.value == resource) resource_ok = true;
      }
      if (verb_ok && resource_ok) total += metric.counter.value;
    }
  }
  return total;
}

}  // namespace kubabase::kube::testing
