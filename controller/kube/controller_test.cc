#include "controller/kube/controller.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/kube/testing/fake_api_client.h"

namespace kubabase::kube {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;
using ::testing::UnorderedElementsAre;
using testing::FakeApiClient;
using testing::FakeObject;
using testing::ListPage;

// Real-time bound on waits for other threads; only a broken test ever reaches it.
constexpr auto kGuard = std::chrono::seconds(30);

std::vector<std::string> KeyStrings(const std::vector<ObjectKey>& keys) {
  std::vector<std::string> out;
  for (const ObjectKey& key : keys) out.push_back(key.ToString());
  return out;
}

TEST(ObjectKeyTest, RoundTripsNamespacedAndClusterScopedKeys) {
  EXPECT_EQ((ObjectKey{"shop", "web"}).ToString(), "shop/web");
  EXPECT_EQ((ObjectKey{"", "acme"}).ToString(), "acme");
  EXPECT_EQ(*ObjectKey::Parse("shop/web"), (ObjectKey{"shop", "web"}));
  EXPECT_EQ(*ObjectKey::Parse("acme"), (ObjectKey{"", "acme"}));
  for (const char* bad : {"", "/x", "x/", "a/b/c"}) {
    EXPECT_EQ(ObjectKey::Parse(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ActionTest, DoneAndRequeueAfterSayWhatComesNext) {
  EXPECT_FALSE(Action::Done().requeue());
  EXPECT_TRUE(Action::RequeueAfter(seconds(5)).requeue());
  EXPECT_EQ(Action::RequeueAfter(seconds(5)).requeue_after(), seconds(5));
}

TEST(MapperTest, MapToSelfKeysByNamespaceAndName) {
  EXPECT_THAT(KeyStrings(MapToSelf()(FakeObject("shop", "web", "1"))), ElementsAre("shop/web"));
  EXPECT_THAT(KeyStrings(MapToSelf()(FakeObject("", "acme", "1"))), ElementsAre("acme"));
  EXPECT_THAT(KeyStrings(MapToSelf()(Json::object())), IsEmpty());
  EXPECT_THAT(KeyStrings(MapToSelf()(Json("not an object"))), IsEmpty());
}

TEST(MapperTest, MapToOwnerFollowsOwnerReferencesOfTheGivenKind) {
  Json child = FakeObject("project-acme", "db", "1");
  child["metadata"]["ownerReferences"] = {
      {{"apiVersion", "kubabase.io/v1alpha1"}, {"kind", "Project"}, {"name", "acme"}},
      {{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", "rs-1"}}};
  EXPECT_THAT(KeyStrings(MapToOwner("Project", /*owner_cluster_scoped=*/true)(child)),
              ElementsAre("acme"));
  EXPECT_THAT(KeyStrings(MapToOwner("ReplicaSet")(child)), ElementsAre("project-acme/rs-1"));
  EXPECT_THAT(KeyStrings(MapToOwner("Deployment")(child)), IsEmpty());
  EXPECT_THAT(KeyStrings(MapToOwner("Project")(FakeObject("n", "orphan", "1"))), IsEmpty());
}

TEST(MapperTest, MapByLabelGivesTheClusterScopedKeyTheLabelNames) {
  Mapper map = MapByLabel("kubabase.io/project");
  EXPECT_THAT(KeyStrings(map(FakeObject("project-acme", "db", "1", {{"kubabase.io/project", "acme"}}))),
              ElementsAre("acme"));
  EXPECT_THAT(KeyStrings(map(FakeObject("n", "x", "1", {{"other", "acme"}}))), IsEmpty());
  EXPECT_THAT(KeyStrings(map(FakeObject("n", "x", "1", {{"kubabase.io/project", ""}}))), IsEmpty());
}

// Records reconciles; the test scripts each outcome.
class ControllerTest : public ::testing::Test {
 protected:
  ControllerOptions Options(int workers) {
    return {.name = "test",
            .workers = workers,
            .watch_initial_backoff = milliseconds(1),
            .watch_max_backoff = milliseconds(1),
            .clock = &clock_,
            .metrics = &metrics_,
            .queue_timer_thread = false};
  }
  std::vector<WatchSpec> Specs() {
    return {{.resource = Resource::ConfigMaps(), .mapper = MapToSelf(), .primary = true},
            {.resource = Resource::Secrets(),
             .label_selector = "app.kubernetes.io/managed-by=kubabase",
             .mapper = MapByLabel("kubabase.io/project")}};
  }
  ReconcileFunc Recorder() {
    return [this](const ObjectKey& key) -> StatusOr<Action> {
      {
        std::lock_guard lock(mu_);
        reconciled_.push_back(key.ToString());
        cv_.notify_all();
      }
      if (outcome_) return outcome_(key);  // unlocked: it may block (a gate)
      return Action::Done();
    };
  }
  bool WaitForReconciles(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kGuard, [&] { return reconciled_.size() >= n; });
  }
  std::vector<std::string> Reconciled() {
    std::lock_guard lock(mu_);
    return reconciled_;
  }
  // Drains the queue synchronously (workers = 0).
  std::vector<std::string> RunQueued(Controller& controller) {
    size_t before = Reconciled().size();
    while (controller.queue().Len() > 0) controller.ProcessNextItem();
    auto all = Reconciled();
    return std::vector<std::string>(all.begin() + static_cast<long>(before), all.end());
  }
  double Total(const std::string& result) {
    return metrics_.reconcile_total().Add({{"controller", "test"}, {"result", result}}).Value();
  }

  FakeClock clock_;
  Metrics metrics_;
  FakeApiClient api_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> reconciled_;
  std::function<StatusOr<Action>(const ObjectKey&)> outcome_;
};

TEST_F(ControllerTest, SuccessForgetsTheBackoffAndDoesNotRequeue) {
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.queue().AddRateLimited("ns/a");  // an earlier failure
  controller.Enqueue({"ns", "a"});
  EXPECT_TRUE(controller.ProcessNextItem());
  EXPECT_EQ(controller.queue().NumRequeues("ns/a"), 0);
  EXPECT_EQ(Total("success"), 1);
  EXPECT_THAT(Reconciled(), ElementsAre("ns/a"));
}

TEST_F(ControllerTest, ErrorRequeuesWithGrowingPerKeyBackoff) {
  outcome_ = [](const ObjectKey&) -> StatusOr<Action> { return UnavailableError("etcd down"); };
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Enqueue({"ns", "a"});
  controller.ProcessNextItem();
  EXPECT_EQ(controller.queue().NumRequeues("ns/a"), 1);
  EXPECT_EQ(controller.queue().Len(), 0);
  EXPECT_THAT(controller.queue().NextDue(), Optional(clock_.Now() + milliseconds(5)));
  clock_.Advance(milliseconds(5));
  controller.queue().ProcessDue();
  controller.ProcessNextItem();
  EXPECT_THAT(controller.queue().NextDue(), Optional(clock_.Now() + milliseconds(10)));
  EXPECT_EQ(Total("error"), 2);
  EXPECT_EQ(metrics_.reconcile_errors().Add({{"controller", "test"}}).Value(), 2);
}

TEST_F(ControllerTest, ErrorWithRetryAfterWaitsAtLeastThatLong) {
  outcome_ = [](const ObjectKey&) -> StatusOr<Action> {
    Status throttled = ResourceExhaustedError("too many requests");
    throttled.WithRetryAfter(seconds(7));
    return throttled;
  };
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Enqueue({"ns", "a"});
  controller.ProcessNextItem();
  EXPECT_THAT(controller.queue().NextDue(), Optional(clock_.Now() + seconds(7)));
}

TEST_F(ControllerTest, ErrorOnlyAHumanCanFixIsRetriedSlowly) {
  outcome_ = [](const ObjectKey&) -> StatusOr<Action> {
    return InvalidArgumentError("host already claimed by project other");
  };
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Enqueue({"", "acme"});
  controller.ProcessNextItem();
  EXPECT_THAT(controller.queue().NextDue(), Optional(clock_.Now() + seconds(30)));
}

TEST_F(ControllerTest, RequeueAfterForgetsTheBackoffAndRunsAgainAfterTheDelay) {
  outcome_ = [](const ObjectKey&) -> StatusOr<Action> { return Action::RequeueAfter(seconds(60)); };
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.queue().AddRateLimited("ns/a");
  controller.queue().AddRateLimited("ns/a");
  clock_.Advance(seconds(1));
  controller.queue().ProcessDue();
  controller.ProcessNextItem();
  EXPECT_EQ(controller.queue().NumRequeues("ns/a"), 0);
  EXPECT_THAT(controller.queue().NextDue(), Optional(clock_.Now() + seconds(60)));
  clock_.Advance(seconds(60));
  controller.queue().ProcessDue();
  EXPECT_EQ(controller.queue().Len(), 1);
  EXPECT_EQ(Total("requeue"), 1);
}

TEST_F(ControllerTest, ExceptionInReconcileBecomesAnErrorAndARequeue) {
  outcome_ = [](const ObjectKey&) -> StatusOr<Action> { throw std::runtime_error("boom"); };
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Enqueue({"ns", "a"});
  EXPECT_TRUE(controller.ProcessNextItem());
  EXPECT_EQ(controller.queue().NumRequeues("ns/a"), 1);
  EXPECT_EQ(Total("error"), 1);
}

TEST_F(ControllerTest, MalformedKeyIsDroppedWithoutReconciling) {
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.queue().Add("a/b/c");
  EXPECT_TRUE(controller.ProcessNextItem());
  EXPECT_THAT(Reconciled(), IsEmpty());
  EXPECT_EQ(controller.queue().WaitingLen(), 0);
}

TEST_F(ControllerTest, WatchEventsAreMappedToKeysAndTheCacheIsReadable) {
  api_.AddList(Resource::ConfigMaps(),
               ListPage({FakeObject("ns", "a", "1"), FakeObject("ns", "b", "1")}, "10"));
  api_.AddList(Resource::Secrets(),
               ListPage({FakeObject("project-acme", "keys", "2", {{"kubabase.io/project", "acme"}})},
                        "20"));
  auto secrets = api_.AddWatch(Resource::Secrets());
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Start();
  ASSERT_TRUE(controller.WaitForSync(kGuard));
  ASSERT_TRUE(api_.WaitForWatchCalls(2));  // both lists were handled: their keys are queued
  ASSERT_TRUE(secrets->WaitForNextCalls(1));

  EXPECT_THAT(RunQueued(controller), UnorderedElementsAre("ns/a", "ns/b", "acme"));
  ASSERT_NE(controller.Get(Resource::ConfigMaps(), "ns", "a"), nullptr);
  EXPECT_EQ(controller.Get(Resource::ConfigMaps(), "ns", "zzz"), nullptr);
  EXPECT_EQ(controller.ListByLabel(Resource::Secrets(), "kubabase.io/project", "acme").size(), 1u);
  EXPECT_EQ(controller.List(Resource::ConfigMaps(), "ns").size(), 2u);

  // A relabelled child: both the project it left and the one it joined are reconciled.
  secrets->Modified(FakeObject("project-acme", "keys", "3", {{"kubabase.io/project", "shop"}}));
  ASSERT_TRUE(secrets->WaitForNextCalls(2));  // the event was handled
  EXPECT_THAT(RunQueued(controller), UnorderedElementsAre("shop", "acme"));
  controller.Stop();
}

TEST_F(ControllerTest, ResyncRequeuesEveryPrimaryObjectButNotTheOthers) {
  api_.AddList(Resource::ConfigMaps(),
               ListPage({FakeObject("ns", "a", "1"), FakeObject("ns", "b", "1")}, "10"));
  api_.AddList(Resource::Secrets(),
               ListPage({FakeObject("p", "keys", "2", {{"kubabase.io/project", "acme"}})}, "20"));
  Controller controller(api_, Options(0), Specs(), Recorder());
  controller.Start();
  ASSERT_TRUE(controller.WaitForSync(kGuard));
  ASSERT_TRUE(api_.WaitForWatchCalls(2));
  RunQueued(controller);
  controller.Resync();
  EXPECT_THAT(RunQueued(controller), ElementsAre("ns/a", "ns/b"));
  controller.Stop();
}

TEST_F(ControllerTest, WorkersStartOnlyAfterEveryStoreHasSynced) {
  api_.AddList(Resource::ConfigMaps(), ListPage({FakeObject("ns", "a", "1")}, "10"));
  // Secrets: nothing scripted yet, so their list keeps failing and the cache stays unsynced.
  Controller controller(api_, Options(2), Specs(), Recorder());
  controller.Start();
  ASSERT_TRUE(api_.WaitForWatchCalls(1));  // configmaps listed, key queued
  EXPECT_FALSE(controller.HasSynced());
  EXPECT_EQ(controller.queue().Len(), 1) << "the key waits: no worker runs before sync";
  EXPECT_THAT(Reconciled(), IsEmpty());

  api_.AddList(Resource::Secrets(), ListPage({}, "20"));
  ASSERT_TRUE(WaitForReconciles(1));
  EXPECT_TRUE(controller.HasSynced());
  EXPECT_THAT(Reconciled(), ElementsAre("ns/a"));
  controller.Stop();
}

TEST_F(ControllerTest, StopWaitsForTheReconcileInFlightAndStopsTheWatchers) {
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<bool> finished{false};
  outcome_ = [&](const ObjectKey&) -> StatusOr<Action> {
    std::unique_lock lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
    finished = true;
    return Action::Done();
  };
  api_.AddList(Resource::ConfigMaps(), ListPage({FakeObject("ns", "a", "1")}, "10"));
  api_.AddList(Resource::Secrets(), ListPage({}, "20"));
  auto configmaps = api_.AddWatch(Resource::ConfigMaps());
  Controller controller(api_, Options(1), Specs(), Recorder());
  controller.Start();
  ASSERT_TRUE(WaitForReconciles(1));  // the worker is now inside the reconcile

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    controller.Stop();
    stopped = true;
  });
  ASSERT_TRUE(configmaps->WaitForNextCalls(1));
  while (!configmaps->cancelled()) std::this_thread::yield();  // Stop reached the watchers
  EXPECT_FALSE(stopped.load()) << "Stop must wait for the reconcile in flight";
  {
    std::lock_guard lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  stopper.join();
  EXPECT_TRUE(finished.load());
  EXPECT_TRUE(stopped.load());
}

// SIGTERM or a lost lease: another replica takes the queued keys over, so none of them may start
// here once Stop() began; only the reconcile in flight finishes.
TEST_F(ControllerTest, StopRunsNoQueuedKeyOnlyTheReconcileInFlight) {
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  outcome_ = [&](const ObjectKey&) -> StatusOr<Action> {
    std::unique_lock lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
    return Action::Done();
  };
  api_.AddList(Resource::ConfigMaps(),
               ListPage({FakeObject("ns", "a", "1"), FakeObject("ns", "b", "2"),
                         FakeObject("ns", "c", "3")},
                        "10"));
  api_.AddList(Resource::Secrets(), ListPage({}, "20"));
  auto configmaps = api_.AddWatch(Resource::ConfigMaps());
  Controller controller(api_, Options(1), Specs(), Recorder());
  controller.Start();
  ASSERT_TRUE(WaitForReconciles(1));  // the one worker is inside ns/a; ns/b and ns/c wait
  EXPECT_EQ(controller.queue().Len(), 2);

  std::thread stopper([&] { controller.Stop(); });
  ASSERT_TRUE(configmaps->WaitForNextCalls(1));
  while (!controller.queue().ShuttingDown()) std::this_thread::yield();  // Stop reached the queue
  {
    std::lock_guard lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  stopper.join();
  EXPECT_THAT(Reconciled(), ElementsAre("ns/a"));
  EXPECT_EQ(controller.queue().Len(), 0);
}

TEST_F(ControllerTest, StopWithoutStartIsHarmless) {
  Controller controller(api_, Options(2), Specs(), Recorder());
  controller.Stop();
  controller.Stop();
  EXPECT_FALSE(controller.HasSynced());
}

}  // namespace
}  // namespace kubabase::kube
