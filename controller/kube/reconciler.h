// Reconciler contract: a key in, an Action or an error out.
//
//   ReconcileFunc reconcile = [&](const ObjectKey& key) -> StatusOr<Action> {
//     auto project = cache.Get(projects, key.namespace_name, key.name);
//     if (!project) return Action::Done();            // deleted: nothing left to do
//     KUBABASE_RETURN_IF_ERROR(ApplyChildren(*project)); // error: per-key backoff
//     return Action::RequeueAfter(std::chrono::minutes(5));  // poll something external
//   };
//
// Reconcile is level-based (as in controller-runtime): it gets only namespace/name, reads the
// current state from the cache or the API, and never the event that caused it. It must be
// idempotent; the controller may call it again for the same key at any time (resync, relist).
//
// What the controller does with the outcome (controller.h):
//   error                 -> the key is re-queued with per-key capped exponential backoff
//                            (at least the error's Retry-After, if any)
//   Action::Done()        -> the key's backoff is forgotten; it runs again on the next change
//   Action::RequeueAfter  -> backoff forgotten; the key runs again after the delay (or sooner,
//                            on a change)
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "controller/base/clock.h"
#include "controller/base/status.h"

namespace kubabase::kube {

// What a reconcile asks for next. A cheap value type.
class Action {
 public:
  // Nothing to do until the next change (or the periodic resync).
  static Action Done() { return Action(std::nullopt); }
  // Run again after `delay` even if nothing changes. Requires: delay >= 0.
  static Action RequeueAfter(Clock::Duration delay) { return Action(delay); }

  bool requeue() const { return requeue_after_.has_value(); }
  // Requires: requeue().
  Clock::Duration requeue_after() const { return *requeue_after_; }

  friend bool operator==(const Action& a, const Action& b) {
    return a.requeue_after_ == b.requeue_after_;
  }

 private:
  explicit Action(std::optional<Clock::Duration> after) : requeue_after_(after) {}
  std::optional<Clock::Duration> requeue_after_;
};

// The identity of the object to reconcile: namespace/name, or name alone when cluster-scoped.
struct ObjectKey {
  std::string namespace_name;  // empty for cluster-scoped objects
  std::string name;

  // "ns/name", or "name" when namespace_name is empty. This is the work queue key.
  std::string ToString() const {
    return namespace_name.empty() ? name : namespace_name + "/" + name;
  }

  // The inverse of ToString(). Errors: kInvalidArgument for an empty key, an empty name or
  // namespace around the '/', or more than one '/'.
  static StatusOr<ObjectKey> Parse(std::string_view key) {
    if (key.empty()) return InvalidArgumentError("empty object key");
    size_t slash = key.find('/');
    if (slash == std::string_view::npos) return ObjectKey{"", std::string(key)};
    if (key.find('/', slash + 1) != std::string_view::npos || slash == 0 ||
        slash + 1 == key.size()) {
      return InvalidArgumentError("malformed object key \"" + std::string(key) +
                                  "\": want \"namespace/name\" or \"name\"");
    }
    return ObjectKey{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
  }

  friend bool operator==(const ObjectKey& a, const ObjectKey& b) {
    return a.namespace_name == b.namespace_name && a.name == b.name;
  }
  friend bool operator<(const ObjectKey& a, const ObjectKey& b) {
    return a.namespace_name != b.namespace_name ? a.namespace_name < b.namespace_name
                                                : a.name < b.name;
  }
};

// One reconcile. Called from worker threads, never concurrently for the same key. Exceptions it
// throws are caught by the controller and treated as kInternal errors.
using ReconcileFunc = std::function<StatusOr<Action>(const ObjectKey&)>;

}  // namespace kubabase::kube
