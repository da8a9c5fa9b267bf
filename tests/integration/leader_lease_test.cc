// Leader election against the real kube-apiserver of the local control plane, between two real
// processes (this test binary re-executed as electors, see main) sharing one coordination.k8s.io/v1 Lease.
//
// Proves what the unit tests with a fake cannot: that the apiserver accepts our Lease objects and
// MicroTime timestamps, that its resourceVersion checks make exactly one candidate win, that a
// released Lease is taken over within a retry period, an abandoned one after its duration, and
// that a leader whose Lease is taken from it stops and exits non-zero.
//
// Needs KUBABASE_CLUSTER_DIR (kubeconfig at $KUBABASE_CLUSTER_DIR/kubeconfig); see
// tests/cluster/README.md. Durations are shortened (lease 4 s, renew 3 s, retry 0.5 s) so the
// suite runs in well under a minute.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "controller/base/clock.h"
#include "controller/kube/http_api_client.h"
#include "controller/kube/leader_election.h"
#include "tests/integration/client_support.h"

extern char** environ;

namespace kubabase::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr char kNamespace[] = "default";
constexpr auto kLeaseDuration = seconds(4);
constexpr auto kRenewDeadline = seconds(3);
constexpr auto kRetryPeriod = milliseconds(500);

using testing::RandomSuffix;

void AppendLine(const std::string& path, const std::string& line) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  const std::string text = line + "\n";
  if (write(fd, text.data(), text.size()) < 0) {
    // Nothing to do: the parent notices the missing line.
  }
  close(fd);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

// The elector process: what this binary does when re-executed with KUBABASE_LEADER_IDENTITY,
// _LEASE and _LOG set (see main below; it is not a test). Writes "started", "stopped" and
// "exit <code>" lines to KUBABASE_LEADER_LOG; SIGTERM stops it (releasing the Lease); exit code 0
// after a stop, 3 when leadership was lost.
[[noreturn]] void RunElectorProcess(const char* identity, const char* lease, const char* log) {
  const std::string log_path = log;

  // Block SIGTERM before any thread exists so only sigwait below receives it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto client = testing::ClusterClient({.request_timeout = seconds(5)});
  if (!client.ok()) {
    AppendLine(log_path, "error " + client.status().ToString());
    std::_Exit(2);
  }
  LeaderElectionOptions options;
  options.lease_namespace = kNamespace;
  options.lease_name = lease;
  options.identity = identity;
  options.lease_duration = kLeaseDuration;
  options.renew_deadline = kRenewDeadline;
  options.retry_period = kRetryPeriod;
  options.on_started_leading = [&] { AppendLine(log_path, "started"); };
  options.on_stopped_leading = [&] { AppendLine(log_path, "stopped"); };
  auto elector = LeaderElector::Create(**client, RealClock::Get(), options);
  if (!elector.ok()) {
    AppendLine(log_path, "error " + elector.status().ToString());
    std::_Exit(2);
  }
  LeaderElector* raw = elector->get();
  std::thread([&signals, raw] {
    int signal = 0;
    sigwait(&signals, &signal);
    raw->Stop();
  }).detach();

  const Status ran = (*elector)->Run();
  AppendLine(log_path, "exit " + std::string(ran.ok() ? "0" : "3") + " " + ran.ToString());
  // As main does: a lost lease ends the process with a non-zero code. _Exit skips static
  // destructors while the signal thread still waits.
  std::_Exit(ran.ok() ? 0 : 3);
}

namespace {

class Elector {
 public:
  Elector(std::string identity, const std::string& lease, const std::string& dir)
      : identity_(std::move(identity)), log_(dir + "/" + identity_ + ".log") {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back("KUBABASE_LEADER_IDENTITY=" + identity_);
    env.push_back("KUBABASE_LEADER_LEASE=" + lease);
    env.push_back("KUBABASE_LEADER_LOG=" + log_);
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string self = "/proc/self/exe";
    char* argv[] = {self.data(), nullptr};
    // The child's gtest chatter goes to its own file; its state lines go to log_.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = log_ + ".out";
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    if (posix_spawn(&pid_, self.c_str(), &actions, nullptr, argv, envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Elector() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  const std::string& identity() const { return identity_; }
  bool spawned() const { return pid_ > 0; }
  std::string Log() const { return ReadFile(log_); }
  bool Leading() const {
    const std::string log = Log();
    return log.find("started") != std::string::npos && log.find("stopped") == std::string::npos;
  }
  void Signal(int signal) { kill(pid_, signal); }

  // The exit code once the process ended within `timeout`; -1 otherwise (or killed by a signal).
  int WaitExit(std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        break;
      }
      if (SteadyClock::now() >= deadline) return -1;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return *exit_code_;
  }

 private:
  std::string identity_;
  std::string log_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

class LeaderElectionIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto client = testing::ClusterClient({.request_timeout = seconds(5)});
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    lease_ = "kubabase-it-" + RandomSuffix();
    char dir_template[] = "/tmp/kubabase-leader-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override {
    if (client_ != nullptr) client_->Delete(Resource::Leases(), kNamespace, lease_).IgnoreError();
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  std::string Holder() {
    StatusOr<Json> lease = client_->Get(Resource::Leases(), kNamespace, lease_);
    if (!lease.ok()) return "<" + lease.status().ToString() + ">";
    return lease->value("/spec/holderIdentity"_json_pointer, std::string());
  }

  // Polls `done` every 50 ms until it holds or `timeout` passed; returns the time it took.
  static std::optional<milliseconds> WaitUntil(const std::function<bool()>& done,
                                               milliseconds timeout) {
    const auto start = SteadyClock::now();
    while (SteadyClock::now() - start < timeout) {
      if (done()) return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
      std::this_thread::sleep_for(milliseconds(50));
    }
    return std::nullopt;
  }

  std::unique_ptr<HttpApiClient> client_;
  std::string lease_;
  std::string dir_;
};

TEST_F(LeaderElectionIntegrationTest, ExactlyOneOfTwoProcessesLeadsAndAReleasedLeaseIsTakenOverAtOnce) {
  Elector a("a-" + RandomSuffix(), lease_, dir_);
  Elector b("b-" + RandomSuffix(), lease_, dir_);
  ASSERT_TRUE(a.spawned() && b.spawned());

  ASSERT_TRUE(WaitUntil([&] { return a.Leading() || b.Leading(); }, seconds(20)))
      << "nobody led: a=" << a.Log() << " b=" << b.Log();
  // Several renewals later, still exactly one leader, and it is the Lease's holder.
  std::this_thread::sleep_for(kLeaseDuration + seconds(1));
  ASSERT_NE(a.Leading(), b.Leading()) << "a=" << a.Log() << " b=" << b.Log();
  Elector& leader = a.Leading() ? a : b;
  Elector& standby = a.Leading() ? b : a;
  EXPECT_EQ(Holder(), leader.identity());
  EXPECT_EQ(standby.Log(), "");

  leader.Signal(SIGTERM);
  const auto took_over = WaitUntil([&] { return Holder() == standby.identity(); }, seconds(10));
  ASSERT_TRUE(took_over.has_value()) << "holder=" << Holder() << " standby=" << standby.Log();
  // Released, not expired: the standby needs at most one (jittered) retry period, well under the
  // lease duration.
  EXPECT_LT(*took_over, kLeaseDuration) << "took " << took_over->count() << " ms";
  EXPECT_EQ(leader.WaitExit(seconds(10)), 0) << leader.Log();
  EXPECT_NE(leader.Log().find("started\nstopped\nexit 0"), std::string::npos) << leader.Log();
  EXPECT_TRUE(WaitUntil([&] { return standby.Leading(); }, seconds(5)));
  std::printf("[ measure ] released lease taken over in %lld ms\n",
              static_cast<long long>(took_over->count()));

  standby.Signal(SIGTERM);
  EXPECT_EQ(standby.WaitExit(seconds(10)), 0) << standby.Log();
  EXPECT_EQ(Holder(), "") << "the last leader released the Lease";
}

TEST_F(LeaderElectionIntegrationTest, AnAbandonedLeaseIsTakenOverOnlyAfterItsDuration) {
  Elector a("a-" + RandomSuffix(), lease_, dir_);
  ASSERT_TRUE(WaitUntil([&] { return a.Leading(); }, seconds(20))) << a.Log();
  Elector b("b-" + RandomSuffix(), lease_, dir_);
  std::this_thread::sleep_for(seconds(2));  // b has observed a's renewals
  ASSERT_FALSE(b.Leading());

  a.Signal(SIGKILL);  // no release: the Lease must expire on b's clock
  ASSERT_EQ(a.WaitExit(seconds(5)), -1);
  const auto took_over = WaitUntil([&] { return Holder() == b.identity(); }, seconds(15));
  ASSERT_TRUE(took_over.has_value()) << "holder=" << Holder() << " b=" << b.Log();
  // b saw a's last renewal at most one retry period before the kill, and retries every
  // 0.5-1.1 s: the takeover comes near the lease duration, never well before it.
  EXPECT_GE(*took_over, kLeaseDuration - seconds(2)) << took_over->count() << " ms";
  EXPECT_LE(*took_over, kLeaseDuration + seconds(3)) << took_over->count() << " ms";
  std::printf("[ measure ] abandoned lease taken over in %lld ms (lease %lld s)\n",
              static_cast<long long>(took_over->count()),
              static_cast<long long>(std::chrono::duration_cast<seconds>(kLeaseDuration).count()));
  EXPECT_TRUE(WaitUntil([&] { return b.Leading(); }, seconds(5)));
  b.Signal(SIGTERM);
  EXPECT_EQ(b.WaitExit(seconds(10)), 0) << b.Log();
}

TEST_F(LeaderElectionIntegrationTest, ALeaderWhoseLeaseIsTakenStopsAndExitsNonZero) {
  Elector a("a-" + RandomSuffix(), lease_, dir_);
  ASSERT_TRUE(WaitUntil([&] { return a.Leading(); }, seconds(20))) << a.Log();

  // Someone else writes the Lease as its fresh holder (as a partitioned leader would find on
  // return). Keep re-asserting it so a's renewals can only fail.
  const auto start = SteadyClock::now();
  std::optional<int> exit_code;
  while (SteadyClock::now() - start < seconds(15)) {
    StatusOr<Json> lease = client_->Get(Resource::Leases(), kNamespace, lease_);
    if (lease.ok()) {
      Json spec = (*lease)["spec"];
      spec["holderIdentity"] = "intruder";
      spec["leaseDurationSeconds"] = 60;
      (*lease)["spec"] = spec;
      client_->Update(Resource::Leases(), kNamespace, lease_, *lease).status().IgnoreError();
    }
    const int code = a.WaitExit(milliseconds(200));
    if (code != -1) {
      exit_code = code;
      break;
    }
  }
  ASSERT_TRUE(exit_code.has_value()) << a.Log();
  EXPECT_EQ(*exit_code, 3) << a.Log();
  EXPECT_NE(a.Log().find("started\nstopped\nexit 3 Aborted"), std::string::npos) << a.Log();
  EXPECT_EQ(Holder(), "intruder") << "a lost leader must not release someone else's Lease";
  const auto lost_after = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
  EXPECT_LE(lost_after, kRenewDeadline + seconds(2)) << lost_after.count() << " ms";
}

}  // namespace
}  // namespace kubabase::kube

// Re-executed as an elector (the parent's Elector sets the three variables) it never reaches
// GoogleTest; otherwise it is an ordinary test binary. This main replaces gtest_main's, which the
// linker then leaves out of the static archive.
int main(int argc, char** argv) {
  const char* identity = std::getenv("KUBABASE_LEADER_IDENTITY");
  const char* lease = std::getenv("KUBABASE_LEADER_LEASE");
  const char* log = std::getenv("KUBABASE_LEADER_LOG");
  if (identity != nullptr && lease != nullptr && log != nullptr) {
    kubabase::kube::RunElectorProcess(identity, lease, log);
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
