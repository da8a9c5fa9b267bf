#include "controller/kube/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace kubabase::kube {

RateLimiter::RateLimiter(double qps, int burst, const Clock* clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock->Now()) {}

void RateLimiter::RefillLocked(Clock::TimePoint now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

bool RateLimiter::TryAcquire() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mu_);
  RefillLocked(clock_->Now());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Clock::Duration RateLimiter::Reserve() {
  if (qps_ <= 0) return Clock::Duration::zero();
  std::lock_guard lock(mu_);
  RefillLocked(clock_->Now());
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::Duration::zero();
  // The debt is repaid at qps tokens per second; round up so the caller never goes early.
  auto wait = std::chrono::duration<double>(-tokens_ / qps_);
  return std::chrono::ceil<Clock::Duration>(wait);
}

void RateLimiter::Wait() {
  Clock::Duration delay = Reserve();
  if (delay > Clock::Duration::zero()) std::this_thread::sleep_for(delay);
}

}  // namespace kubabase::kube
