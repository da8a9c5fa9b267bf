#include "controller/kube/readiness.h"

#include "controller/kube/json_fields.h"

namespace kubabase::kube {

bool WorkloadReady(const Json& workload) {
  const int64_t generation = IntAt(workload, {"metadata", "generation"}, 0);
  const int64_t observed = IntAt(workload, {"status", "observedGeneration"}, 0);
  if (observed < generation) return false;  // the controller has not seen the latest spec
  const int64_t want = IntAt(workload, {"spec", "replicas"}, 1);
  const int64_t ready = IntAt(workload, {"status", "readyReplicas"}, 0);
  const int64_t updated = IntAt(workload, {"status", "updatedReplicas"}, 0);
  const int64_t total = IntAt(workload, {"status", "replicas"}, 0);
  if (want == 0) return total == 0;
  // total > want: old pods of a rollout are still terminating.
  return ready >= want && updated >= want && total <= want;
}

bool JobComplete(const Json& job, bool* failed) {
  *failed = false;
  bool complete = false;
  const Json* conditions = At(job, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const Json& c : *conditions) {
    if (!c.is_object() || StringAt(c, {"status"}) != "True") continue;
    const std::string type = StringAt(c, {"type"});
    if (type == "Complete") complete = true;
    if (type == "Failed") *failed = true;
  }
  return complete;
}

}  // namespace kubabase::kube
