#include "controller/kube/leader_election.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <thread>

#include <openssl/rand.h>

#include "controller/base/time_format.h"
#include "controller/kube/json_fields.h"
#include "controller/kube/logging.h"

namespace kubabase::kube {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;


}  // namespace

std::string DefaultLeaderIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "kubabase");
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    std::random_device rd;
    for (auto& byte : b) byte = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return std::string(host) + "_" + uuid;
}

StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(ApiClient& client,
                                                               const Clock& clock,
                                                               LeaderElectionOptions options,
                                                               Metrics* metrics) {
  if (options.lease_namespace.empty() || options.lease_name.empty()) {
    return InvalidArgumentError("leader election: the Lease namespace and name must not be empty");
  }
  if (options.lease_duration < seconds(1)) {
    return InvalidArgumentError("leader election: the lease duration must be at least 1s");
  }
  if (options.lease_duration <= options.renew_deadline) {
    return InvalidArgumentError(
        "leader election: the lease duration must be greater than the renew deadline");
  }
  if (options.renew_deadline.count() <= 1.2 * static_cast<double>(options.retry_period.count()) ||
      options.retry_period.count() <= 0) {
    return InvalidArgumentError(
        "leader election: the renew deadline must be greater than 1.2 x the retry period, and the "
        "retry period positive");
  }
  if (options.jitter_factor < 0) {
    return InvalidArgumentError("leader election: the jitter factor must not be negative");
  }
  if (options.identity.empty()) options.identity = DefaultLeaderIdentity();
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(client, clock, std::move(options), metrics));
}

LeaderElector::LeaderElector(ApiClient& client, const Clock& clock, LeaderElectionOptions options,
                             Metrics* metrics)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      metrics_(metrics),
      rng_(std::random_device{}()) {
  SetLeaderGauge(0);
}

LeaderElector::~LeaderElector() = default;

std::string LeaderElector::Describe() const {
  return options_.lease_namespace + "/" + options_.lease_name;
}

LeaderElector::Record LeaderElector::ParseRecord(const Json& lease) {
  Record record;
  record.holder_identity = StringAt(lease, {"spec", "holderIdentity"});
  record.lease_duration_seconds = IntAt(lease, {"spec", "leaseDurationSeconds"}, 0);
  record.acquire_time = StringAt(lease, {"spec", "acquireTime"});
  record.renew_time = StringAt(lease, {"spec", "renewTime"});
  record.lease_transitions = IntAt(lease, {"spec", "leaseTransitions"}, 0);
  return record;
}

Json LeaderElector::RecordToSpec(const Record& record) {
  Json spec = {{"holderIdentity", record.holder_identity},
               {"leaseDurationSeconds", record.lease_duration_seconds},
               {"leaseTransitions", record.lease_transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  return spec;
}

Json LeaderElector::NewLease(const Record& record) const {
  return Json{{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
              {"spec", RecordToSpec(record)}};
}

bool LeaderElector::HolderIsUs() const { return observed_.holder_identity == options_.identity; }

bool LeaderElector::ObservedLeaseValid(Clock::TimePoint now) const {
  return observed_time_ + seconds(observed_.lease_duration_seconds) > now;
}

void LeaderElector::SetObserved(const Record& record) {
  std::string new_leader;
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    observed_ = record;
    observed_time_ = clock_.Now();
    known_ = true;
    if (reported_leader_ != record.holder_identity) {
      reported_leader_ = record.holder_identity;
      new_leader = reported_leader_;
      changed = true;
    }
  }
  if (changed) {
    LogInfo("lease holder changed", {{"lease", Describe()}, {"holder", new_leader}});
    if (options_.on_new_leader) options_.on_new_leader(new_leader);
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  const Clock::TimePoint now = clock_.Now();
  const std::string wall = Rfc3339(clock_.WallNow(), TimePrecision::kMicros);
  Record desired{.holder_identity = options_.identity,
                 .lease_duration_seconds = duration_cast<seconds>(options_.lease_duration).count(),
                 .acquire_time = wall,
                 .renew_time = wall,
                 .lease_transitions = 0};

  // 1. Fast path: the leader renews with the Lease it last wrote, one request; a 409 (someone
  // else wrote since) falls through to the read-then-write path.
  bool leading_and_valid = false;
  Record observed;
  {
    std::lock_guard lock(mu_);
    leading_and_valid = HolderIsUs() && ObservedLeaseValid(now);
    observed = observed_;
  }
  if (leading_and_valid && cached_lease_.has_value()) {
    desired.acquire_time = observed.acquire_time;
    desired.lease_transitions = observed.lease_transitions;
    Json lease = *cached_lease_;
    lease["spec"] = RecordToSpec(desired);
    StatusOr<Json> updated =
        client_.Update(Resource::Leases(), options_.lease_namespace, options_.lease_name, lease);
    if (updated.ok()) {
      cached_lease_ = std::move(*updated);
      SetObserved(desired);
      return true;
    }
    LogDebug("optimistic lease renewal failed; re-reading",
             {{"lease", Describe()}, {"error", updated.status().ToString()}});
  }

  // 2. Read the Lease, or create it.
  StatusOr<Json> got = client_.Get(Resource::Leases(), options_.lease_namespace, options_.lease_name);
  if (!got.ok()) {
    if (!got.status().IsNotFound()) {
      LogWarn("reading the leader lease failed",
              {{"lease", Describe()}, {"error", got.status().ToString()}});
      return false;
    }
    StatusOr<Json> created =
        client_.Create(Resource::Leases(), options_.lease_namespace, NewLease(desired));
    if (!created.ok()) {
      // AlreadyExists: another candidate created it first; we will read it next time.
      LogInfo("creating the leader lease failed",
              {{"lease", Describe()}, {"error", created.status().ToString()}});
      return false;
    }
    cached_lease_ = std::move(*created);
    SetObserved(desired);
    return true;
  }

  // 3. A changed record restarts the expiry clock; an unchanged one ages on our own clock.
  const Record current = ParseRecord(*got);
  const auto spec_it = got->find("spec");
  std::string raw = spec_it != got->end() ? spec_it->dump() : std::string();
  if (raw != observed_raw_) {
    SetObserved(current);
    observed_raw_ = std::move(raw);
  }
  bool us = false;
  {
    std::lock_guard lock(mu_);
    known_ = true;
    us = HolderIsUs();
    if (!current.holder_identity.empty() && ObservedLeaseValid(now) && !us) return false;
  }

  // 4. Ours to take (empty holder or expired) or to renew: write with the resourceVersion just
  // read, so a concurrent writer makes this fail with 409 instead of two of us winning.
  if (us) {
    desired.acquire_time = current.acquire_time;
    desired.lease_transitions = current.lease_transitions;
  } else {
    desired.lease_transitions = current.lease_transitions + 1;
  }
  Json lease = *got;
  lease["spec"] = RecordToSpec(desired);
  StatusOr<Json> updated =
      client_.Update(Resource::Leases(), options_.lease_namespace, options_.lease_name, lease);
  if (!updated.ok()) {
    LogInfo(us ? "renewing the leader lease failed" : "taking over the leader lease failed",
            {{"lease", Describe()}, {"error", updated.status().ToString()}});
    return false;
  }
  cached_lease_ = std::move(*updated);
  SetObserved(desired);
  return true;
}

void LeaderElector::BecomeLeader(Clock::TimePoint attempt_start) {
  {
    std::lock_guard lock(mu_);
    state_ = State::kLeading;
    last_renew_start_ = attempt_start;
  }
  SetLeaderGauge(1);
  LogInfo("acquired the leader lease", {{"lease", Describe()}, {"identity", options_.identity}});
  if (options_.on_started_leading) options_.on_started_leading();
}

void LeaderElector::StopLeading(State next) {
  {
    std::lock_guard lock(mu_);
    state_ = next;
  }
  SetLeaderGauge(0);
  if (next == State::kLost) {
    LogError("lost the leader lease; stopping", {{"lease", Describe()}, {"identity", options_.identity}});
    if (options_.on_lost_leading) {
      options_.on_lost_leading();
      return;
    }
  } else {
    LogInfo("stopped leading", {{"lease", Describe()}, {"identity", options_.identity}});
  }
  if (options_.on_stopped_leading) options_.on_stopped_leading();
}

Clock::Duration LeaderElector::Jittered(Clock::Duration d) {
  if (options_.jitter_factor <= 0) return d;
  std::uniform_real_distribution<double> extra(0, options_.jitter_factor);
  return d + duration_cast<Clock::Duration>(
                 std::chrono::duration<double, std::nano>(extra(rng_) * static_cast<double>(
                     std::chrono::duration_cast<std::chrono::nanoseconds>(d).count())));
}

Clock::Duration LeaderElector::Step() {
  State state;
  {
    std::lock_guard lock(mu_);
    state = state_;
  }
  const Clock::TimePoint attempt_start = clock_.Now();
  switch (state) {
    case State::kCandidate:
      if (TryAcquireOrRenew()) {
        BecomeLeader(attempt_start);
        return options_.retry_period;
      }
      return Jittered(options_.retry_period);
    case State::kLeading: {
      bool renewed = false;
      {
        // Bound every request of this renewal by the time left before the renew deadline (on
        // our clock, carried over to the real one the HTTP client waits on).
        Clock::TimePoint renew_by;
        {
          std::lock_guard lock(mu_);
          renew_by = last_renew_start_ + options_.renew_deadline;
        }
        const Clock::Duration left = std::max(renew_by - attempt_start, Clock::Duration::zero());
        ScopedRequestDeadline deadline(std::chrono::steady_clock::now() + left);
        renewed = TryAcquireOrRenew();
      }
      if (renewed) {
        std::lock_guard lock(mu_);
        last_renew_start_ = attempt_start;
        return options_.retry_period;
      }
      Clock::TimePoint deadline;
      {
        std::lock_guard lock(mu_);
        deadline = last_renew_start_ + options_.renew_deadline;
      }
      const Clock::TimePoint now = clock_.Now();
      if (now >= deadline) {
        StopLeading(State::kLost);
        return Clock::Duration::zero();
      }
      // Retry every retry_period, and once more right at the deadline.
      return std::min<Clock::Duration>(options_.retry_period, deadline - now);
    }
    case State::kLost:
    case State::kStopped:
      return Clock::Duration::zero();
  }
  return Clock::Duration::zero();
}

bool LeaderElector::Release() {
  {
    std::lock_guard lock(mu_);
    if (!HolderIsUs()) return true;
  }
  // Bounded: a conflict means our own in-flight renewal or another writer; re-read and decide.
  for (int attempt = 0; attempt < 3; ++attempt) {
    StatusOr<Json> got =
        client_.Get(Resource::Leases(), options_.lease_namespace, options_.lease_name);
    if (!got.ok()) {
      LogWarn("reading the leader lease to release it failed",
              {{"lease", Describe()}, {"error", got.status().ToString()}});
      return false;
    }
    const Record current = ParseRecord(*got);
    if (current.holder_identity != options_.identity) {
      // Someone else holds it now: writing would clobber their lease (client-go's release would).
      SetObserved(current);
      return true;
    }
    const std::string wall = Rfc3339(clock_.WallNow(), TimePrecision::kMicros);
    Record released{.holder_identity = "",
                    .lease_duration_seconds = 1,
                    .acquire_time = wall,
                    .renew_time = wall,
                    .lease_transitions = current.lease_transitions};
    Json lease = *got;
    lease["spec"] = RecordToSpec(released);
    StatusOr<Json> updated =
        client_.Update(Resource::Leases(), options_.lease_namespace, options_.lease_name, lease);
    if (updated.ok()) {
      cached_lease_.reset();
      SetObserved(released);
      LogInfo("released the leader lease", {{"lease", Describe()}});
      return true;
    }
    if (!updated.status().IsConflict()) {
      LogWarn("releasing the leader lease failed",
              {{"lease", Describe()}, {"error", updated.status().ToString()}});
      return false;
    }
  }
  return false;
}

Status LeaderElector::Run() {
  LogInfo("campaigning for the leader lease", {{"lease", Describe()}, {"identity", options_.identity}});
  std::unique_lock lock(mu_);
  while (!stop_requested_) {
    lock.unlock();
    const Clock::Duration wait = Step();
    lock.lock();
    if (state_ == State::kLost) {
      return AbortedError("lost leadership of Lease " + Describe() + " (identity " +
                          options_.identity + "): stop reconciling and exit");
    }
    stop_cv_.wait_for(lock, wait, [this] { return stop_requested_; });
  }
  const bool was_leading = state_ == State::kLeading;
  lock.unlock();
  if (was_leading && options_.before_release) {
    // The owner's workers finish their in-flight reconciles first; we keep the Lease renewed
    // meanwhile, so no standby can start while one of our writes may still land.
    LogInfo("stopping the workers before releasing the leader lease", {{"lease", Describe()}});
    bool finished = false;
    std::thread finisher([this, &finished] {
      options_.before_release();
      std::lock_guard done(mu_);
      finished = true;
      stop_cv_.notify_all();
    });
    lock.lock();
    while (!finished && state_ == State::kLeading) {
      lock.unlock();
      const Clock::Duration wait = Step();
      lock.lock();
      if (state_ != State::kLeading) break;
      stop_cv_.wait_for(lock, wait, [&finished] { return finished; });
    }
    const bool lost = state_ == State::kLost;
    lock.unlock();
    finisher.join();
    if (lost) {
      return AbortedError("lost leadership of Lease " + Describe() + " (identity " +
                          options_.identity + ") while stopping the workers");
    }
  }
  if (was_leading) {
    if (options_.release_on_stop && !Release()) {
      LogWarn("could not release the leader lease; a standby takes over when it expires",
              {{"lease", Describe()}});
    }
    StopLeading(State::kStopped);
  } else {
    std::lock_guard relock(mu_);
    state_ = State::kStopped;
  }
  return Status::Ok();
}

void LeaderElector::Stop() {
  std::lock_guard lock(mu_);
  stop_requested_ = true;
  stop_cv_.notify_all();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mu_);
  return state_ == State::kLeading && clock_.Now() < last_renew_start_ + options_.renew_deadline;
}

bool LeaderElector::LeadershipKnown() const {
  std::lock_guard lock(mu_);
  return known_;
}

std::string LeaderElector::Leader() const {
  std::lock_guard lock(mu_);
  return observed_.holder_identity;
}

LeaderElector::State LeaderElector::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void LeaderElector::SetLeaderGauge(double value) {
  if (metrics_ != nullptr) metrics_->leader().Add({}).Set(value);
}

}  // namespace kubabase::kube
