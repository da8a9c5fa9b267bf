// FakeCache: the reconciler's CacheReader built as production builds it, over a FakeCluster. Each
// watch is a kube::Store made with the WatchSpec's own transform and filled with what a list by
// the WatchSpec's selectors returns (FakeCluster::Snapshot), and lookups follow kube::Controller's
// (Get asks every store of a resource; List and ListByLabel the first). By default the specs are
// production's: project::WatchSpecs() plus ReloadSecretsWatch, as main.cc wires them. So a test
// cache holds only objects labelled app.kubernetes.io/managed-by=kubabase (and every Project),
// with Secret values blanked: a read that moved from a GET to the cache sees what production
// would, "" for every key.
//
//   FakeCluster cluster;
//   FakeCache cache(cluster);                   // production's watches
//   ProjectReconciler reconciler(cluster, cache.Reader(), options);
//   cache.Freeze(Resource::Secrets());          // that watch lags: it holds what it last synced
//   cache.Sync();                               // every watch catches up, frozen ones too
//
// By default every read syncs first (a cache that never lags, unlike production's); the watches
// of a frozen resource keep what the last Sync() saw, to test a reconcile against a cache that
// has not yet seen its own writes.
// Not a watcher: no events, no resourceVersion semantics. A WatchSpec with a field selector, or a
// label selector the fake cannot evaluate, fails the test.
//
// Thread-safe (Stores are; Sync holds a mutex); tests use it from one thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/kube/cache.h"
#include "controller/kube/controller.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/resources.h"
#include "controller/project/secret_refs.h"
#include "controller/project/testing/fake_cluster.h"

namespace kubabase::project::testing {

// What main.cc watches: WatchSpecs() and the reload watch of user Secrets. The index only feeds
// the reload watch's mapper, which a FakeCache never calls.
inline std::vector<kube::WatchSpec> ProductionWatchSpecs() {
  static const SecretRefIndex kUnusedIndex;
  std::vector<kube::WatchSpec> specs = WatchSpecs(Defaults{});
  specs.push_back(ReloadSecretsWatch(kUnusedIndex));
  return specs;
}

class FakeCache {
 public:
  // `cluster` must outlive the cache and every Reader() made from it.
  explicit FakeCache(const FakeCluster& cluster,
                     std::vector<kube::WatchSpec> specs = ProductionWatchSpecs())
      : cluster_(cluster) {
    for (kube::WatchSpec& spec : specs) {
      if (!spec.field_selector.empty()) {
        ADD_FAILURE() << "FakeCache: field selector " << spec.field_selector << " of "
                      << spec.resource.GroupResource() << " is not supported";
      }
      auto store = std::make_unique<kube::Store>(spec.transform, spec.filter);
      watched_.push_back({std::move(spec), std::move(store)});
    }
  }

  // Refills every store from the cluster, as a relist of each watch would.
  void Sync() { SyncWatches(/*include_frozen=*/true); }

  // From now on reads of `resource` see what the last Sync() (or read) saw; others stay current.
  void Freeze(const Resource& resource) {
    std::lock_guard lock(mu_);
    frozen_.insert(resource.GroupResource());
  }

  // The reader the reconciler gets. Valid while this cache lives.
  CacheReader Reader() {
    return {.get =
                [this](const Resource& r, std::string_view ns, std::string_view name) {
                  MaybeSync();
                  for (const Watched& watched : watched_) {
                    if (!Same(watched.spec.resource, r)) continue;
                    if (kube::ObjectPtr o = watched.store->Get(ns, name)) {
                      return o;
                    }
                  }
                  return kube::ObjectPtr();
                },
            .list_by_label =
                [this](const Resource& r, std::string_view key, std::string_view value) {
                  MaybeSync();
                  const kube::Store* store = First(r);
                  return store ? store->ListByLabel(key, value) : std::vector<kube::ObjectPtr>{};
                },
            .list =
                [this](const Resource& r) {
                  MaybeSync();
                  const kube::Store* store = First(r);
                  return store ? store->List() : std::vector<kube::ObjectPtr>{};
                }};
  }

 private:
  struct Watched {
    kube::WatchSpec spec;
    std::unique_ptr<kube::Store> store;
  };

  static bool Same(const Resource& a, const Resource& b) {
    return a.group == b.group && a.resource == b.resource;
  }
  void MaybeSync() { SyncWatches(/*include_frozen=*/false); }
  void SyncWatches(bool include_frozen) {
    std::lock_guard lock(mu_);
    for (Watched& watched : watched_) {
      if (!include_frozen && frozen_.count(watched.spec.resource.GroupResource()) > 0) continue;
      const kube::WatchSpec& spec = watched.spec;
      StatusOr<std::vector<Json>> listed =
          cluster_.Snapshot(spec.resource, spec.namespace_name, spec.label_selector);
      if (!listed.ok()) {
        ADD_FAILURE() << "FakeCache: " << listed.status().ToString();
        continue;
      }
      watched.store->Replace(std::move(*listed));
    }
  }
  const kube::Store* First(const Resource& r) const {
    for (const Watched& watched : watched_) {
      if (Same(watched.spec.resource, r)) return watched.store.get();
    }
    return nullptr;
  }

  const FakeCluster& cluster_;
  std::mutex mu_;
  std::vector<Watched> watched_;
  std::set<std::string> frozen_;  // GroupResource() of lagging watches
};

}  // namespace kubabase::project::testing
