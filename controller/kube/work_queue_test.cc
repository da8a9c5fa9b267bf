#include "controller/kube/work_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::Optional;

// A FakeClock-driven queue with no timer thread: time moves only through Advance + ProcessDue.
class WorkQueueTest : public ::testing::Test {
 protected:
  WorkQueueOptions Options() {
    return {.name = "test", .clock = &clock_, .metrics = &metrics_, .timer_thread = false};
  }
  double Gauge(prometheus::Family<prometheus::Gauge>& family) {
    return family.Add({{"name", "test"}}).Value();
  }
  double Counter(prometheus::Family<prometheus::Counter>& family) {
    return family.Add({{"name", "test"}}).Value();
  }

  FakeClock clock_;
  Metrics metrics_;
};

TEST_F(WorkQueueTest, KeyAddedManyTimesIsHandedOutOnce) {
  WorkQueue queue(Options());
  queue.Add("ns/a");
  queue.Add("ns/a");
  queue.Add("ns/b");
  queue.Add("ns/a");
  EXPECT_EQ(queue.Len(), 2);
  EXPECT_THAT(queue.Get(), Optional(std::string("ns/a")));
  EXPECT_THAT(queue.Get(), Optional(std::string("ns/b")));
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_EQ(Counter(metrics_.queue_adds()), 2);
}

TEST_F(WorkQueueTest, KeyAddedWhileProcessingIsNotHandedToASecondWorkerButRunsAfterDone) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_THAT(queue.Get(), Optional(std::string("a")));
  queue.Add("a");
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 0) << "a key being processed must not be queued for another worker";
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1);
  EXPECT_THAT(queue.Get(), Optional(std::string("a")));
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0);
}

TEST_F(WorkQueueTest, KeyDoneWithoutReAddIsNotQueuedAgain) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_TRUE(queue.Get().has_value());
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_EQ(queue.ProcessingLen(), 0);
}

TEST_F(WorkQueueTest, ConcurrentWorkersNeverHoldTheSameKeyAtOnce) {
  WorkQueue queue({.clock = &clock_, .timer_thread = false});
  std::atomic<int> in_flight_a{0};
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.Get()) {
        if (*key == "a") {
          if (in_flight_a.fetch_add(1) != 0) overlap = true;
          std::this_thread::yield();
          queue.Add("b");
          in_flight_a.fetch_sub(1);
        }
        ++processed;
        queue.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) queue.Add("a");
  queue.ShutDownWithDrain();
  for (auto& worker : workers) worker.join();
  EXPECT_FALSE(overlap);
  EXPECT_GT(processed.load(), 0);
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_EQ(queue.ProcessingLen(), 0);
}

TEST_F(WorkQueueTest, AddAfterQueuesOnlyOnceTheDelayHasPassedOnTheClock) {
  WorkQueue queue(Options());
  queue.AddAfter("a", seconds(10));
  EXPECT_EQ(queue.WaitingLen(), 1);
  EXPECT_EQ(queue.ProcessDue(), 0);
  clock_.Advance(seconds(9));
  EXPECT_EQ(queue.ProcessDue(), 0);
  EXPECT_EQ(queue.Len(), 0);
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue.ProcessDue(), 1);
  EXPECT_EQ(queue.Len(), 1);
  EXPECT_EQ(queue.WaitingLen(), 0);
}

TEST_F(WorkQueueTest, AddAfterKeepsTheEarliestTime) {
  WorkQueue queue(Options());
  queue.AddAfter("a", seconds(10));
  queue.AddAfter("a", seconds(3));
  queue.AddAfter("a", seconds(60));
  EXPECT_EQ(queue.WaitingLen(), 1);
  EXPECT_THAT(queue.NextDue(), Optional(clock_.Now() + seconds(3)));
  clock_.Advance(seconds(3));
  EXPECT_EQ(queue.ProcessDue(), 1);
  clock_.Advance(seconds(100));
  EXPECT_EQ(queue.ProcessDue(), 0) << "the later times were superseded, not kept";
}

TEST_F(WorkQueueTest, AddAfterWithoutDelayAddsAtOnce) {
  WorkQueue queue(Options());
  queue.AddAfter("a", seconds(0));
  EXPECT_EQ(queue.Len(), 1);
  EXPECT_EQ(queue.WaitingLen(), 0);
}

TEST_F(WorkQueueTest, DueKeysAreQueuedInDueOrder) {
  WorkQueue queue(Options());
  queue.AddAfter("late", seconds(3));
  queue.AddAfter("early", seconds(1));
  queue.AddAfter("middle", seconds(2));
  clock_.Advance(seconds(5));
  EXPECT_EQ(queue.ProcessDue(), 3);
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) order.push_back(*queue.Get());
  EXPECT_THAT(order, ElementsAre("early", "middle", "late"));
}

TEST_F(WorkQueueTest, RateLimitedBackoffDoublesFromFiveMillisecondsUpToTheCap) {
  WorkQueue queue(Options());
  std::vector<Clock::Duration> delays;
  for (int i = 0; i < 5; ++i) delays.push_back(queue.AddRateLimited("a"));
  EXPECT_THAT(delays, ElementsAre(milliseconds(5), milliseconds(10), milliseconds(20),
                                  milliseconds(40), milliseconds(80)));
  EXPECT_EQ(queue.NumRequeues("a"), 5);
  for (int i = 0; i < 100; ++i) queue.AddRateLimited("a");
  EXPECT_EQ(queue.NextBackoff("a"), seconds(1000)) << "capped at 1000 s, with no overflow";
  EXPECT_EQ(Counter(metrics_.queue_retries()), 105);
}

TEST_F(WorkQueueTest, BackoffIsPerKeyAndForgetResetsIt) {
  WorkQueue queue(Options());
  queue.AddRateLimited("a");
  queue.AddRateLimited("a");
  queue.AddRateLimited("a");
  EXPECT_EQ(queue.NextBackoff("a"), milliseconds(40));
  EXPECT_EQ(queue.NextBackoff("b"), milliseconds(5));
  queue.Forget("a");
  EXPECT_EQ(queue.NumRequeues("a"), 0);
  EXPECT_EQ(queue.AddRateLimited("a"), milliseconds(5));
}

TEST_F(WorkQueueTest, BackoffBaseAndCapAreConfigurable) {
  WorkQueueOptions options = Options();
  options.base_delay = seconds(1);
  options.max_delay = seconds(5);
  WorkQueue queue(options);
  std::vector<Clock::Duration> delays;
  for (int i = 0; i < 5; ++i) delays.push_back(queue.AddRateLimited("a"));
  EXPECT_THAT(delays, ElementsAre(seconds(1), seconds(2), seconds(4), seconds(5), seconds(5)));
}

TEST_F(WorkQueueTest, RateLimitedAddHonoursALongerMinimumSuchAsRetryAfter) {
  WorkQueue queue(Options());
  EXPECT_EQ(queue.AddRateLimited("a", seconds(7)), seconds(7));
  EXPECT_THAT(queue.NextDue(), Optional(clock_.Now() + seconds(7)));
  EXPECT_EQ(queue.NumRequeues("a"), 1);
}

TEST_F(WorkQueueTest, RateLimitedKeyBecomesAvailableAfterItsBackoff) {
  WorkQueue queue(Options());
  queue.AddRateLimited("a");
  EXPECT_EQ(queue.Len(), 0);
  clock_.Advance(milliseconds(4));
  queue.ProcessDue();
  EXPECT_EQ(queue.Len(), 0);
  clock_.Advance(milliseconds(1));
  queue.ProcessDue();
  EXPECT_EQ(queue.Len(), 1);
}

TEST_F(WorkQueueTest, ShutDownIgnoresNewKeysAndEndsGetOnceTheQueueIsEmpty) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.AddAfter("later", seconds(1));
  queue.ShutDown();
  EXPECT_TRUE(queue.ShuttingDown());
  queue.Add("b");
  queue.AddAfter("c", seconds(1));
  EXPECT_THAT(queue.Get(), Optional(std::string("a"))) << "queued keys are still handed out";
  EXPECT_EQ(queue.Get(), std::nullopt);
  EXPECT_EQ(queue.WaitingLen(), 0);
  clock_.Advance(seconds(5));
  EXPECT_EQ(queue.ProcessDue(), 0);
}

TEST_F(WorkQueueTest, ShutDownNowDropsTheQueuedKeysAndTheOnesReaddedWhileRunning) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.Add("b");
  ASSERT_THAT(queue.Get(), Optional(std::string("a")));
  queue.Add("a");  // dirty: would run again after Done
  queue.ShutDownNow();
  EXPECT_EQ(queue.Len(), 0);
  EXPECT_EQ(queue.Get(), std::nullopt) << "no queued key is handed out any more";
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0) << "nor the one re-added while it ran";
  EXPECT_EQ(queue.Get(), std::nullopt);
  EXPECT_EQ(queue.ProcessingLen(), 0);
}

TEST_F(WorkQueueTest, ShutDownWakesAWorkerBlockedInGet) {
  WorkQueue queue(Options());
  std::promise<std::optional<std::string>> got;
  std::thread worker([&] { got.set_value(queue.Get()); });
  queue.ShutDown();
  worker.join();
  EXPECT_EQ(got.get_future().get(), std::nullopt);
}

TEST_F(WorkQueueTest, GetBlocksUntilAKeyIsAdded) {
  WorkQueue queue(Options());
  std::promise<std::optional<std::string>> got;
  auto future = got.get_future();
  std::thread worker([&] { got.set_value(queue.Get()); });
  queue.Add("a");
  worker.join();
  EXPECT_THAT(future.get(), Optional(std::string("a")));
}

TEST_F(WorkQueueTest, ShutDownWithDrainWaitsForTheKeyInFlight) {
  WorkQueue queue(Options());
  queue.Add("a");
  ASSERT_TRUE(queue.Get().has_value());
  std::atomic<bool> drained{false};
  std::thread stopper([&] {
    queue.ShutDownWithDrain();
    drained = true;
  });
  // Once the shutdown has begun, the drain must still be waiting: "a" is in flight.
  while (!queue.ShuttingDown()) std::this_thread::yield();
  EXPECT_FALSE(drained.load());
  EXPECT_EQ(queue.ProcessingLen(), 1);
  queue.Done("a");
  stopper.join();
  EXPECT_TRUE(drained.load());
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST_F(WorkQueueTest, MetricsTrackDepthAndLongestRunning) {
  WorkQueue queue(Options());
  queue.Add("a");
  queue.Add("b");
  EXPECT_EQ(Gauge(metrics_.queue_depth()), 2);
  ASSERT_TRUE(queue.Get().has_value());
  EXPECT_EQ(Gauge(metrics_.queue_depth()), 1);
  clock_.Advance(seconds(3));
  EXPECT_EQ(queue.LongestRunning(), seconds(3));
  queue.Add("c");  // any change refreshes the gauges
  EXPECT_DOUBLE_EQ(Gauge(metrics_.queue_longest_running()), 3.0);
  queue.Done("a");
  EXPECT_EQ(queue.LongestRunning(), Clock::Duration::zero());
  EXPECT_DOUBLE_EQ(Gauge(metrics_.queue_longest_running()), 0.0);
}

TEST_F(WorkQueueTest, QueueWorksWithoutMetrics) {
  WorkQueue queue({.clock = &clock_, .metrics = nullptr, .timer_thread = false});
  queue.Add("a");
  queue.AddRateLimited("b");
  EXPECT_EQ(queue.Len(), 1);
}

TEST(WorkQueueTimerTest, TimerThreadQueuesADueKeyOnTheRealClock) {
  // The one test on real time: the timer thread itself. The delay is zero-length in effect
  // (1 ns) so the test waits only for the thread's wake-up, not for a duration.
  WorkQueue queue({.name = "timer"});
  queue.AddAfter("a", std::chrono::nanoseconds(1));
  EXPECT_THAT(queue.Get(), Optional(std::string("a")));
  queue.Done("a");
}

}  // namespace
}  // namespace kubabase::kube
