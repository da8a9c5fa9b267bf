#include "controller/kube/work_queue.h"

#include <algorithm>

namespace kubabase::kube {

namespace {
// The timer thread refreshes the longest-running gauge at least this often (client-go: 500 ms).
constexpr auto kMetricsRefresh = std::chrono::milliseconds(500);
}  // namespace

WorkQueue::WorkQueue(WorkQueueOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? *options_.clock : RealClock::Get()) {
  if (options_.metrics != nullptr) {
    const prometheus::Labels labels{{"name", options_.name}};
    depth_ = &options_.metrics->queue_depth().Add(labels);
    adds_ = &options_.metrics->queue_adds().Add(labels);
    retries_ = &options_.metrics->queue_retries().Add(labels);
    longest_ = &options_.metrics->queue_longest_running().Add(labels);
  }
  if (options_.timer_thread) timer_ = std::thread([this] { TimerLoop(); });
}

WorkQueue::~WorkQueue() {
  ShutDown();
  if (timer_.joinable()) timer_.join();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued, or re-marked while processing
  if (adds_ != nullptr) adds_->Increment();
  // A key being processed waits for its Done(): never two workers on one key.
  if (processing_.count(key) == 0) {
    queue_.push_back(key);
    get_cv_.notify_one();
  }
  UpdateGaugesLocked();
}

void WorkQueue::AddAfter(const std::string& key, Clock::Duration delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key);
    return;
  }
  const Clock::TimePoint due = clock_.Now() + delay;
  auto it = waiting_.find(key);
  if (it != waiting_.end()) {
    if (it->second <= due) return;  // the earliest time wins
    waiting_by_time_.erase({it->second, key});
    it->second = due;
  } else {
    waiting_.emplace(key, due);
  }
  const bool new_first = waiting_by_time_.empty() || due < waiting_by_time_.begin()->first;
  waiting_by_time_.emplace(due, key);
  if (new_first) timer_cv_.notify_all();
}

Clock::Duration WorkQueue::BackoffLocked(const std::string& key) const {
  auto it = failures_.find(key);
  const int failures = it == failures_.end() ? 0 : it->second;
  const auto base = options_.base_delay.count();
  const auto cap = options_.max_delay.count();
  // base * 2^failures without overflow: stop doubling once past the cap.
  auto delay = base;
  for (int i = 0; i < failures && delay < cap; ++i) delay *= 2;
  return Clock::Duration(std::min(delay, cap));
}

Clock::Duration WorkQueue::AddRateLimited(const std::string& key, Clock::Duration at_least) {
  Clock::Duration delay;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return Clock::Duration::zero();
    delay = std::max(BackoffLocked(key), at_least);
    ++failures_[key];
    if (retries_ != nullptr) retries_->Increment();
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

Clock::Duration WorkQueue::NextBackoff(const std::string& key) const {
  std::lock_guard lock(mu_);
  return BackoffLocked(key);
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  get_cv_.wait(lock, [this] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;  // shutting down and nothing left
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.emplace(key, clock_.Now());
  UpdateGaugesLocked();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  // Re-added while it ran: queue it now that no worker holds it. Dirty keys added before a
  // shutdown still run, like keys that were queued (client-go does the same).
  if (dirty_.count(key) != 0) {
    queue_.push_back(key);
    get_cv_.notify_one();
  }
  UpdateGaugesLocked();
  done_cv_.notify_all();
}

int WorkQueue::ProcessDue() {
  std::lock_guard lock(mu_);
  return ProcessDueLocked();
}

int WorkQueue::ProcessDueLocked() {
  const Clock::TimePoint now = clock_.Now();
  int moved = 0;
  while (!waiting_by_time_.empty() && waiting_by_time_.begin()->first <= now) {
    std::string key = waiting_by_time_.begin()->second;
    waiting_by_time_.erase(waiting_by_time_.begin());
    waiting_.erase(key);
    AddLocked(key);
    ++moved;
  }
  return moved;
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  waiting_.clear();
  waiting_by_time_.clear();
  get_cv_.notify_all();
  timer_cv_.notify_all();
  done_cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  ShutDown();
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [this] { return processing_.empty() && queue_.empty(); });
}

void WorkQueue::ShutDownNow() {
  ShutDown();
  std::lock_guard lock(mu_);
  for (const std::string& key : queue_) dirty_.erase(key);
  queue_.clear();
  dirty_.clear();  // keys re-added while a worker holds them: not run again either
  UpdateGaugesLocked();
  get_cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

int WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

int WorkQueue::WaitingLen() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(waiting_.size());
}

int WorkQueue::ProcessingLen() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(processing_.size());
}

Clock::Duration WorkQueue::LongestRunning() const {
  std::lock_guard lock(mu_);
  if (processing_.empty()) return Clock::Duration::zero();
  Clock::TimePoint oldest = Clock::TimePoint::max();
  for (const auto& [key, since] : processing_) oldest = std::min(oldest, since);
  return clock_.Now() - oldest;
}

std::optional<Clock::TimePoint> WorkQueue::NextDue() const {
  std::lock_guard lock(mu_);
  if (waiting_by_time_.empty()) return std::nullopt;
  return waiting_by_time_.begin()->first;
}

void WorkQueue::UpdateGaugesLocked() {
  if (depth_ != nullptr) depth_->Set(static_cast<double>(queue_.size()));
  if (longest_ != nullptr) {
    Clock::TimePoint oldest = Clock::TimePoint::max();
    for (const auto& [key, since] : processing_) oldest = std::min(oldest, since);
    longest_->Set(processing_.empty()
                      ? 0.0
                      : std::chrono::duration<double>(clock_.Now() - oldest).count());
  }
}

void WorkQueue::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!shutting_down_) {
    ProcessDueLocked();
    UpdateGaugesLocked();
    // Sleep until the next key is due (measured on the Clock), an earlier key arrives, or
    // shutdown; wake periodically anyway to refresh the longest-running gauge.
    Clock::Duration wait = kMetricsRefresh;
    if (!waiting_by_time_.empty()) {
      wait = std::clamp(waiting_by_time_.begin()->first - clock_.Now(), Clock::Duration::zero(),
                        Clock::Duration(kMetricsRefresh));
    }
    if (wait > Clock::Duration::zero()) timer_cv_.wait_for(lock, wait);
  }
}

}  // namespace kubabase::kube
