#include "controller/kube/leader_election.h"

#include <functional>
#include <atomic>
#include <map>
#include <optional>
#include <thread>
#include <vector>
#include <string>

#include <gtest/gtest.h>

#include "controller/base/clock.h"
#include "controller/kube/testing/unimplemented_api_client.h"

namespace kubabase::kube {
namespace {

using std::chrono::seconds;

// An in-memory Lease store with the apiserver's optimistic concurrency: Update must carry the
// stored resourceVersion or fails with 409 Conflict; Create of an existing name is AlreadyExists.
// What the real apiserver does is proven in tests/integration/leader_lease_test.cc.
class FakeLeaseClient : public testing::UnimplementedApiClient {
 public:
  StatusOr<Json> Get(const Resource& resource, std::string_view ns, std::string_view name,
                     std::string_view) override {
    ++gets;
    RecordDeadline();
    if (!fail.ok()) return fail;
    auto it = objects.find(Key(ns, name));
    if (it == objects.end()) return NotFoundError("leases \"" + std::string(name) + "\" not found");
    return it->second;
  }
  StatusOr<Json> Create(const Resource& resource, std::string_view ns, const Json& object) override {
    ++creates;
    RecordDeadline();
    if (!fail.ok()) return fail;
    const std::string key = Key(ns, object["metadata"]["name"].get<std::string>());
    if (objects.count(key)) return AlreadyExistsError("leases already exists");
    Json stored = object;
    stored["metadata"]["resourceVersion"] = std::to_string(++version);
    objects[key] = stored;
    return stored;
  }
  StatusOr<Json> Update(const Resource& resource, std::string_view ns, std::string_view name,
                        const Json& object, std::string_view) override {
    ++updates;
    RecordDeadline();
    if (before_update) before_update();
    if (!fail.ok()) return fail;
    auto it = objects.find(Key(ns, name));
    if (it == objects.end()) return NotFoundError("leases not found");
    written_holders.push_back(object["spec"].value("holderIdentity", "?"));
    if (object["metadata"].value("resourceVersion", "") !=
        it->second["metadata"]["resourceVersion"].get<std::string>()) {
      return AbortedError("Operation cannot be fulfilled on leases: the object has been modified");
    }
    Json stored = object;
    stored["metadata"]["resourceVersion"] = std::to_string(++version);
    it->second = stored;
    return stored;
  }

  // Writes the Lease as another process would (a new resourceVersion each time).
  void PutLease(const std::string& holder, int64_t duration_seconds, const std::string& renew_time,
                int64_t transitions = 0) {
    Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", "kubabase"}, {"namespace", "kubabase-system"}}},
                  {"spec",
                   {{"holderIdentity", holder},
                    {"leaseDurationSeconds", duration_seconds},
                    {"renewTime", renew_time},
                    {"acquireTime", "2026-01-01T00:00:00.000000Z"},
                    {"leaseTransitions", transitions}}}};
    lease["metadata"]["resourceVersion"] = std::to_string(++version);
    objects[Key("kubabase-system", "kubabase")] = lease;
  }
  Json Spec() const { return objects.at(Key("kubabase-system", "kubabase"))["spec"]; }

  std::map<std::string, Json> objects;
  int64_t version = 100;
  Status fail;  // when not ok, every call fails with it
  std::function<void()> before_update;
  int gets = 0, creates = 0, updates = 0;
  // Per request: the real time left before its ScopedRequestDeadline, or nullopt without one.
  std::vector<std::optional<std::chrono::steady_clock::duration>> time_left;
  std::vector<std::string> written_holders;  // holderIdentity of every successful Update

 private:
  void RecordDeadline() {
    std::optional<ScopedRequestDeadline::TimePoint> deadline = ScopedRequestDeadline::Get();
    if (!deadline) {
      time_left.emplace_back();
    } else {
      time_left.emplace_back(*deadline - std::chrono::steady_clock::now());
    }
  }
  static std::string Key(std::string_view ns, std::string_view name) {
    return std::string(ns) + "/" + std::string(name);
  }
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> NewElector(const std::string& identity) {
    LeaderElectionOptions options;
    options.identity = identity;
    options.jitter_factor = 0;
    options.on_started_leading = [this, identity] { events_ += "started:" + identity + ";"; };
    options.on_stopped_leading = [this, identity] { events_ += "stopped:" + identity + ";"; };
    auto elector = LeaderElector::Create(client_, clock_, options, &metrics_);
    EXPECT_TRUE(elector.ok()) << elector.status().ToString();
    return std::move(*elector);
  }

  double LeaderGauge() { return metrics_.leader().Add({}).Value(); }

  FakeLeaseClient client_;
  FakeClock clock_;
  Metrics metrics_;
  std::string events_;
};

TEST_F(LeaderElectionTest, AcquiresByCreatingTheLeaseWhenNoneExists) {
  auto elector = NewElector("a");
  EXPECT_FALSE(elector->LeadershipKnown());

  EXPECT_EQ(elector->Step(), seconds(2));

  EXPECT_TRUE(elector->IsLeader());
  EXPECT_TRUE(elector->LeadershipKnown());
  EXPECT_EQ(elector->Leader(), "a");
  EXPECT_EQ(events_, "started:a;");
  EXPECT_EQ(LeaderGauge(), 1);
  const Json spec = client_.Spec();
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["renewTime"], spec["acquireTime"]);
  // MicroTime, as coordination.k8s.io/v1 stores it.
  EXPECT_EQ(spec["renewTime"].get<std::string>().size(), std::string("2026-11-28T09:05:43.123456Z").size());
}

TEST_F(LeaderElectionTest, WaitsWhileAnotherHoldersLeaseIsFreshAndNeverWritesIt) {
  client_.PutLease("b", 15, "2026-01-01T00:00:00.000000Z");
  const Json before = client_.Spec();
  auto elector = NewElector("a");

  for (int i = 0; i < 7; ++i) {  // 0 s .. 12 s: inside b's 15 s lease as we observed it
    EXPECT_EQ(elector->Step(), seconds(2));
    EXPECT_FALSE(elector->IsLeader());
    clock_.Advance(seconds(2));
  }
  EXPECT_TRUE(elector->LeadershipKnown());
  EXPECT_EQ(elector->Leader(), "b");
  EXPECT_EQ(client_.Spec(), before);
  EXPECT_EQ(client_.updates, 0);
  EXPECT_EQ(events_, "");
}

TEST_F(LeaderElectionTest, TakesOverWhenTheOtherHoldersLeaseExpiredOnItsOwnClock) {
  // b's renewTime is far in the past, but only our own observation of an unchanged record counts.
  client_.PutLease("b", 15, "2000-01-01T00:00:00.000000Z", /*transitions=*/3);
  auto elector = NewElector("a");
  elector->Step();
  EXPECT_FALSE(elector->IsLeader());

  clock_.Advance(seconds(15) - std::chrono::milliseconds(1));
  elector->Step();
  EXPECT_FALSE(elector->IsLeader()) << "b's lease is valid until observed + 15 s";

  clock_.Advance(std::chrono::milliseconds(1));
  elector->Step();
  EXPECT_TRUE(elector->IsLeader());
  const Json spec = client_.Spec();
  EXPECT_EQ(spec["holderIdentity"], "a");
  EXPECT_EQ(spec["leaseTransitions"], 4);
  EXPECT_NE(spec["acquireTime"], "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(events_, "started:a;");
}

TEST_F(LeaderElectionTest, AnotherHoldersRenewalRestartsTheExpiryClock) {
  client_.PutLease("b", 15, "t0");
  auto elector = NewElector("a");
  elector->Step();
  clock_.Advance(seconds(10));
  client_.PutLease("b", 15, "t10");  // b renewed
  elector->Step();
  clock_.Advance(seconds(14));  // 24 s after we first saw b, 14 s after its renewal
  elector->Step();
  EXPECT_FALSE(elector->IsLeader());
  clock_.Advance(seconds(2));
  elector->Step();
  EXPECT_TRUE(elector->IsLeader());
}

TEST_F(LeaderElectionTest, TakesAReleasedLeaseAtOnce) {
  client_.PutLease("", 1, "t0", 2);
  auto elector = NewElector("a");
  elector->Step();
  EXPECT_TRUE(elector->IsLeader());
  EXPECT_EQ(client_.Spec()["leaseTransitions"], 3);
}

TEST_F(LeaderElectionTest, RenewsWithOneOptimisticUpdateKeepingAcquireTime) {
  auto elector = NewElector("a");
  elector->Step();
  const Json acquired = client_.Spec();
  const int gets_before = client_.gets;

  clock_.Advance(seconds(2));
  EXPECT_EQ(elector->Step(), seconds(2));

  EXPECT_TRUE(elector->IsLeader());
  EXPECT_EQ(client_.gets, gets_before) << "the leader renews without reading first";
  EXPECT_EQ(client_.updates, 1);
  const Json renewed = client_.Spec();
  EXPECT_EQ(renewed["acquireTime"], acquired["acquireTime"]);
  EXPECT_NE(renewed["renewTime"], acquired["renewTime"]);
  EXPECT_EQ(renewed["leaseTransitions"], acquired["leaseTransitions"]);
}

TEST_F(LeaderElectionTest, RenewalFallsBackToReadingWhenTheLeaseChangedUnderneath) {
  auto elector = NewElector("a");
  elector->Step();
  // Someone (say, kubectl label) changed the Lease: our cached resourceVersion is stale.
  auto& stored = client_.objects["kubabase-system/kubabase"];
  stored["metadata"]["labels"] = {{"touched", "yes"}};
  stored["metadata"]["resourceVersion"] = std::to_string(++client_.version);

  clock_.Advance(seconds(2));
  elector->Step();

  EXPECT_TRUE(elector->IsLeader());
  EXPECT_EQ(client_.updates, 2);  // the 409 fast path, then the read-then-write path
  EXPECT_EQ(client_.objects["kubabase-system/kubabase"]["metadata"]["labels"]["touched"], "yes");
}

TEST_F(LeaderElectionTest, LosesTheRaceWhenAnotherCandidateWritesBetweenReadAndUpdate) {
  client_.PutLease("b", 15, "t0");
  auto elector = NewElector("a");
  elector->Step();
  clock_.Advance(seconds(16));
  client_.before_update = [this] {
    client_.before_update = nullptr;
    client_.PutLease("c", 15, "t16", 1);  // c took over first
  };

  elector->Step();

  EXPECT_FALSE(elector->IsLeader());
  EXPECT_EQ(client_.Spec()["holderIdentity"], "c");
  EXPECT_EQ(events_, "");
  elector->Step();  // now it sees c's fresh lease and waits
  EXPECT_EQ(elector->Leader(), "c");
  EXPECT_FALSE(elector->IsLeader());
}

TEST_F(LeaderElectionTest, LosesLeadershipWhenRenewalsFailPastTheRenewDeadline) {
  auto elector = NewElector("a");
  elector->Step();  // leader at t=0
  client_.fail = UnavailableError("connection refused");

  for (int t = 2; t <= 8; t += 2) {
    clock_.Advance(seconds(2));
    EXPECT_EQ(elector->Step(), seconds(2));
    EXPECT_TRUE(elector->IsLeader()) << "at t=" << t;
  }
  clock_.Advance(seconds(2));  // t=10: the renew deadline
  EXPECT_FALSE(elector->IsLeader()) << "IsLeader follows the clock before the loop notices";
  EXPECT_EQ(elector->Step(), Clock::Duration::zero());

  EXPECT_EQ(elector->state(), LeaderElector::State::kLost);
  EXPECT_EQ(events_, "started:a;stopped:a;");
  EXPECT_EQ(LeaderGauge(), 0);
  // A lost elector never campaigns again in this process: main exits.
  client_.fail = Status::Ok();
  const int updates = client_.updates;
  EXPECT_EQ(elector->Step(), Clock::Duration::zero());
  EXPECT_EQ(client_.updates, updates);
}

// client-go's renew runs each tryAcquireOrRenew under context.WithTimeout(RenewDeadline): a
// request that hangs cannot keep a leader "leading" past the deadline.
TEST_F(LeaderElectionTest, EachRenewalRequestIsBoundByTheTimeLeftBeforeTheRenewDeadline) {
  auto elector = NewElector("a");
  elector->Step();  // acquired at t=0 (a candidate's requests carry no deadline)
  ASSERT_FALSE(client_.time_left.empty());
  for (const auto& left : client_.time_left) EXPECT_FALSE(left.has_value());

  // Renewals at t=2 (ok: deadline t=10), then failing at t=4 and t=7 (deadline t=2+10=12).
  const std::pair<int, int> steps[] = {{2, 8}, {2, 8}, {3, 5}};
  bool fail = false;
  for (const auto& [advance, left_s] : steps) {
    clock_.Advance(seconds(advance));
    client_.fail = fail ? UnavailableError("apiserver slow") : Status::Ok();
    client_.time_left.clear();
    elector->Step();
    ASSERT_FALSE(client_.time_left.empty());
    for (const auto& left : client_.time_left) {
      ASSERT_TRUE(left.has_value()) << "a renewal request without a deadline";
      // Real time only shrinks what is left; it never exceeds the deadline's distance.
      EXPECT_LE(*left, seconds(left_s));
      EXPECT_GT(*left, seconds(left_s) - seconds(5));
    }
    fail = true;
  }
  EXPECT_TRUE(elector->IsLeader());
}

TEST_F(LeaderElectionTest, ALostLeaseCallsOnLostLeadingInsteadOfOnStoppedLeading) {
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.on_stopped_leading = [this] { events_ += "stopped;"; };
  options.on_lost_leading = [this] { events_ += "lost;"; };
  auto elector = *LeaderElector::Create(client_, clock_, options);
  elector->Step();
  client_.fail = UnavailableError("down");
  clock_.Advance(seconds(10));
  EXPECT_EQ(elector->Step(), Clock::Duration::zero());
  EXPECT_EQ(elector->state(), LeaderElector::State::kLost);
  EXPECT_EQ(events_, "lost;");
}

// SIGTERM: the workers stop (before_release) while the Lease is still renewed, and only then is
// it released: a standby never starts while one of our reconciles may still write.
TEST_F(LeaderElectionTest, StopRenewsWhileBeforeReleaseRunsAndReleasesOnlyAfterItReturned) {
  LeaderElector* raw = nullptr;
  std::atomic<int> renewals{0};
  std::atomic<int> renewals_when_finished{-1};
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.lease_duration = std::chrono::milliseconds(3000);
  options.renew_deadline = std::chrono::milliseconds(2000);
  options.retry_period = std::chrono::milliseconds(1);  // Run's real waits: 1 ms
  options.on_started_leading = [&] {
    client_.before_update = [&] { ++renewals; };
    raw->Stop();
  };
  options.before_release = [&] {
    // Workers finishing their reconciles: the elector must keep renewing meanwhile.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (renewals.load() < 3 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    renewals_when_finished = renewals.load();
  };
  options.on_stopped_leading = [this] { events_ += "stopped;"; };
  auto elector = *LeaderElector::Create(client_, clock_, options);
  raw = elector.get();

  EXPECT_TRUE(elector->Run().ok());

  ASSERT_GE(renewals_when_finished.load(), 3) << "renewals went on while the workers stopped";
  // Every write up to then renewed our holding; the release ("") came after, and last.
  ASSERT_GT(client_.written_holders.size(), static_cast<size_t>(renewals_when_finished.load()));
  EXPECT_EQ(client_.written_holders.back(), "");
  for (size_t i = 0; i + 1 < client_.written_holders.size(); ++i) {
    EXPECT_EQ(client_.written_holders[i], "a") << i;
  }
  EXPECT_EQ(client_.Spec()["holderIdentity"], "");
  EXPECT_EQ(events_, "stopped;");
}

TEST_F(LeaderElectionTest, ALeaseLostWhileTheWorkersStopIsNeverReleasedAndRunReturnsAborted) {
  LeaderElector* raw = nullptr;
  std::atomic<bool> lost{false};
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.lease_duration = std::chrono::milliseconds(3000);
  options.renew_deadline = std::chrono::milliseconds(2000);
  options.retry_period = std::chrono::milliseconds(1);
  options.on_started_leading = [&] {
    // From now on every renewal fails and takes a second on the fake clock.
    client_.before_update = [&] {
      clock_.Advance(seconds(1));
      client_.fail = UnavailableError("apiserver unreachable");
    };
    raw->Stop();
  };
  options.before_release = [&] {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!lost.load() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  options.on_lost_leading = [&] {
    events_ += "lost;";
    lost = true;
  };
  options.on_stopped_leading = [this] { events_ += "stopped;"; };
  auto elector = *LeaderElector::Create(client_, clock_, options);
  raw = elector.get();

  const Status ran = elector->Run();

  EXPECT_EQ(ran.code(), StatusCode::kAborted) << ran.ToString();
  EXPECT_EQ(events_, "lost;");
  client_.fail = Status::Ok();
  EXPECT_EQ(client_.Spec()["holderIdentity"], "a") << "a lost lease is not written";
}

TEST_F(LeaderElectionTest, AFailedRenewalInsideTheDeadlineIsRetriedAndKeepsLeadership) {
  auto elector = NewElector("a");
  elector->Step();
  client_.fail = UnavailableError("etcd leader changed");
  clock_.Advance(seconds(2));
  elector->Step();
  client_.fail = Status::Ok();
  clock_.Advance(seconds(2));
  elector->Step();
  clock_.Advance(seconds(9));  // 9 s after the last good renewal
  EXPECT_TRUE(elector->IsLeader());
  EXPECT_EQ(events_, "started:a;");
}

TEST_F(LeaderElectionTest, TheLastRetryLandsExactlyOnTheDeadline) {
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.retry_period = std::chrono::milliseconds(3000);
  auto elector = *LeaderElector::Create(client_, clock_, options);
  elector->Step();
  client_.fail = UnavailableError("down");
  clock_.Advance(seconds(9));
  EXPECT_EQ(elector->Step(), seconds(1));  // not 3 s: that would overshoot the 10 s deadline
}

TEST_F(LeaderElectionTest, ReleaseEmptiesTheHolderSoAStandbyTakesOverAtOnce) {
  auto a = NewElector("a");
  auto b = NewElector("b");
  a->Step();
  b->Step();
  EXPECT_FALSE(b->IsLeader());

  EXPECT_TRUE(a->Release());
  const Json spec = client_.Spec();
  EXPECT_EQ(spec["holderIdentity"], "");
  EXPECT_EQ(spec["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec["leaseTransitions"], 0);

  b->Step();  // no lease-duration wait
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(client_.Spec()["leaseTransitions"], 1);
}

TEST_F(LeaderElectionTest, ReleaseNeverClobbersAnotherHoldersLease) {
  auto a = NewElector("a");
  a->Step();
  client_.PutLease("b", 15, "t1", 1);  // b took over while we were partitioned

  EXPECT_TRUE(a->Release());

  EXPECT_EQ(client_.Spec()["holderIdentity"], "b");
  EXPECT_EQ(a->Leader(), "b");
}

TEST_F(LeaderElectionTest, ReleaseByACandidateWritesNothing) {
  client_.PutLease("b", 15, "t0");
  auto a = NewElector("a");
  a->Step();
  EXPECT_TRUE(a->Release());
  EXPECT_EQ(client_.updates, 0);
}

TEST_F(LeaderElectionTest, RunReturnsOkAndReleasesTheLeaseAfterStop) {
  LeaderElector* raw = nullptr;
  // Stop from inside the started callback: Run's wait then ends at once, without real time.
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.on_started_leading = [&raw] { raw->Stop(); };
  options.on_stopped_leading = [this] { events_ += "stopped;"; };
  auto stoppable = *LeaderElector::Create(client_, clock_, options);
  raw = stoppable.get();

  EXPECT_TRUE(stoppable->Run().ok());

  EXPECT_EQ(stoppable->state(), LeaderElector::State::kStopped);
  EXPECT_FALSE(stoppable->IsLeader());
  EXPECT_EQ(client_.Spec()["holderIdentity"], "");
  EXPECT_EQ(events_, "stopped;");
}

TEST_F(LeaderElectionTest, RunReturnsAtOnceWhenStoppedBeforeItStarted) {
  auto elector = NewElector("a");
  elector->Stop();
  EXPECT_TRUE(elector->Run().ok());
  EXPECT_EQ(client_.creates + client_.gets, 0);
  EXPECT_EQ(events_, "");
}

TEST_F(LeaderElectionTest, RunReturnsAbortedWhenLeadershipIsLost) {
  LeaderElectionOptions options;
  options.identity = "a";
  options.jitter_factor = 0;
  options.lease_duration = std::chrono::milliseconds(3000);
  options.renew_deadline = std::chrono::milliseconds(2000);
  options.retry_period = std::chrono::milliseconds(1);  // Run's only real wait: 1 ms
  options.on_started_leading = [this] {
    // From now on every request fails and takes a second on the fake clock.
    client_.fail = UnavailableError("apiserver unreachable");
    client_.before_update = [this] { clock_.Advance(seconds(1)); };
  };
  options.on_stopped_leading = [this] { events_ += "stopped;"; };
  auto elector = *LeaderElector::Create(client_, clock_, options);

  const Status ran = elector->Run();

  EXPECT_EQ(ran.code(), StatusCode::kAborted) << ran.ToString();
  EXPECT_NE(ran.message().find("kubabase-system/kubabase"), std::string::npos);
  EXPECT_EQ(events_, "stopped;");
}

TEST(LeaderElectionOptionsTest, RejectsDurationsInTheWrongOrder) {
  FakeLeaseClient client;
  FakeClock clock;
  LeaderElectionOptions options;
  options.lease_duration = seconds(10);
  options.renew_deadline = seconds(10);
  EXPECT_EQ(LeaderElector::Create(client, clock, options).status().code(),
            StatusCode::kInvalidArgument);
  options.lease_duration = seconds(15);
  options.retry_period = std::chrono::milliseconds(8500);  // 1.2 x 8.5 s > 10 s
  EXPECT_EQ(LeaderElector::Create(client, clock, options).status().code(),
            StatusCode::kInvalidArgument);
  options.retry_period = seconds(2);
  options.lease_name = "";
  EXPECT_EQ(LeaderElector::Create(client, clock, options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DefaultLeaderIdentityTest, IsHostnameUnderscoreUuidAndUniquePerCall) {
  const std::string a = DefaultLeaderIdentity();
  const std::string b = DefaultLeaderIdentity();
  EXPECT_NE(a, b);
  const size_t sep = a.rfind('_');
  ASSERT_NE(sep, std::string::npos);
  const std::string uuid = a.substr(sep + 1);
  ASSERT_EQ(uuid.size(), 36u);
  EXPECT_EQ(uuid[14], '4');  // version 4
}

}  // namespace
}  // namespace kubabase::kube
