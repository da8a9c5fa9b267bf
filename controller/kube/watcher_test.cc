#include "controller/kube/watcher.h"

#include <chrono>
#include <string>
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
using testing::FakeApiClient;
using testing::FakeObject;
using testing::ListPage;

// Handler events as "ADDED ns/name rv" lines (UPDATED shows "old->new").
std::string Describe(const ObjectEvent& event) {
  switch (event.type) {
    case ObjectEvent::Type::kAdded:
      return "ADDED " + KeyOf(*event.object) + " " + ResourceVersionOf(*event.object);
    case ObjectEvent::Type::kUpdated:
      return "UPDATED " + KeyOf(*event.object) + " " + ResourceVersionOf(*event.old_object) +
             "->" + ResourceVersionOf(*event.object);
    case ObjectEvent::Type::kDeleted:
      return "DELETED " + KeyOf(*event.object) +
             (event.old_object != nullptr ? " cached" : " uncached");
  }
  return "?";
}

class WatcherTest : public ::testing::Test {
 protected:
  const Resource& configmaps_ = Resource::ConfigMaps();

  std::unique_ptr<Watcher> MakeWatcher(WatcherOptions options = {}) {
    options.resource = configmaps_;
    if (options.seed == 0) options.seed = 42;
    options.metrics = &metrics_;
    options.on_synced = [this] { ++synced_calls_; };
    return std::make_unique<Watcher>(api_, store_, options, [this](const ObjectEvent& event) {
      events_.push_back(Describe(event));
    });
  }
  // Lists {a:1, b:1, c:1} at resourceVersion 10 and opens the first watch.
  std::shared_ptr<testing::FakeWatchScript> ListAndOpenWatch(Watcher& watcher) {
    api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1"), FakeObject("ns", "b", "1"),
                                        FakeObject("ns", "c", "1")},
                                       "10"));
    auto stream = api_.AddWatch(configmaps_);
    EXPECT_EQ(watcher.Step(), Clock::Duration::zero());  // list
    EXPECT_EQ(watcher.Step(), Clock::Duration::zero());  // open watch
    events_.clear();
    return stream;
  }
  double Metric(prometheus::Family<prometheus::Counter>& family, prometheus::Labels labels) {
    return family.Add(labels).Value();
  }

  FakeApiClient api_;
  Store store_;
  Metrics metrics_;
  std::vector<std::string> events_;
  int synced_calls_ = 0;
};

TEST_F(WatcherTest, InitialListFollowsContinueTokensThenWatchesFromTheListVersion) {
  auto watcher = MakeWatcher({.label_selector = "app=x", .field_selector = "metadata.name!=z"});
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "3"), FakeObject("ns", "b", "4")}, "10",
                                     "token-1"));
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "c", "5")}, "10"));
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);
  EXPECT_FALSE(store_.HasSynced());

  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());

  auto lists = api_.list_calls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].options.limit, 500);
  EXPECT_EQ(lists[0].options.continue_token, "");
  EXPECT_EQ(lists[0].options.resource_version, "") << "a consistent read, paginated from etcd";
  EXPECT_EQ(lists[0].options.label_selector, "app=x");
  EXPECT_EQ(lists[0].options.field_selector, "metadata.name!=z");
  EXPECT_EQ(lists[1].options.continue_token, "token-1");
  EXPECT_TRUE(store_.HasSynced());
  EXPECT_EQ(synced_calls_, 1);
  EXPECT_THAT(store_.Keys(), ElementsAre("ns/a", "ns/b", "ns/c"));
  EXPECT_EQ((*store_.Get("ns", "a"))["kind"], "ConfigMap") << "list items get their kind back";
  EXPECT_EQ((*store_.Get("ns", "a"))["apiVersion"], "v1");
  EXPECT_THAT(events_, ElementsAre("ADDED ns/a 3", "ADDED ns/b 4", "ADDED ns/c 5"));
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kWatch);
  EXPECT_EQ(watcher->resource_version(), "10");

  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  auto watches = api_.watch_calls();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].options.resource_version, "10");
  EXPECT_TRUE(watches[0].options.allow_bookmarks);
  EXPECT_EQ(watches[0].options.label_selector, "app=x");
  EXPECT_EQ(watches[0].options.field_selector, "metadata.name!=z");
  EXPECT_GE(watches[0].options.timeout_seconds, 300);
  EXPECT_LE(watches[0].options.timeout_seconds, 600);
}

TEST_F(WatcherTest, WatchEventsUpdateTheStoreAndReportOldAndNewObjects) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->Added(FakeObject("ns", "d", "11"));
  stream->Modified(FakeObject("ns", "a", "12"));
  stream->Modified(FakeObject("ns", "a", "12"));  // a duplicate changes nothing
  stream->Deleted(FakeObject("ns", "b", "13"));
  stream->Deleted(FakeObject("ns", "never-cached", "14"));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(watcher->Step(), Clock::Duration::zero());

  EXPECT_THAT(events_, ElementsAre("ADDED ns/d 11", "UPDATED ns/a 1->12", "DELETED ns/b cached",
                                   "DELETED ns/never-cached uncached"));
  EXPECT_THAT(store_.Keys(), ElementsAre("ns/a", "ns/c", "ns/d"));
  EXPECT_EQ(ResourceVersionOf(*store_.Get("ns", "a")), "12");
  EXPECT_EQ(watcher->resource_version(), "14");
  EXPECT_EQ(Metric(metrics_.watch_events(), {{"resource", "configmaps"}, {"type", "MODIFIED"}}), 2);
  EXPECT_EQ(metrics_.cache_objects().Add({{"resource", "configmaps"}}).Value(), 3);
}

TEST_F(WatcherTest, BookmarksOnlyAdvanceTheResourceVersionAndTheNextWatchStartsThere) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->Bookmark("20");
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_THAT(events_, IsEmpty());
  EXPECT_EQ(store_.Size(), 3u);
  EXPECT_EQ(watcher->resource_version(), "20");

  stream->End(OutOfRangeError("watch closed by the server"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());  // re-open
  auto watches = api_.watch_calls();
  ASSERT_EQ(watches.size(), 2u);
  EXPECT_EQ(watches[1].options.resource_version, "20");
}

TEST_F(WatcherTest, ServerTimeoutRewatchesFromTheLastVersionAtOnceWithoutRelisting) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->Modified(FakeObject("ns", "a", "15"));
  stream->End(OutOfRangeError("server timeout"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero()) << "a normal end is not a failure";
  EXPECT_EQ(watcher->failures(), 0);
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(api_.list_calls().size(), 1u);
  ASSERT_EQ(api_.watch_calls().size(), 2u);
  EXPECT_EQ(api_.watch_calls()[1].options.resource_version, "15");
  EXPECT_EQ(watcher->watch_restarts(), 1);
  EXPECT_EQ(Metric(metrics_.watch_restarts(), {{"resource", "configmaps"}}), 1);
}

TEST_F(WatcherTest, GoneErrorEventRelistsAndReportsDeletionsButNotUnchangedObjects) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->ErrorEvent(410, "Expired", "too old resource version: 10 (50)");
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);

  // Between the lists: a unchanged, b modified, c deleted, d created.
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1"), FakeObject("ns", "b", "30"),
                                      FakeObject("ns", "d", "40")},
                                     "50"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  auto lists = api_.list_calls();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[1].options.resource_version, "") << "relist from the current state";
  EXPECT_THAT(events_, ElementsAre("ADDED ns/d 40", "UPDATED ns/b 1->30", "DELETED ns/c cached"));
  EXPECT_THAT(store_.Keys(), ElementsAre("ns/a", "ns/b", "ns/d"));
  EXPECT_EQ(watcher->resource_version(), "50");
  EXPECT_EQ(watcher->relists(), 1);
  EXPECT_EQ(Metric(metrics_.watch_relists(), {{"resource", "configmaps"}}), 1);
  EXPECT_EQ(synced_calls_, 2);

  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(api_.watch_calls().back().options.resource_version, "50");
}

TEST_F(WatcherTest, GoneWhenOpeningTheWatchRelists) {
  auto watcher = MakeWatcher();
  api_.AddList(configmaps_, ListPage({}, "10"));
  api_.AddWatchError(configmaps_, GoneError("too old resource version"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);
  EXPECT_EQ(watcher->failures(), 0);
}

TEST_F(WatcherTest, GoneAsTheStreamErrorRelists) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->End(GoneError("Expired"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);
}

TEST_F(WatcherTest, TooOldMessageWithoutA410CodeStillRelists) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->End(InternalError("too old resource version: 5 (9)"));
  watcher->Step();
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);
}

TEST_F(WatcherTest, DisconnectRewatchesFromTheLastVersionAfterABackoffWithoutRelisting) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->Modified(FakeObject("ns", "c", "17"));
  stream->End(UnavailableError("connection reset by peer"));
  watcher->Step();
  Clock::Duration backoff = watcher->Step();
  EXPECT_GE(backoff, milliseconds(400));
  EXPECT_LE(backoff, milliseconds(800));
  EXPECT_EQ(watcher->failures(), 1);
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kWatch);

  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(api_.list_calls().size(), 1u) << "a broken connection needs no relist";
  ASSERT_EQ(api_.watch_calls().size(), 2u);
  EXPECT_EQ(api_.watch_calls()[1].options.resource_version, "17");
  EXPECT_THAT(events_, ElementsAre("UPDATED ns/c 1->17"));
}

TEST_F(WatcherTest, ErrorEventOtherThanGoneBacksOffAndRewatches) {
  auto watcher = MakeWatcher();
  auto stream = ListAndOpenWatch(*watcher);
  stream->ErrorEvent(500, "InternalError", "etcd leader changed");
  EXPECT_GT(watcher->Step(), Clock::Duration::zero());
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kWatch);
  EXPECT_EQ(watcher->resource_version(), "10");
}

TEST_F(WatcherTest, BackoffDoublesFrom800MillisecondsAndIsCappedAt30Seconds) {
  auto watcher = MakeWatcher({.jitter = 0.0});
  api_.AddList(configmaps_, ListPage({}, "10"));
  watcher->Step();
  for (int i = 0; i < 9; ++i) api_.AddWatchError(configmaps_, UnavailableError("refused"));
  std::vector<Clock::Duration> delays;
  for (int i = 0; i < 9; ++i) delays.push_back(watcher->Step());
  EXPECT_THAT(delays, ElementsAre(milliseconds(800), milliseconds(1600), milliseconds(3200),
                                  milliseconds(6400), milliseconds(12800), milliseconds(25600),
                                  seconds(30), seconds(30), seconds(30)));
}

TEST_F(WatcherTest, JitteredBackoffStaysWithinItsBoundsAndTheCap) {
  auto watcher = MakeWatcher({.jitter = 0.5, .seed = 7});
  api_.AddList(configmaps_, ListPage({}, "10"));
  watcher->Step();
  Clock::Duration nominal = milliseconds(800);
  bool any_jittered = false;
  for (int i = 0; i < 30; ++i) {
    api_.AddWatchError(configmaps_, UnavailableError("refused"));
    Clock::Duration delay = watcher->Step();
    EXPECT_LE(delay, nominal);
    EXPECT_GE(delay, nominal / 2);
    if (delay != nominal) any_jittered = true;
    nominal = std::min<Clock::Duration>(nominal * 2, seconds(30));
  }
  EXPECT_TRUE(any_jittered);
}

TEST_F(WatcherTest, BackoffResetsOnceAnEventArrives) {
  auto watcher = MakeWatcher({.jitter = 0.0});
  api_.AddList(configmaps_, ListPage({}, "10"));
  watcher->Step();
  for (int i = 0; i < 4; ++i) api_.AddWatchError(configmaps_, UnavailableError("refused"));
  for (int i = 0; i < 4; ++i) watcher->Step();
  EXPECT_EQ(watcher->failures(), 4);
  auto stream = api_.AddWatch(configmaps_);
  stream->Bookmark("11");
  stream->End(UnavailableError("reset"));
  watcher->Step();  // open
  watcher->Step();  // bookmark
  EXPECT_EQ(watcher->failures(), 0);
  EXPECT_EQ(watcher->Step(), milliseconds(800));
}

TEST_F(WatcherTest, FailedListIsRetriedAfterABackoff) {
  auto watcher = MakeWatcher({.jitter = 0.0});
  api_.AddList(configmaps_, UnavailableError("connection refused"));
  EXPECT_EQ(watcher->Step(), milliseconds(800));
  EXPECT_EQ(watcher->phase(), Watcher::Phase::kList);
  EXPECT_FALSE(store_.HasSynced());
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1")}, "10"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_TRUE(store_.HasSynced());
}

TEST_F(WatcherTest, ExpiredContinueTokenRestartsTheListFromTheFirstPage) {
  auto watcher = MakeWatcher();
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1")}, "10", "token-1"));
  api_.AddList(configmaps_, GoneError("continue token expired"));
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero());
  EXPECT_FALSE(store_.HasSynced()) << "half a list is never stored";
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "2")}, "20"));
  watcher->Step();
  EXPECT_EQ(api_.list_calls().back().options.continue_token, "");
  EXPECT_TRUE(store_.HasSynced());
  EXPECT_EQ(watcher->resource_version(), "20");
}

TEST_F(WatcherTest, StopUnblocksAWatchWaitingForEvents) {
  auto watcher = MakeWatcher();
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1")}, "10"));
  auto stream = api_.AddWatch(configmaps_);  // never delivers anything
  watcher->Start();
  ASSERT_TRUE(stream->WaitForNextCalls(1)) << "the watcher should be blocked reading the stream";
  watcher->Stop();  // must return although Next() was blocked
  EXPECT_TRUE(stream->cancelled());
  EXPECT_EQ(watcher->Step(), Clock::Duration::zero()) << "a stopped watcher does nothing";
  EXPECT_EQ(api_.watch_calls().size(), 1u);
}

TEST_F(WatcherTest, StopBeforeStartIsHarmless) {
  auto watcher = MakeWatcher();
  watcher->Stop();
  watcher->Stop();
  EXPECT_TRUE(api_.list_calls().empty());
}

TEST_F(WatcherTest, TransformAppliesToWatchedAndDeletedObjects) {
  Store secrets(ChainTransforms(DefaultTransform(), KeepSecretValues({})));
  std::vector<ObjectPtr> deleted;
  Watcher watcher(api_, secrets, {.resource = Resource::Secrets(), .seed = 1},
                  [&](const ObjectEvent& event) {
                    if (event.type == ObjectEvent::Type::kDeleted) deleted.push_back(event.object);
                  });
  api_.AddList(Resource::Secrets(), ListPage({}, "1"));
  auto stream = api_.AddWatch(Resource::Secrets());
  Json secret = FakeObject("ns", "s", "2");
  secret["data"] = {{"password", "aHVudGVyMg=="}};
  secret["metadata"]["managedFields"] = Json::array();
  stream->Added(secret);
  stream->Deleted(secret);
  for (int i = 0; i < 4; ++i) watcher.Step();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ((*deleted[0])["data"]["password"], "");
  EXPECT_FALSE((*deleted[0])["metadata"].contains("managedFields"));
  EXPECT_EQ((*deleted[0])["kind"], "Secret");
}

TEST_F(WatcherTest, ObjectsTheFilterRefusesAreDroppedFromListsAndEventsAndCounted) {
  // As the project controller's watches: only what sits in namespace "ours" is held.
  Store ours(DefaultTransform(), [](const Json& object) {
    return object["metadata"].value("namespace", "") == "ours";
  });
  Watcher watcher(api_, ours, {.resource = configmaps_, .seed = 1, .metrics = &metrics_},
                  [this](const ObjectEvent& event) { events_.push_back(Describe(event)); });
  Json big = FakeObject("kube-system", "big-1", "1");
  big["data"] = {{"blob", std::string(100000, 'x')}};
  Json big2 = big;
  big2["metadata"]["name"] = "big-2";
  // Two pages: the refused objects of the first are not held while the second is fetched.
  api_.AddList(configmaps_, ListPage({big, FakeObject("ours", "a", "1")}, "10", "next"));
  api_.AddList(configmaps_, ListPage({big2, FakeObject("ours", "b", "1")}, "10"));
  auto stream = api_.AddWatch(configmaps_);
  EXPECT_EQ(watcher.Step(), Clock::Duration::zero());  // list (both pages)
  EXPECT_THAT(ours.Keys(), ElementsAre("ours/a", "ours/b"));
  EXPECT_THAT(events_, ElementsAre("ADDED ours/a 1", "ADDED ours/b 1"));
  events_.clear();

  EXPECT_EQ(watcher.Step(), Clock::Duration::zero());  // open watch
  Json big3 = big;
  big3["metadata"]["name"] = "big-3";
  big3["metadata"]["resourceVersion"] = "11";
  stream->Added(big3);
  big3["metadata"]["resourceVersion"] = "12";
  stream->Modified(big3);
  stream->Deleted(big3);
  stream->Added(FakeObject("ours", "c", "13"));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(watcher.Step(), Clock::Duration::zero());

  EXPECT_THAT(events_, ElementsAre("ADDED ours/c 13")) << "the handler never hears of them";
  EXPECT_THAT(ours.Keys(), ElementsAre("ours/a", "ours/b", "ours/c"));
  EXPECT_EQ(watcher.resource_version(), "13") << "their events still advance the watch";
  EXPECT_EQ(Metric(metrics_.cache_ignored(), {{"resource", "configmaps"}}), 5);
  EXPECT_EQ(metrics_.cache_objects().Add({{"resource", "configmaps"}}).Value(), 3);
}

TEST_F(WatcherTest, AnObjectThatStopsQualifyingIsReportedDeleted) {
  Store ours(DefaultTransform(), [](const Json& object) {
    return object["metadata"].contains("labels") &&
           object["metadata"]["labels"].value("mine", "") == "yes";
  });
  Watcher watcher(api_, ours, {.resource = configmaps_, .seed = 1},
                  [this](const ObjectEvent& event) { events_.push_back(Describe(event)); });
  api_.AddList(configmaps_, ListPage({FakeObject("ns", "a", "1", {{"mine", "yes"}})}, "10"));
  auto stream = api_.AddWatch(configmaps_);
  watcher.Step();
  watcher.Step();
  stream->Modified(FakeObject("ns", "a", "2", {{"mine", "no"}}));
  watcher.Step();
  EXPECT_THAT(events_, ElementsAre("ADDED ns/a 1", "DELETED ns/a cached"));
  EXPECT_EQ(ours.Size(), 0u);
}

}  // namespace
}  // namespace kubabase::kube
