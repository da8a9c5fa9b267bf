// HttpApiClient's watch against the real kube-apiserver: events as they happen, bookmarks, the
// server's timeout, cancellation, expired resource versions, and how cpprestsdk's timeout applies
// to a long streamed response (an inactivity timer, not a whole-request deadline).
#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/client_support.h"

namespace kubabase::kube::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

const Json kLabels = {{"kubabase.io/test", "watch"}};

class ClientWatchTest : public ClusterTest {
 protected:
  // The collection's current resourceVersion: where a watch that should see only new events starts.
  std::string CurrentResourceVersion() {
    StatusOr<Json> list = client().List(Resource::ConfigMaps(), ns(), ListOptions{});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? ResourceVersionOf(*list) : "";
  }

  // Watches only this test's objects: the controller-manager adds a kube-root-ca.crt ConfigMap to
  // every new namespace at a moment of its own choosing.
  std::unique_ptr<WatchStream> StartWatch(WatchOptions options) {
    options.label_selector = "kubabase.io/test=watch";
    StatusOr<std::unique_ptr<WatchStream>> stream =
        client().Watch(Resource::ConfigMaps(), ns(), options);
    EXPECT_TRUE(stream.ok()) << stream.status().ToString();
    return stream.ok() ? std::move(*stream) : nullptr;
  }
};

// Reads events until one that is not a bookmark arrives (or an error).
StatusOr<WatchEvent> NextNonBookmark(WatchStream& stream) {
  while (true) {
    StatusOr<WatchEvent> event = stream.Next();
    if (!event.ok() || event->type != WatchEvent::Type::kBookmark) return event;
  }
}

TEST_F(ClientWatchTest, DeliversAddedModifiedAndDeletedAsTheyHappen) {
  WatchOptions options;
  options.resource_version = CurrentResourceVersion();
  options.timeout_seconds = 60;
  std::unique_ptr<WatchStream> stream = StartWatch(options);
  ASSERT_NE(stream, nullptr);

  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("w", kLabels, {{"v", "1"}})).ok());
  StatusOr<WatchEvent> added = NextNonBookmark(*stream);
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->type, WatchEvent::Type::kAdded);
  EXPECT_EQ(added->object["metadata"]["name"], "w");

  // Each event is returned while the stream stays open: proof that the body is read
  // incrementally and not buffered until the response ends (60 s away).
  ASSERT_TRUE(client().MergePatch(Resource::ConfigMaps(), ns(), "w", {{"data", {{"v", "2"}}}}).ok());
  StatusOr<WatchEvent> modified = NextNonBookmark(*stream);
  ASSERT_TRUE(modified.ok()) << modified.status().ToString();
  EXPECT_EQ(modified->type, WatchEvent::Type::kModified);
  EXPECT_EQ(modified->object["data"]["v"], "2");

  ASSERT_TRUE(client().Delete(Resource::ConfigMaps(), ns(), "w").ok());
  StatusOr<WatchEvent> deleted = NextNonBookmark(*stream);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->type, WatchEvent::Type::kDeleted);
  stream->Cancel();
}

// The apiserver (v1.36, watch cache) sends a bookmark about 2 s before a watch's deadline, and
// roughly every minute, but only once its cache has moved past the version the watch started
// from: a watch on a collection where nothing changed anywhere gets none. So a change is made.
TEST_F(ClientWatchTest, AShortServerTimeoutSendsABookmarkThenEndsWithOutOfRange) {
  WatchOptions options;
  options.resource_version = CurrentResourceVersion();
  options.timeout_seconds = 5;
  options.allow_bookmarks = true;
  auto start = SteadyClock::now();
  std::unique_ptr<WatchStream> stream = StartWatch(options);
  ASSERT_NE(stream, nullptr);
  StatusOr<Json> created = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("moved", kLabels));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  int64_t created_version = std::stoll(ResourceVersionOf(*created));

  int added = 0;
  int bookmarks = 0;
  Status end = Status::Ok();
  while (true) {
    StatusOr<WatchEvent> event = stream->Next();
    if (!event.ok()) {
      end = event.status();
      break;
    }
    if (event->type == WatchEvent::Type::kAdded) ++added;
    if (event->type == WatchEvent::Type::kBookmark) {
      ++bookmarks;
      EXPECT_EQ(event->object["kind"], "ConfigMap");
      EXPECT_GE(std::stoll(ResourceVersionOf(event->object)), created_version);
      EXPECT_FALSE(event->object["metadata"].contains("name"));  // a bookmark carries only its version
    }
  }
  auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(added, 1);
  EXPECT_GE(bookmarks, 1) << "the apiserver sends a bookmark shortly before the watch deadline";
  EXPECT_EQ(end.code(), StatusCode::kOutOfRange) << end.ToString();
  EXPECT_GE(elapsed, seconds(4));
  EXPECT_LT(elapsed, seconds(20));
}

TEST_F(ClientWatchTest, CancelUnblocksAWaitingNext) {
  WatchOptions options;
  options.resource_version = CurrentResourceVersion();
  options.allow_bookmarks = false;
  std::unique_ptr<WatchStream> stream = StartWatch(options);
  ASSERT_NE(stream, nullptr);
  auto next = std::async(std::launch::async, [&] { return stream->Next(); });
  ASSERT_EQ(next.wait_for(milliseconds(500)), std::future_status::timeout);  // blocked: no events
  auto cancelled_at = SteadyClock::now();
  stream->Cancel();
  ASSERT_EQ(next.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_LT(SteadyClock::now() - cancelled_at, seconds(2));
  EXPECT_EQ(next.get().status().code(), StatusCode::kCancelled);
  EXPECT_EQ(stream->Next().status().code(), StatusCode::kCancelled);  // and stays cancelled
}

// The timeout proof. A client whose watch read deadline (3 s) is far shorter than the watch:
//  - while events keep arriving (one every 500 ms for 8 s) the watch is NOT killed, because
//    cpprestsdk re-arms its timer on every chunk read: the deadline is one of inactivity;
//  - once the stream goes silent (no events, no bookmarks), the watch fails with
//    kDeadlineExceeded about 3 s later: a dead connection is detected, not waited on forever.
class ClientWatchDeadlineTest : public ClientWatchTest {
 protected:
  HttpApiClientOptions ClientOptions() override {
    HttpApiClientOptions options = ClusterTest::ClientOptions();
    options.request_timeout = seconds(3);
    options.watch_idle_timeout = seconds(3);
    return options;
  }
};

TEST_F(ClientWatchDeadlineTest, AWatchOutlivesItsReadDeadlineWhileEventsFlowThenTimesOutWhenSilent) {
  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("tick", kLabels)).ok());
  WatchOptions options;
  options.resource_version = CurrentResourceVersion();
  options.allow_bookmarks = false;
  options.timeout_seconds = 0;  // the client's idle deadline (3 s) applies
  std::unique_ptr<WatchStream> stream = StartWatch(options);
  ASSERT_NE(stream, nullptr);

  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 16 && !stop.load(); ++i) {
      Status patched = client()
                           .MergePatch(Resource::ConfigMaps(), ns(), "tick",
                                       {{"data", {{"i", std::to_string(i)}}}})
                           .status();
      EXPECT_TRUE(patched.ok()) << patched.ToString();
      std::this_thread::sleep_for(milliseconds(500));
    }
  });

  auto start = SteadyClock::now();
  int modified = 0;
  Status end = Status::Ok();
  SteadyClock::time_point last_event = start;
  while (true) {
    StatusOr<WatchEvent> event = stream->Next();
    if (!event.ok()) {
      end = event.status();
      break;
    }
    if (event->type == WatchEvent::Type::kModified) ++modified;
    last_event = SteadyClock::now();
  }
  auto ended = SteadyClock::now();
  stop = true;
  writer.join();

  EXPECT_EQ(modified, 16);
  EXPECT_GE(last_event - start, seconds(7)) << "events kept the watch alive past its 3 s deadline";
  EXPECT_EQ(end.code(), StatusCode::kDeadlineExceeded) << end.ToString();
  EXPECT_GE(ended - last_event, milliseconds(2500));
  EXPECT_LT(ended - last_event, seconds(6));
  RecordProperty("silent_to_deadline_ms",
                 std::to_string(std::chrono::duration_cast<milliseconds>(ended - last_event).count()));
}

// The short request timeout (3 s) of ordinary requests never applies to a watch: a silent watch
// with timeoutSeconds=6 lives until the server ends it (its read deadline is 6 s + slack).
TEST_F(ClientWatchDeadlineTest, ASilentWatchIsNotCutByTheRequestTimeoutButEndsAtTheServerTimeout) {
  WatchOptions options;
  options.resource_version = CurrentResourceVersion();
  options.allow_bookmarks = false;
  options.timeout_seconds = 6;
  auto start = SteadyClock::now();
  std::unique_ptr<WatchStream> stream = StartWatch(options);
  ASSERT_NE(stream, nullptr);
  StatusOr<WatchEvent> event = stream->Next();
  auto elapsed = SteadyClock::now() - start;
  EXPECT_EQ(event.status().code(), StatusCode::kOutOfRange) << event.status().ToString();
  EXPECT_GE(elapsed, milliseconds(5500));
  EXPECT_LT(elapsed, seconds(15));
}

}  // namespace
}  // namespace kubabase::kube::testing
