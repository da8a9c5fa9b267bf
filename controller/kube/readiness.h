// Readiness of built-in workloads as their controllers report it, the way `kubectl rollout
// status` and kstatus read it.
//
//   if (WorkloadReady(deployment)) ...        // Deployment or StatefulSet rolled out and ready
//   bool failed = false;
//   if (JobComplete(job, &failed)) ...        // Complete=True; `failed` for Failed=True
//
// Pure; never throws on malformed objects (they are not ready).
#pragma once

#include "controller/kube/resource.h"

namespace kubabase::kube {

// True when the controller observed the current generation, every replica is updated, and
// `spec.replicas` pods are ready, with no old pods left (0 replicas: ready once none is left).
bool WorkloadReady(const Json& workload);

// True when a Job has condition Complete=True; `failed` is set when it has Failed=True.
bool JobComplete(const Json& job, bool* failed);

}  // namespace kubabase::kube
