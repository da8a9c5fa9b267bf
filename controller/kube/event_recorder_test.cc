#include "controller/kube/event_recorder.h"

#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/base/clock.h"
#include "controller/kube/testing/unimplemented_api_client.h"

namespace kubabase::kube {
namespace {

using ::testing::MatchesRegex;
using std::chrono::minutes;
using std::chrono::seconds;

// Stores Events by namespace/name; MergePatch merges top-level fields. What the apiserver accepts
// is proven in tests/integration/events_recorder_test.cc.
class FakeEventsClient : public testing::UnimplementedApiClient {
 public:
  StatusOr<Json> Create(const Resource& resource, std::string_view ns, const Json& object) override {
    EXPECT_EQ(resource.resource, "events");
    ++creates;
    if (!fail.ok()) return fail;
    const std::string key = std::string(ns) + "/" + object["metadata"]["name"].get<std::string>();
    if (events.count(key)) return AlreadyExistsError("events already exists");
    events[key] = object;
    order.push_back(key);
    return object;
  }
  StatusOr<Json> MergePatch(const Resource& resource, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view) override {
    ++patches;
    if (!fail.ok()) return fail;
    auto it = events.find(std::string(ns) + "/" + std::string(name));
    if (it == events.end()) return NotFoundError("events not found");
    it->second.merge_patch(patch);
    return it->second;
  }

  const Json& Last() const { return events.at(order.back()); }

  std::map<std::string, Json> events;
  std::vector<std::string> order;
  Status fail;
  int creates = 0, patches = 0;
};

ObjectReference Deployment(const std::string& name) {
  return {.api_version = "apps/v1", .kind = "Deployment", .namespace_ = "shop", .name = name,
          .uid = "uid-" + name, .resource_version = "7"};
}

ObjectReference ClusterScoped() {
  return {.api_version = "example.io/v1", .kind = "Widget", .namespace_ = "", .name = "w1",
          .uid = "uid-w1", .resource_version = ""};
}

class EventRecorderTest : public ::testing::Test {
 protected:
  static EventRecorderOptions Options() {
    EventRecorderOptions options;
    options.reporting_instance = "op-1";
    return options;
  }
  EventRecorderTest() : recorder_(client_, clock_, Options(), &metrics_) {}

  double Posted(const std::string& result) {
    return metrics_.events_posted().Add({{"result", result}}).Value();
  }

  FakeEventsClient client_;
  FakeClock clock_;
  Metrics metrics_;
  EventRecorder recorder_;
};

TEST_F(EventRecorderTest, PostsAnEventWithEveryFieldTheApiserverRequires) {
  recorder_.Warning(Deployment("web"), "ApplyFailed", "server-side apply was rejected");
  EXPECT_EQ(client_.creates, 0) << "Record only queues";
  EXPECT_EQ(recorder_.PostQueued(), 1u);

  ASSERT_EQ(client_.events.size(), 1u);
  const Json& e = client_.Last();
  EXPECT_EQ(e["apiVersion"], "v1");
  EXPECT_EQ(e["kind"], "Event");
  EXPECT_EQ(e["metadata"]["namespace"], "shop");
  EXPECT_THAT(e["metadata"]["name"].get<std::string>(), MatchesRegex("web\\.[0-9a-f]+"));
  EXPECT_EQ(e["involvedObject"],
            (Json{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "web"},
                  {"namespace", "shop"}, {"uid", "uid-web"}, {"resourceVersion", "7"}}));
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "ApplyFailed");
  EXPECT_EQ(e["action"], "ApplyFailed");
  EXPECT_EQ(e["message"], "server-side apply was rejected");
  EXPECT_EQ(e["source"]["component"], "kubabase");
  EXPECT_EQ(e["reportingComponent"], "kubabase");
  EXPECT_EQ(e["reportingInstance"], "op-1");
  EXPECT_EQ(e["count"], 1);
  EXPECT_THAT(e["firstTimestamp"].get<std::string>(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"));
  EXPECT_EQ(e["lastTimestamp"], e["firstTimestamp"]);
  EXPECT_THAT(e["eventTime"].get<std::string>(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z"));
  EXPECT_EQ(Posted("created"), 1);
}

TEST_F(EventRecorderTest, EventsAboutClusterScopedObjectsGoToTheDefaultNamespace) {
  recorder_.Normal(ClusterScoped(), "Provisioned", "ready");
  recorder_.PostQueued();
  const Json& e = client_.Last();
  EXPECT_EQ(e["metadata"]["namespace"], "default");
  EXPECT_FALSE(e["involvedObject"].contains("namespace"));
}

TEST(EventRecorderNamespaceTest, TheNamespaceForClusterScopedObjectsIsConfigurable) {
  FakeEventsClient client;
  FakeClock clock;
  EventRecorderOptions options;
  options.cluster_scoped_namespace = "kube-system";
  EventRecorder recorder(client, clock, options);
  recorder.Normal(ClusterScoped(), "Provisioned", "ready");
  recorder.PostQueued();
  EXPECT_EQ(client.Last()["metadata"]["namespace"], "kube-system");
}

TEST_F(EventRecorderTest, ARepeatWithinTenMinutesPatchesCountAndLastTimestamp) {
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();
  const std::string first = client_.Last()["firstTimestamp"];
  clock_.Advance(minutes(9));
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  clock_.Advance(minutes(9));  // 18 min after the first, 9 after the last: still a repeat
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();

  EXPECT_EQ(client_.creates, 1);
  EXPECT_EQ(client_.patches, 2);
  ASSERT_EQ(client_.events.size(), 1u);
  const Json& e = client_.Last();
  EXPECT_EQ(e["count"], 3);
  EXPECT_EQ(e["firstTimestamp"], first);
  EXPECT_GT(e["lastTimestamp"].get<std::string>(), first);
  EXPECT_EQ(Posted("updated"), 2);
}

TEST_F(EventRecorderTest, ADifferentObjectTypeReasonOrMessageIsANewEvent) {
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  clock_.Advance(seconds(1));
  recorder_.Warning(Deployment("api"), "ApplyFailed", "rejected");
  clock_.Advance(seconds(1));
  recorder_.Normal(Deployment("web"), "ApplyFailed", "rejected");
  clock_.Advance(seconds(1));
  recorder_.Warning(Deployment("web"), "Conflict", "rejected");
  clock_.Advance(seconds(1));
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected again");
  recorder_.PostQueued();
  EXPECT_EQ(client_.creates, 5);
  EXPECT_EQ(client_.patches, 0);
}

TEST_F(EventRecorderTest, ARepeatAfterTheWindowCreatesANewEvent) {
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();
  clock_.Advance(minutes(10));
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();
  EXPECT_EQ(client_.creates, 2);
  EXPECT_EQ(client_.events.size(), 2u);
}

TEST_F(EventRecorderTest, AnEventThatExpiredIsCreatedAgainInsteadOfPatched) {
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();
  client_.events.clear();  // the apiserver's event TTL removed it
  clock_.Advance(minutes(1));
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  recorder_.PostQueued();
  EXPECT_EQ(client_.patches, 1);
  EXPECT_EQ(client_.creates, 2);
  ASSERT_EQ(client_.events.size(), 1u);
  EXPECT_EQ(client_.Last()["count"], 1);
}

TEST_F(EventRecorderTest, RateLimitsEachObjectWithABurstOf25AndOneTokenPerFiveMinutes) {
  for (int i = 0; i < 30; ++i) {
    recorder_.Normal(Deployment("web"), "Step", "message " + std::to_string(i));
  }
  recorder_.Normal(Deployment("api"), "Step", "another object has its own bucket");
  EXPECT_EQ(recorder_.queued(), 26u);
  EXPECT_EQ(Posted("throttled"), 5);

  clock_.Advance(minutes(5) - seconds(1));
  recorder_.Normal(Deployment("web"), "Step", "still throttled");
  clock_.Advance(seconds(1));
  recorder_.Normal(Deployment("web"), "Step", "one token back");
  recorder_.Normal(Deployment("web"), "Step", "and spent");
  EXPECT_EQ(recorder_.queued(), 27u);
  EXPECT_EQ(Posted("throttled"), 7);
}

TEST(EventRecorderQueueTest, AFullQueueDropsWithoutBlocking) {
  FakeEventsClient client;
  FakeClock clock;
  Metrics metrics;
  EventRecorderOptions options;
  options.queue_capacity = 2;
  EventRecorder recorder(client, clock, options, &metrics);
  recorder.Normal(Deployment("a"), "R", "1");
  recorder.Normal(Deployment("b"), "R", "2");
  recorder.Normal(Deployment("c"), "R", "3");
  EXPECT_EQ(recorder.queued(), 2u);
  EXPECT_EQ(metrics.events_posted().Add({{"result", "dropped"}}).Value(), 1);
}

TEST_F(EventRecorderTest, TruncatesLongMessagesToOneKibibyteOnACharacterBoundary) {
  std::string message(1023, 'x');
  message += "\xC3\xA9";  // 'é' straddles byte 1024
  message += std::string(500, 'y');
  recorder_.Warning(Deployment("web"), "Long", message);
  recorder_.PostQueued();
  const std::string stored = client_.Last()["message"];
  EXPECT_EQ(stored, std::string(1023, 'x'));
}

TEST_F(EventRecorderTest, AFailedPostIsCountedAndNeverSurfaces) {
  client_.fail = UnavailableError("apiserver down");
  recorder_.Warning(Deployment("web"), "ApplyFailed", "rejected");
  EXPECT_EQ(recorder_.PostQueued(), 1u);
  EXPECT_EQ(Posted("failed"), 1);
  EXPECT_EQ(recorder_.queued(), 0u) << "Events are best-effort: no retry storm";
}

TEST_F(EventRecorderTest, TheWorkerThreadPostsAndStopDrainsTheQueue) {
  recorder_.Start();
  for (int i = 0; i < 10; ++i) recorder_.Normal(Deployment("web"), "Step", std::to_string(i));
  recorder_.Stop();
  EXPECT_EQ(client_.creates, 10);
  EXPECT_EQ(Posted("created"), 10);
  recorder_.Normal(Deployment("web"), "Late", "after stop");
  EXPECT_EQ(Posted("dropped"), 1);
  EXPECT_EQ(client_.creates, 10);
}

TEST(EventRecorderShutdownTest, StopDropsWhatIsLeftOnceTheDrainTimeoutPassed) {
  // Every post takes 3 s of fake time; the 5 s drain allows two.
  class SlowClient : public FakeEventsClient {
   public:
    explicit SlowClient(FakeClock& clock) : clock_(clock) {}
    StatusOr<Json> Create(const Resource& r, std::string_view ns, const Json& o) override {
      clock_.Advance(seconds(3));
      return FakeEventsClient::Create(r, ns, o);
    }
    FakeClock& clock_;
  };
  FakeClock clock;
  SlowClient client(clock);
  Metrics metrics;
  EventRecorder recorder(client, clock, {}, &metrics);
  for (int i = 0; i < 5; ++i) recorder.Normal(Deployment("web"), "Step", std::to_string(i));
  recorder.Stop();
  EXPECT_EQ(client.creates, 2);
  EXPECT_EQ(metrics.events_posted().Add({{"result", "dropped"}}).Value(), 3);
}

TEST(ObjectReferenceTest, ReadsTheReferenceFromAnObjectAndToleratesMissingFields) {
  const Json object = {{"apiVersion", "kubabase.io/v1alpha1"},
                       {"kind", "Project"},
                       {"metadata", {{"name", "acme"}, {"uid", "u1"}, {"resourceVersion", "42"}}}};
  const ObjectReference ref = ObjectReference::FromObject(object);
  EXPECT_EQ(ref.api_version, "kubabase.io/v1alpha1");
  EXPECT_EQ(ref.kind, "Project");
  EXPECT_EQ(ref.namespace_, "");
  EXPECT_EQ(ref.name, "acme");
  EXPECT_EQ(ref.uid, "u1");
  EXPECT_EQ(ref.resource_version, "42");
  EXPECT_EQ(ObjectReference::FromObject(Json::array()).name, "");
  EXPECT_EQ(ObjectReference::FromObject({{"metadata", 3}}).name, "");
}

TEST(TruncateUtf8Test, NeverSplitsACharacter) {
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
  EXPECT_EQ(TruncateUtf8("ab\xE2\x9C\x93", 4), "ab");
  EXPECT_EQ(TruncateUtf8("ab\xE2\x9C\x93", 5), "ab\xE2\x9C\x93");
}

}  // namespace
}  // namespace kubabase::kube
