// Clock: the only way kubabase code reads time, so tests can move it by hand.
//
//   RealClock clock;                 // production
//   FakeClock fake(start);           // tests
//   fake.Advance(std::chrono::seconds(5));
//
// Steady time (Now) drives timers, backoff and lease renewal; wall time (WallNow) is only for
// timestamps written to the API (Events, Lease renewTime, conditions' lastTransitionTime).
// Both implementations are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kubabase {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;
  using WallTime = std::chrono::system_clock::time_point;

  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  virtual WallTime WallNow() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance; never destroyed.
  static RealClock& Get();
};

// A clock that moves only when told. Advance() is visible to every thread at once.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint{} + std::chrono::hours(1),
                     WallTime wall_start = WallTime{} + std::chrono::hours(24 * 365 * 56))
      : now_(start), wall_(wall_start) {}

  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  WallTime WallNow() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_;
  WallTime wall_;
};

}  // namespace kubabase
