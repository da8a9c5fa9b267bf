// RateLimiter: a token bucket that paces requests to the apiserver (client-go's --kube-api-qps and
// --kube-api-burst): up to `burst` requests at once, then `qps` per second on average.
//
//   RateLimiter limiter(/*qps=*/20, /*burst=*/30, &RealClock::Get());
//   limiter.Wait();                        // blocks until this request may go
//   if (!limiter.TryAcquire()) Skip();     // never blocks
//
// The bucket starts full. Reserve() takes a token now, even one that has not been earned yet, and
// returns how long the caller must wait before using it; later callers queue behind it, so waits
// are first come, first served and computed from the Clock alone (deterministic in tests).
//
// Thread-safe.
#pragma once

#include <mutex>

#include "controller/base/clock.h"

namespace kubabase::kube {

class RateLimiter {
 public:
  // `qps` <= 0 disables limiting (every call is immediate). `burst` < 1 counts as 1.
  // `clock` must outlive the limiter.
  RateLimiter(double qps, int burst, const Clock* clock);

  // Takes a token if one is available now. Returns false (and takes nothing) otherwise.
  bool TryAcquire();

  // Takes a token and returns how long to wait before using it (zero when one was available).
  Clock::Duration Reserve();

  // Reserve(), then sleeps for the returned delay in real time.
  void Wait();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  // Adds the tokens earned since last_; requires mu_.
  void RefillLocked(Clock::TimePoint now);

  const double qps_;
  const int burst_;
  const Clock* const clock_;
  std::mutex mu_;
  double tokens_;               // may go negative: tokens promised to waiting callers
  Clock::TimePoint last_;       // when tokens_ was last brought up to date
};

}  // namespace kubabase::kube
