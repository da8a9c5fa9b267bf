// A Controller (watchers, cache, queue, workers) while kube-apiserver is stopped and started
// again under it: no crash, the watch resumes, and objects that did not change are not
// reconciled again (no re-processing storm).
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "controller/kube/controller.h"
#include "tests/integration/client_support.h"
#include "tests/integration/runtime_support.h"

namespace kubabase::kube::testing {
namespace {

constexpr auto kGuard = std::chrono::seconds(180);

class RuntimeApiserverRestartTest : public ClusterTest {
 protected:
  HttpApiClientOptions ClientOptions() override {
    HttpApiClientOptions options;
    options.qps = 200;
    options.burst = 200;
    return options;
  }

  // Retries `op` until it succeeds while the apiserver comes back.
  template <typename Op>
  bool Eventually(Op op) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (std::chrono::steady_clock::now() < deadline) {
      if (op()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
};

TEST_F(RuntimeApiserverRestartTest, WatchSurvivesAnApiserverRestartWithoutAReconcileStorm) {
  constexpr int kObjects = 100;
  const Json labels = {{"kubabase.io/test-set", "restart"}};
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(client()
                    .Create(Resource::ConfigMaps(), ns(),
                            ConfigMap("cm-" + std::to_string(i), labels))
                    .ok());
  }

  Metrics controller_metrics;
  HttpApiClientOptions watch_options;
  watch_options.metrics = &controller_metrics;
  auto watch_client = HttpApiClient::Create(config_, watch_options);
  ASSERT_TRUE(watch_client.ok());

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, int> reconciles;  // key -> count
  bool restarted = false;
  std::map<std::string, int> after_restart;
  ControllerOptions options;
  options.name = "restart-test";
  options.workers = 2;
  options.metrics = &controller_metrics;
  options.watch_max_backoff = std::chrono::seconds(5);  // come back quickly once it is up
  Controller controller(
      **watch_client, options,
      {{.resource = Resource::ConfigMaps(),
        .namespace_name = ns(),
        .label_selector = "kubabase.io/test-set=restart"}},
      [&](const ObjectKey& key) -> StatusOr<Action> {
        std::lock_guard lock(mu);
        ++reconciles[key.ToString()];
        if (restarted) ++after_restart[key.ToString()];
        cv.notify_all();
        return Action::Done();
      });
  controller.Start();
  ASSERT_TRUE(controller.WaitForSync(kGuard));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kGuard, [&] { return reconciles.size() == kObjects; }));
  }
  // Let the initial keys drain, then count only what the restart causes.
  while (controller.queue().Len() + controller.queue().ProcessingLen() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  StatusOr<ApiserverProcess> apiserver = FindApiserver();
  ASSERT_TRUE(apiserver.ok()) << apiserver.status().ToString();
  {
    std::lock_guard lock(mu);
    restarted = true;
  }
  const auto restart_start = std::chrono::steady_clock::now();
  ASSERT_TRUE(RestartApiserver(*apiserver, std::chrono::seconds(0)).ok());
  ASSERT_TRUE(Eventually([&] {
    ListOptions list;
    list.limit = 1;
    return client().List(Resource::Namespaces(), "", list).ok();
  })) << "kube-apiserver did not come back";
  const double down_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restart_start).count();

  // One real change after the restart must arrive: the watch is alive again.
  ASSERT_TRUE(Eventually([&] {
    return client().Create(Resource::ConfigMaps(), ns(), ConfigMap("after-restart", labels)).ok();
  }));
  ASSERT_TRUE(Eventually([&] {
    return controller.Get(Resource::ConfigMaps(), ns(), "after-restart") != nullptr;
  })) << "the watch did not resume after the restart";
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, kGuard, [&] {
      return after_restart.count(ns() + "/after-restart") != 0;
    }));
  }
  // Give a storm, if there were one, the time to show: keys are queued as soon as a relist lands,
  // and the new object was seen after any relist.
  while (controller.queue().Len() + controller.queue().ProcessingLen() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  int unchanged_reconciled = 0;
  {
    std::lock_guard lock(mu);
    for (const auto& [key, count] : after_restart) {
      if (key != ns() + "/after-restart") unchanged_reconciled += count;
    }
  }
  const double relists = controller_metrics.watch_relists().Add({{"resource", "configmaps"}}).Value();
  const double restarts =
      controller_metrics.watch_restarts().Add({{"resource", "configmaps"}}).Value();
  std::printf("\n| apiserver restart under a controller of %d objects | value |\n|---|---|\n",
              kObjects);
  std::printf("| apiserver down, restart to ready (s)   | %.1f |\n", down_seconds);
  std::printf("| watch restarts                         | %.0f |\n", restarts);
  std::printf("| relists                                | %.0f |\n", relists);
  std::printf("| reconciles of unchanged objects after  | %d |\n", unchanged_reconciled);
  std::printf("| LIST requests in total                 | %.0f |\n",
              CountRequests(controller_metrics, "LIST", "configmaps"));
  std::printf("| WATCH requests in total                | %.0f |\n\n",
              CountRequests(controller_metrics, "WATCH", "configmaps"));
  EXPECT_EQ(unchanged_reconciled, 0) << "an apiserver restart must not re-process every object";
  EXPECT_GE(restarts, 1) << "the watch should have broken and been re-opened";
  EXPECT_TRUE(controller.HasSynced());
  controller.Stop();
}

}  // namespace
}  // namespace kubabase::kube::testing
