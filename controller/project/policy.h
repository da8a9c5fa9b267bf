// Policy: what the cluster admin who runs kubabase lets a Project's author ask for, beyond what
// the schema says. The author may be less trusted than the admin (an agency's client, a team
// with self-service RBAC on Projects, a GitOps repo with many committers), so each rule here
// refuses rather than trims: a Project that asks for more than it may is Stalled with a reason
// naming what to change, and nothing of it is written.
//
//   std::optional<Problem> refused = CheckPolicy(project.spec, defaults);
//   if (refused) ...;   // {AnnotationNotAllowed, "spec.ingress.annotations: ..."}
//
// Rules (docs/security.md states the threat each answers):
//   AnnotationNotAllowed  an Ingress annotation whose key --allowed-ingress-annotations does not
//                         allow (default cert-manager.io/*). ingress-nginx snippets, server-alias,
//                         auth-*, mirror-* and canary-* could serve other hosts, run config or
//                         send traffic elsewhere; the CRD refuses those too, so even a widened
//                         allowlist cannot pass them.
//   UnknownPlan           spec.plan names no plan of the operator (plans.h CheckPlan).
//   PlanExceeded          replicas, a volume or the project's total over what its plan allows:
//                         the plan's ResourceQuota would refuse the pods anyway, one by one and
//                         out of sight; refusing the spec says so where its author looks.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/project/defaults.h"
#include "controller/project/derive_status.h"
#include "controller/project/project.h"

namespace kubabase::project {

// True when `pattern` allows annotation `key`: equal, or `pattern` ends in "*" and `key` starts
// with what comes before it ("cert-manager.io/*" allows "cert-manager.io/cluster-issuer").
bool AnnotationAllowed(std::string_view pattern, std::string_view key);

// The first rule `spec` breaks, or nullopt when it breaks none.
std::optional<Problem> CheckPolicy(const ProjectSpec& spec, const Defaults& defaults);

}  // namespace kubabase::project
