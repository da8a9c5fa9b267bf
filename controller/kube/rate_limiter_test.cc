#include "controller/kube/rate_limiter.h"

#include <chrono>

#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, AllowsABurstThenRefusesUntilATokenIsEarned) {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/10, /*burst=*/3, &clock);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
  clock.Advance(milliseconds(99));
  EXPECT_FALSE(limiter.TryAcquire());
  clock.Advance(milliseconds(1));  // 100 ms at 10 qps earns one token
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

TEST(RateLimiterTest, ReserveQueuesCallersAtOneIntervalEach) {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/5, /*burst=*/2, &clock);
  EXPECT_EQ(limiter.Reserve(), Clock::Duration::zero());
  EXPECT_EQ(limiter.Reserve(), Clock::Duration::zero());
  EXPECT_EQ(limiter.Reserve(), milliseconds(200));
  EXPECT_EQ(limiter.Reserve(), milliseconds(400));
  EXPECT_EQ(limiter.Reserve(), milliseconds(600));
  // Time passing repays the debt: 400 ms later the next caller waits 600 - 400 + 200.
  clock.Advance(milliseconds(400));
  EXPECT_EQ(limiter.Reserve(), milliseconds(400));
  EXPECT_FALSE(limiter.TryAcquire());  // tokens promised to waiting callers are not free
}

TEST(RateLimiterTest, TheBucketNeverHoldsMoreThanBurst) {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/100, /*burst=*/2, &clock);
  clock.Advance(std::chrono::hours(1));
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

TEST(RateLimiterTest, NonPositiveQpsMeansUnlimited) {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/0, /*burst=*/1, &clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.TryAcquire());
  EXPECT_EQ(limiter.Reserve(), Clock::Duration::zero());
}

TEST(RateLimiterTest, BurstBelowOneCountsAsOne) {
  FakeClock clock;
  RateLimiter limiter(/*qps=*/1, /*burst=*/0, &clock);
  EXPECT_EQ(limiter.burst(), 1);
  EXPECT_TRUE(limiter.TryAcquire());
  EXPECT_FALSE(limiter.TryAcquire());
}

TEST(RateLimiterTest, WaitReturnsAtOnceWhileTokensRemain) {
  FakeClock clock;  // Wait() sleeps only for a positive delay; a full bucket has none
  RateLimiter limiter(/*qps=*/1, /*burst=*/2, &clock);
  limiter.Wait();
  limiter.Wait();
  EXPECT_FALSE(limiter.TryAcquire());
}

}  // namespace
}  // namespace kubabase::kube
