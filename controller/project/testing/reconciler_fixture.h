// ReconcilerFixture: the gtest fixture of the ProjectReconciler unit tests
// (project_reconciler_test, prune_test, reconcile_reasons_test, ...). It drives the reconciler
// only through its public interface: Reconcile(key), ReconcilerOptions and the CacheReader, which
// is a FakeCache built from production's WatchSpecs (fake_cache.h), so the reconciler sees what
// the real cache holds.
//
//   class PruneTest : public testing::ReconcilerFixture {};
//   TEST_F(PruneTest, ...) {
//     cluster_.Put(ProjectsResource(), ProjectObject("shop"));
//     ASSERT_TRUE(Reconcile("shop").ok());
//     EXPECT_EQ(ConditionReason("shop", "Ready"), "...");
//   }
//
// Time is a FakeClock, randomness counts up; Events are posted to events_cluster_ on demand
// (Events()). One thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "controller/base/clock.h"
#include "controller/kube/event_recorder.h"
#include "controller/kube/metrics.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"
#include "controller/project/testing/fake_cache.h"
#include "controller/project/testing/fake_cluster.h"

namespace kubabase::project::testing {

// Deterministic "random" bytes: 7, 8, 9, ...
class CountingRandom final : public RandomSource {
 public:
  Status Fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out) b = static_cast<uint8_t>(next_++);
    return Status::Ok();
  }

 private:
  uint32_t next_ = 7;
};

// A Project as the apiserver would store it (without status).
inline Json ProjectObject(const std::string& name, Json spec = Json::object(),
                          const std::string& created = "2026-01-01T00:00:00Z") {
  return {{"apiVersion", "kubabase.io/v1alpha1"},
          {"kind", "Project"},
          {"metadata", {{"name", name}, {"uid", "uid-" + name}, {"generation", 1},
                        {"creationTimestamp", created}}},
          {"spec", spec}};
}

class ReconcilerFixture : public ::testing::Test {
 protected:
  ReconcilerFixture() {
    options_.clock = &clock_;
    options_.random = &random_;
    options_.events = &events_;
    options_.metrics = &metrics_;
  }

  // The reconciler, made on first use with options_ and cache_ as they are then.
  ProjectReconciler& reconciler() {
    if (!reconciler_) {
      reconciler_ = std::make_unique<ProjectReconciler>(cluster_, cache_->Reader(), options_);
      reconciler_->set_enqueue(
          [this](const kube::ObjectKey& key) { enqueued_.push_back(key.name); });
    }
    return *reconciler_;
  }
  StatusOr<kube::Action> Reconcile(const std::string& name) {
    return reconciler().Reconcile({"", name});
  }
  Json Stored(const Resource& r, const std::string& ns, const std::string& name) {
    kube::ObjectPtr o = cluster_.Observe(r, ns, name);
    return o ? *o : Json();
  }
  Json StatusOf(const std::string& name) {
    return Stored(ProjectsResource(), "", name).value("status", Json::object());
  }
  // The condition of `type`, or null.
  Json Condition(const std::string& name, const std::string& type) {
    for (const Json& c : StatusOf(name).value("conditions", Json::array())) {
      if (c["type"] == type) return c;
    }
    return Json();
  }
  // "<reason>/<status>" of the condition, or "absent".
  std::string ConditionReason(const std::string& name, const std::string& type) {
    const Json c = Condition(name, type);
    if (c.is_null()) return "absent";
    return c["reason"].get<std::string>() + "/" + c["status"].get<std::string>();
  }
  // Marks the stored Project as being deleted (what the apiserver does on DELETE with finalizers).
  void MarkDeleting(const std::string& name) {
    Json p = Stored(ProjectsResource(), "", name);
    p["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
    cluster_.Put(ProjectsResource(), p);
  }
  // Posts what the recorder queued and returns every Event about Project `name` so far.
  std::vector<Json> Events(const std::string& name) {
    events_.PostQueued();
    std::vector<Json> out;
    for (const kube::ObjectPtr& e : events_cluster_.ObserveAll(Resource::Events())) {
      const Json& involved = (*e)["involvedObject"];
      if (involved.value("kind", "") == "Project" && involved.value("name", "") == name) {
        out.push_back(*e);
      }
    }
    return out;
  }
  // How often an Event about Project `name` with this reason and type ("Normal", "Warning") was
  // recorded: a repeat the recorder de-duplicated into an existing Event counts too.
  int EventCount(const std::string& name, const std::string& reason, const std::string& type) {
    int n = 0;
    for (const Json& e : Events(name)) {
      if (e.value("reason", "") == reason && e.value("type", "") == type) {
        n += e.value("count", 1);
      }
    }
    return n;
  }

  FakeCluster cluster_;
  // Production's watches over cluster_; a test may replace it before the first Reconcile.
  std::unique_ptr<FakeCache> cache_ = std::make_unique<FakeCache>(cluster_);
  FakeCluster events_cluster_;
  FakeClock clock_;
  CountingRandom random_;
  kube::Metrics metrics_;
  kube::EventRecorder events_{events_cluster_, clock_};
  ReconcilerOptions options_;
  std::unique_ptr<ProjectReconciler> reconciler_;
  std::vector<std::string> enqueued_;
};

}  // namespace kubabase::project::testing
