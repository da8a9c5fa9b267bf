// LeaderElector: one active operator among replicas, through a coordination.k8s.io/v1 Lease.
//
//   LeaderElectionOptions options{.lease_namespace = "kubabase-system", .lease_name = "kubabase"};
//   options.on_started_leading = [&] { controller.Start(); };     // start reconciling
//   options.on_stopped_leading = [&] { controller.Stop(); };      // stop at once
//   KUBABASE_ASSIGN_OR_RETURN(auto elector, LeaderElector::Create(client, RealClock::Get(), options));
//   Status ran = elector->Run();          // blocks; another thread calls elector->Stop() on SIGTERM
//   if (!ran.ok()) return 1;              // leadership lost: main exits non-zero (see below)
//
// Semantics are client-go's tools/leaderelection with a LeaseLock:
// - Acquire: create the Lease if absent; otherwise take it over only when its holder is empty or
//   the record has not changed for leaseDurationSeconds *as observed on our own steady clock*
//   (renewTime written by another machine is never compared with our clock, so clock skew cannot
//   cause two leaders). Writes are Update (PUT) carrying the resourceVersion we read: a 409 means
//   another candidate won the race, and we stay a candidate.
// - Renew: every retry_period the leader updates renewTime, first optimistically with the Lease it
//   last wrote (one request), falling back to GET + PUT when that fails.
// - Lose: when no renewal succeeded for renew_deadline (measured from the start of the last
//   successful renewal), the elector stops leading. IsLeader() turns false by the clock at that
//   moment even before the loop notices. Because renew_deadline < lease_duration, we stop before
//   any other candidate may take over. Each renewal's requests carry a deadline
//   (ScopedRequestDeadline) at that same moment, as client-go's renew runs tryAcquireOrRenew under
//   a context.WithTimeout(RenewDeadline): a request that hangs cannot keep us "leading" past it.
// - Release: on Stop() a leader first runs before_release (the owner stops its workers: the
//   in-flight reconciles finish, no new one starts) while it goes on renewing, and only then
//   writes holderIdentity "" and leaseDurationSeconds 1 (client-go's ReleaseOnCancel), so a
//   standby takes over within one retry period instead of a lease duration, and never while one
//   of our writes is still under way.
//
// On lost leadership the process must stop reconciling and exit at once: on_lost_leading (main:
// exit non-zero without draining anything, as client-go's callers and controller-runtime do) or,
// when unset, on_stopped_leading runs, and Run() returns kAborted. Staying up as a zombie leader,
// or finishing queued work, is never safe: another replica may already be reconciling.
//
// Thread-safety: Run() (or Step(), TryAcquireOrRenew() and Release(), used by tests) from one
// thread at a time; Stop(), IsLeader(), LeadershipKnown(), Leader() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "controller/base/clock.h"
#include "controller/base/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube {

struct LeaderElectionOptions {
  std::string lease_namespace = "kubabase-system";
  std::string lease_name = "kubabase";
  // Who we are in holderIdentity; "" means DefaultLeaderIdentity() (hostname_uuid). Unique per
  // process: two processes with one identity would both believe they lead.
  std::string identity;
  // Requires (as client-go checks): lease_duration > renew_deadline > retry_period * 1.2, and
  // lease_duration at least 1 s (the Lease stores whole seconds; the fraction is dropped).
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
  // Candidates wait retry_period * [1, 1 + jitter_factor) between attempts so that replicas
  // started together do not hit the apiserver in lockstep. 0 in tests.
  double jitter_factor = 1.2;
  // Give the Lease up on Stop() so a standby takes over at once.
  bool release_on_stop = true;

  // Called on Run's thread. Each must return promptly (start or stop workers, then return):
  // the elector does not renew while a callback runs.
  std::function<void()> on_started_leading;
  // Called once when leading ends: lost (unless on_lost_leading is set), or released on Stop().
  // Not called if we never led.
  std::function<void()> on_stopped_leading;
  // Called instead of on_stopped_leading when leadership is lost. Production exits in it.
  std::function<void()> on_lost_leading;
  // Called on a thread of its own when Stop() finds us leading; the Lease is renewed until it
  // returns and released after. Blocks until the owner's workers stopped (in-flight reconciles
  // done). If leadership is lost meanwhile, on_lost_leading runs and Run() returns kAborted once
  // this returned.
  std::function<void()> before_release;
  // Called when the observed holder changes (including to us, and to "" after a release).
  std::function<void(const std::string& holder)> on_new_leader;
};

// "<hostname>_<random uuid v4>", the identity client-go based operators use.
std::string DefaultLeaderIdentity();

class LeaderElector {
 public:
  enum class State { kCandidate, kLeading, kLost, kStopped };

  // Errors: kInvalidArgument when the durations break the ordering above or a name is empty.
  // `client`, `clock` and `metrics` (may be null) must outlive the elector.
  static StatusOr<std::unique_ptr<LeaderElector>> Create(ApiClient& client, const Clock& clock,
                                                         LeaderElectionOptions options,
                                                         Metrics* metrics = nullptr);
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Campaigns, leads and renews until Stop() or until leadership is lost. Returns Ok after Stop()
  // (the Lease released when we held it and release_on_stop), kAborted when leadership was lost.
  // Returns Ok at once if Stop() was called before.
  Status Run();
  // Asks Run() to return; it finishes an in-flight request first. Idempotent.
  void Stop();

  // True while we hold a Lease renewed less than renew_deadline ago.
  bool IsLeader() const;
  // True once one attempt completed: we know whether we lead (for /readyz).
  bool LeadershipKnown() const;
  // The holder we last observed; "" before the first attempt or after a release.
  std::string Leader() const;
  const std::string& identity() const { return options_.identity; }
  State state() const;

  // One iteration of Run's loop: one acquire or renew attempt, with the transitions and callbacks
  // it causes. Returns how long to wait before the next Step (zero once lost or stopped).
  Clock::Duration Step();
  // One attempt to create, take over or renew the Lease. True when we hold it afterwards.
  bool TryAcquireOrRenew();
  // Gives the Lease up if we hold it (re-reading it first: another holder's Lease is never
  // touched). True when released or when we did not hold it.
  bool Release();

 private:
  // A Lease's spec as client-go's LeaderElectionRecord.
  struct Record {
    std::string holder_identity;
    int64_t lease_duration_seconds = 0;
    std::string acquire_time;  // RFC 3339 with microseconds, as written
    std::string renew_time;
    int64_t lease_transitions = 0;
  };

  LeaderElector(ApiClient& client, const Clock& clock, LeaderElectionOptions options,
                Metrics* metrics);

  static Record ParseRecord(const Json& lease);
  static Json RecordToSpec(const Record& record);
  Json NewLease(const Record& record) const;
  std::string Describe() const;
  bool HolderIsUs() const;                      // REQUIRES: mu_ held
  bool ObservedLeaseValid(Clock::TimePoint now) const;  // REQUIRES: mu_ held
  void SetObserved(const Record& record);
  void BecomeLeader(Clock::TimePoint attempt_start);
  void StopLeading(State next);
  Clock::Duration Jittered(Clock::Duration d);
  void SetLeaderGauge(double value);

  ApiClient& client_;
  const Clock& clock_;
  const LeaderElectionOptions options_;
  Metrics* const metrics_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_requested_ = false;
  State state_ = State::kCandidate;
  bool known_ = false;
  Record observed_;                       // the last record seen or written
  Clock::TimePoint observed_time_{};      // when observed_ last changed, on our clock
  Clock::TimePoint last_renew_start_{};   // start of the last successful acquire/renew
  std::string reported_leader_;

  // Run's thread only.
  std::string observed_raw_;              // the last spec read, to notice changes
  std::optional<Json> cached_lease_;      // the Lease as we last wrote it (fast-path renewals)
  std::mt19937_64 rng_;
};

}  // namespace kubabase::kube
