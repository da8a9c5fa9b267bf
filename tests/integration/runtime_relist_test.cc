// 410 recovery against the real apiserver: after an etcd compaction a watch from an old
// resourceVersion is refused as too old, and the Watcher relists, reporting exactly what changed
// meanwhile (a deletion, an update, an addition) and nothing for the object that did not change.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/kube/cache.h"
#include "controller/kube/watcher.h"
#include "tests/integration/client_support.h"
#include "tests/integration/runtime_support.h"

namespace kubabase::kube::testing {
namespace {

using ::testing::UnorderedElementsAre;

// Forwards to a real client, but the next Watch starts from `rewind_to` instead of the version
// the Watcher asks for: it plays a watcher that fell behind the compaction.
class RewindingApiClient final : public ApiClient {
 public:
  explicit RewindingApiClient(ApiClient& real) : real_(real) {}
  void RewindNextWatch(std::string resource_version) {
    std::lock_guard lock(mu_);
    rewind_to_ = std::move(resource_version);
  }

  StatusOr<Json> Get(const Resource& r, std::string_view ns, std::string_view name,
                     std::string_view sub) override {
    return real_.Get(r, ns, name, sub);
  }
  StatusOr<Json> List(const Resource& r, std::string_view ns, const ListOptions& o) override {
    return real_.List(r, ns, o);
  }
  StatusOr<Json> Create(const Resource& r, std::string_view ns, const Json& object) override {
    return real_.Create(r, ns, object);
  }
  StatusOr<Json> Update(const Resource& r, std::string_view ns, std::string_view name,
                        const Json& object, std::string_view sub) override {
    return real_.Update(r, ns, name, object, sub);
  }
  StatusOr<Json> MergePatch(const Resource& r, std::string_view ns, std::string_view name,
                            const Json& patch, std::string_view sub) override {
    return real_.MergePatch(r, ns, name, patch, sub);
  }
  StatusOr<Json> Apply(const Resource& r, std::string_view ns, std::string_view name,
                       const Json& object, const ApplyOptions& o) override {
    return real_.Apply(r, ns, name, object, o);
  }
  Status Delete(const Resource& r, std::string_view ns, std::string_view name,
                const DeleteOptions& o) override {
    return real_.Delete(r, ns, name, o);
  }
  StatusOr<std::unique_ptr<WatchStream>> Watch(const Resource& r, std::string_view ns,
                                               const WatchOptions& o) override {
    WatchOptions options = o;
    {
      std::lock_guard lock(mu_);
      if (rewind_to_.has_value()) {
        options.resource_version = *rewind_to_;
        rewind_to_.reset();
      }
    }
    return real_.Watch(r, ns, options);
  }

 private:
  ApiClient& real_;
  std::mutex mu_;
  std::optional<std::string> rewind_to_;
};

class RuntimeRelistTest : public ClusterTest {};

TEST_F(RuntimeRelistTest, WatchFromACompactedVersionRelistsAndReportsOnlyWhatChanged) {
  const Json labels = {{"kubabase.io/test-set", "relist"}};
  StatusOr<Json> first = client().Create(Resource::ConfigMaps(), ns(), ConfigMap("a", labels));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string old_version = ResourceVersionOf(*first);
  for (const char* name : {"b", "c"}) {
    ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap(name, labels)).ok());
  }

  RewindingApiClient api(client());
  Store store;
  std::vector<std::string> events;
  WatcherOptions options;
  options.resource = Resource::ConfigMaps();
  options.namespace_name = ns();
  options.label_selector = "kubabase.io/test-set=relist";
  Watcher watcher(api, store, options, [&](const ObjectEvent& event) {
    const std::string name = (*event.object)["metadata"]["name"].get<std::string>();
    switch (event.type) {
      case ObjectEvent::Type::kAdded: events.push_back("ADDED " + name); break;
      case ObjectEvent::Type::kUpdated: events.push_back("UPDATED " + name); break;
      case ObjectEvent::Type::kDeleted: events.push_back("DELETED " + name); break;
    }
  });
  // Driven step by step on this thread: the list now, the watch after the changes below.
  ASSERT_EQ(watcher.Step(), Clock::Duration::zero());
  ASSERT_EQ(watcher.phase(), Watcher::Phase::kWatch);
  ASSERT_EQ(store.Size(), 3u);
  events.clear();

  // While the watcher is not watching: b changes, c goes, d comes, a stays as it was; then etcd
  // forgets every version before now.
  ASSERT_TRUE(client().MergePatch(Resource::ConfigMaps(), ns(), "b", {{"data", {{"x", "1"}}}}).ok());
  ASSERT_TRUE(client().Delete(Resource::ConfigMaps(), ns(), "c").ok());
  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("d", labels)).ok());
  StatusOr<ApiserverProcess> apiserver = FindApiserver();
  ASSERT_TRUE(apiserver.ok()) << apiserver.status().ToString();
  StatusOr<int64_t> compacted_at = CompactEtcd(*apiserver);
  ASSERT_TRUE(compacted_at.ok()) << compacted_at.status().ToString();
  // The apiserver's watch cache still holds the recent past and would serve the old version
  // despite the compaction (measured: it does). Restarted, its cache begins at the compacted
  // revision, as in production after an apiserver restart or a long outage.
  ASSERT_TRUE(RestartApiserver(*apiserver, std::chrono::seconds(0)).ok());

  // What the server itself says to a watch from the old version (the behaviour relied upon).
  WatchOptions probe;
  probe.resource_version = old_version;
  probe.timeout_seconds = 5;
  Status server_answer = UnavailableError("apiserver not back");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    StatusOr<std::unique_ptr<WatchStream>> opened =
        client().Watch(Resource::ConfigMaps(), ns(), probe);
    if (!opened.ok()) {
      server_answer = opened.status();
    } else {
      StatusOr<WatchEvent> first_event = (*opened)->Next();
      server_answer = first_event.ok() ? Status() : first_event.status();
      (*opened)->Cancel();
    }
    // Retry only while the apiserver is still starting (refused, 429/503 while its cache fills).
    if (server_answer.ok() || !server_answer.IsTransient()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::printf("\nwatch from resourceVersion %s after compaction at revision %lld and an apiserver "
              "restart: %s\n",
              old_version.c_str(), static_cast<long long>(*compacted_at),
              server_answer.ToString().c_str());
  ASSERT_TRUE(server_answer.IsGone()) << server_answer.ToString();

  api.RewindNextWatch(old_version);
  for (int step = 0; step < 3 && watcher.relists() == 0; ++step) {
    // Open (refused, or an ERROR event read next) -> list. A backoff would show as a wait.
    Clock::Duration wait = watcher.Step();
    EXPECT_EQ(wait, Clock::Duration::zero()) << "410 must relist at once, not back off";
  }
  EXPECT_EQ(watcher.relists(), 1);
  EXPECT_THAT(events, UnorderedElementsAre("UPDATED b", "DELETED c", "ADDED d"));
  EXPECT_THAT(store.Keys(), UnorderedElementsAre(ns() + "/a", ns() + "/b", ns() + "/d"));
  std::printf("events after the relist: %zu (a, unchanged, not reported)\n\n", events.size());

  // And the watch after the relist works from the new version.
  ASSERT_EQ(watcher.Step(), Clock::Duration::zero());  // open
  ASSERT_TRUE(client().Create(Resource::ConfigMaps(), ns(), ConfigMap("e", labels)).ok());
  ASSERT_EQ(watcher.Step(), Clock::Duration::zero());  // the ADDED event
  EXPECT_EQ(events.back(), "ADDED e");
}

}  // namespace
}  // namespace kubabase::kube::testing
