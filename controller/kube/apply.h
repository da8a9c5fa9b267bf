// Apply: writes desired objects with server-side apply, skipping those the cluster already holds,
// so that a steady-state reconcile makes zero write requests.
//
//   Applier applier(client, &metrics, "kubabase", kind_of);  // kind_of: object -> its ApplyKind
//   ObservedLookup observed = [&](const kube::Resource& r, std::string_view ns,
//                                 std::string_view name) { return cache.Get(r, ns, name); };
//   StatusOr<ApplyResult> result = applier.ApplyAll(*desired_objects, observed);
//   if (!result.ok()) return result.status();          // transient: the work queue backs off
//   for (const std::string& what : result->created) ...  // one Event per reconcile that wrote
//
// Each write is PATCH application/apply-patch+yaml with the given field manager and force=true:
// the caller owns every field it renders; fields set by others keep their managers. An object is
// skipped when Matches(desired, observed), and an object of an immutable kind (a Job: its
// template cannot change, so its name carries the hash of its inputs) whenever one of its name
// exists.
//
// Counts kubabase_objects_applied_total{kind} for each write.
// Thread-safety: ApplyAll/ApplyOne from any thread (the client and metrics are thread-safe).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>

#include "controller/base/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/cache.h"
#include "controller/kube/metrics.h"

namespace kubabase::kube {

// True when every field of `desired` is present in `observed` with an equal value. The rules,
// each proven for every field of every object render produces (minimal and full fixtures, paused,
// non-canonical quantities):
// - objects: each desired key must be present and match; keys only in `observed` (the
//   apiserver's defaults, metadata and status it owns, other managers' fields) are ignored;
// - lists: same length, element by element (an element is itself matched by these rules);
// - scalars: equal JSON values; numbers by value (1 == 1.0, signed == unsigned); nothing else is
//   equal: no type coercion, and a zero value ("", 0, false, {}, null) does NOT match an absent
//   field. The real apiserver returns every zero value render sends (false, replicas: 0,
//   podSelector: {}, emptyDir: {}), so an absent one was deleted by someone: drift;
// - quantities compare by value ("1024Mi" == "1Gi", "0.5" == "500m", 1 == "1") only where the
//   apiserver canonicalises them, by path: the requests and limits of
//   spec.template.spec.containers[].resources, spec.resources (PersistentVolumeClaim) and
//   spec.volumeClaimTemplates[].spec.resources. Elsewhere "1Gi" and "1024Mi" differ. These are
//   the only leaves the apiserver returned changed (cpu "0.5" -> "500m", 1 -> "1", "1024Mi" ->
//   "1Gi", "0.5Gi" -> "512Mi", "20480Mi" -> "20Gi", "1.5Gi" -> "1536Mi").
// Proofs, on every object kubabase renders: controller/project/matches_proof_test.cc (changing or deleting any field makes this
// false; the two exceptions above are its named cases) and
// tests/integration/matches_apiserver_test.cc (this is true for what the real kube-apiserver
// returns after a server-side apply of each object, and for that object as the cache holds it).
// A new rendered field or kind is covered by both tests without editing them. A new place for a
// quantity needs a line in IsQuantityPath (apply.cc); the integration test fails without it once
// a case renders a non-canonical value there (as "acme-quantities" does for the three above).
// Quantities are read by base/quantity.h.
// Pure; never throws.
bool Matches(const Json& desired, const Json& observed);

// How the observed state of an object is found: the informer cache in production. Returns null
// when the object is not observed (then it is applied).
using ObservedLookup = std::function<ObjectPtr(const Resource& resource, std::string_view ns,
                                               std::string_view name)>;

// What the applier must know of an object's kind: its resource, and whether objects of it are
// immutable once created (never re-applied).
struct ApplyKind {
  const Resource* resource = nullptr;
  bool immutable = false;
  // Not observed: create it with POST instead of applying, which fails with kAlreadyExists
  // (409) when another writer created it meanwhile, where an apply would silently overwrite
  // theirs. For objects whose first content must be written exactly once (generated keys).
  // Observed objects are applied as usual.
  bool create_only = false;
};
// Finds the kind of a desired object; an error (kInvalidArgument: not a kind the caller manages)
// stops the apply before any write.
using KindOf = std::function<StatusOr<ApplyKind>(const Json& object)>;

struct ApplyResult {
  std::vector<std::string> created;  // "Kind/name" of objects not observed before the write
  std::vector<std::string> updated;  // "Kind/name" of objects observed but different
  int unchanged = 0;                 // skipped: already matching
  bool wrote() const { return !created.empty() || !updated.empty(); }
};

class Applier {
 public:
  // `client` and `metrics` (may be null) must outlive the applier.
  Applier(ApiClient& client, Metrics* metrics, std::string field_manager, KindOf kind_of);

  // Applies each object of `desired`, in order, unless it matches what `observed` returns.
  // Stops at the first failed write and returns its error, which names the object
  // ("APPLY deployments.apps project-x/rest: ..."): later objects may depend on earlier ones.
  // Errors: those of ApiClient::Apply and ApiClient::Create (kAlreadyExists for a create_only
  // object someone else created first), and those of `kind_of`.
  StatusOr<ApplyResult> ApplyAll(const std::vector<Json>& desired, const ObservedLookup& observed);

  // One object; `observed` may be null. Returns true when it wrote, false when it matched.
  StatusOr<bool> ApplyOne(const Json& desired, const Json* observed);

 private:
  ApiClient& client_;
  const std::string field_manager_;
  const KindOf kind_of_;
  prometheus::Family<prometheus::Counter>* applied_ = nullptr;
};

}  // namespace kubabase::kube
