// WorkQueue: the keys waiting to be reconciled, with client-go's workqueue semantics.
//
//   WorkQueue queue({.name = "project"});
//   queue.Add("shop/web");                       // from an event handler
//   while (std::optional<std::string> key = queue.Get()) {   // a worker; nullopt: shut down
//     Status s = Reconcile(*key);
//     if (s.ok()) queue.Forget(*key); else queue.AddRateLimited(*key);
//     queue.Done(*key);                          // always, exactly once per Get()
//   }
//
// Guarantees (those of k8s.io/client-go/util/workqueue):
// - De-duplication: a key added many times before a worker takes it is handed out once.
// - No key is held by two workers at once: a key added while it is being processed is only
//   marked dirty, and is queued again when Done() is called for it.
// - FIFO among distinct keys.
// - AddAfter(key, d): the key is added once d has passed on the injected Clock; when a key is
//   already waiting, the earliest time wins.
// - AddRateLimited(key): AddAfter with the key's backoff: base_delay * 2^failures, capped at
//   max_delay (defaults 5 ms and 1000 s, as client-go's DefaultControllerRateLimiter). Forget()
//   resets the count; NumRequeues() reads it.
// - ShutDown(): later adds are ignored; Get() keeps handing out keys already queued, then returns
//   nullopt to every worker. ShutDownWithDrain() additionally blocks until every key handed out
//   has been Done(). ShutDownNow() drops what is queued: Get() returns nullopt at once.
//
// Time: delays are measured on the Clock. With a RealClock a timer thread moves due keys into the
// queue. Tests with a FakeClock turn the thread off (timer_thread = false), Advance() the clock
// and call ProcessDue(), so no test sleeps.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "controller/base/clock.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube {

struct WorkQueueOptions {
  // Names the queue in metrics (label name=...).
  std::string name = "default";
  // Null: RealClock::Get(). Not owned; must outlive the queue.
  Clock* clock = nullptr;
  // Null: no metrics. Not owned; must outlive the queue.
  Metrics* metrics = nullptr;
  // Per-key exponential backoff for AddRateLimited.
  Clock::Duration base_delay = std::chrono::milliseconds(5);
  Clock::Duration max_delay = std::chrono::seconds(1000);
  // Run a thread that adds keys whose AddAfter delay has passed (and refreshes the
  // longest-running metric). Off: the owner calls ProcessDue() (tests with a FakeClock).
  bool timer_thread = true;
};

class WorkQueue {
 public:
  explicit WorkQueue(WorkQueueOptions options = {});
  // Shuts the queue down (without drain) and joins the timer thread.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Marks `key` as needing processing. No effect after shutdown, or when the key is already
  // queued; when the key is being processed it is queued again at its Done().
  void Add(const std::string& key);

  // Adds `key` once `delay` has passed. delay <= 0 adds at once. When the key already waits, the
  // earlier of the two times is kept. No effect after shutdown.
  void AddAfter(const std::string& key, Clock::Duration delay);

  // Adds `key` after its backoff (base_delay * 2^NumRequeues, capped at max_delay), or after
  // `at_least` if that is longer (a server's Retry-After), and counts one more requeue.
  // Returns the delay used.
  Clock::Duration AddRateLimited(const std::string& key, Clock::Duration at_least = {});

  // Resets the backoff of `key` (after a success). Does not remove a pending AddAfter.
  void Forget(const std::string& key);

  // How many times `key` was AddRateLimited since its last Forget.
  int NumRequeues(const std::string& key) const;

  // The backoff AddRateLimited would use next for `key`, without counting it.
  Clock::Duration NextBackoff(const std::string& key) const;

  // Blocks until a key is available and returns it; the caller must call Done(key) when finished.
  // Returns nullopt once the queue is shut down and no queued key is left.
  std::optional<std::string> Get();

  // Finishes the processing of a key returned by Get(). If the key was added meanwhile, it is
  // queued again. Requires: the key came from Get() and Done was not yet called for it.
  void Done(const std::string& key);

  // Moves every key whose AddAfter time has passed into the queue. Returns how many became
  // queued (de-duplicated keys count too). Safe to call at any time; the timer thread calls it.
  int ProcessDue();

  // Ignores later adds, drops pending AddAfter keys and wakes every Get(): queued keys are still
  // handed out, then Get() returns nullopt. Idempotent.
  void ShutDown();
  // ShutDown(), then blocks until every key handed out by Get() is Done(). Keys still queued are
  // handed out to workers first, so with running workers the queue is empty on return.
  // Requires: workers keep calling Get()/Done(), or this blocks forever.
  void ShutDownWithDrain();
  // ShutDown() and drops every key still queued (and re-added while running): Get() returns
  // nullopt at once, keys handed out before finish as their workers call Done(). What a
  // controller stopping on SIGTERM or a lost lease needs: no new reconcile starts. Idempotent.
  void ShutDownNow();
  bool ShuttingDown() const;

  // Keys queued and not yet handed out (not counting those waiting for AddAfter).
  int Len() const;
  // Keys waiting for their AddAfter time.
  int WaitingLen() const;
  // Keys handed out by Get() and not yet Done().
  int ProcessingLen() const;
  // How long the oldest key still being processed has been processing; 0 when none.
  Clock::Duration LongestRunning() const;
  // When the next AddAfter key becomes due; nullopt when none waits.
  std::optional<Clock::TimePoint> NextDue() const;

 private:
  void AddLocked(const std::string& key);
  int ProcessDueLocked();
  void UpdateGaugesLocked();
  Clock::Duration BackoffLocked(const std::string& key) const;
  void TimerLoop();

  const WorkQueueOptions options_;
  Clock& clock_;
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Counter* adds_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Gauge* longest_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable get_cv_;    // a key was queued, or shutdown
  std::condition_variable done_cv_;   // processing_ shrank (for ShutDownWithDrain)
  std::condition_variable timer_cv_;  // an earlier AddAfter time, or shutdown
  std::deque<std::string> queue_;     // every element is in dirty_ and not in processing_
  std::unordered_set<std::string> dirty_;
  std::unordered_map<std::string, Clock::TimePoint> processing_;  // key -> when handed out
  std::map<std::string, Clock::TimePoint> waiting_;               // key -> when due
  std::set<std::pair<Clock::TimePoint, std::string>> waiting_by_time_;
  std::unordered_map<std::string, int> failures_;
  bool shutting_down_ = false;
  std::thread timer_;
};

}  // namespace kubabase::kube
