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
//   SecretRefNotAllowed   a Secret reference (spec.auth.smtp.passwordSecretRef,
//                         spec.storage.s3.credentialsSecretRef) the Project may not follow: its
//                         namespace is neither the project's own, nor --shared-secrets-namespace,
//                         nor one --allowed-secret-namespaces lists; or it is another project's
//                         namespace; or the Secret is missing; or, outside the project's own
//                         namespace, the Secret does not name the Project in
//                         kubabase.io/allowed-projects. One message for all of these, so that a
//                         refusal never tells whether a Secret exists (SecretRefNotAllowed()).
//                         The reconciler decides it (reconcile_keys.cc), as it reads the Secret.
//   HostNotAllowed        a spec.host outside --allowed-host-suffixes (default: the base domain),
//                         e.g. a bank's domain or another tenant's custom domain.
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

#include "controller/kube/resource.h"
#include "controller/project/defaults.h"
#include "controller/project/derive_status.h"
#include "controller/project/project.h"

namespace kubabase::project {

// True when `pattern` allows annotation `key`: equal, or `pattern` ends in "*" and `key` starts
// with what comes before it ("cert-manager.io/*" allows "cert-manager.io/cluster-issuer").
bool AnnotationAllowed(std::string_view pattern, std::string_view key);

// True when `host` is `suffix` or a subdomain of it ("a.apps.example.com" under
// "apps.example.com"; "evilapps.example.com" is not).
bool HostAllowed(std::string_view suffix, std::string_view host);

// The first rule `spec` breaks, or nullopt when it breaks none.
std::optional<Problem> CheckPolicy(const ProjectSpec& spec, const Defaults& defaults);

// Where a Secret a spec names may be read from, before the Secret itself is looked at.
enum class SecretSource {
  kOwn,         // the project's own namespace: every Secret there is the project's
  kConsenting,  // the shared-secrets or an allowed namespace: only a Secret that consents
  kRefused,     // anywhere else, and always another project's namespace: not even read
};

// The source of a Secret in namespace `ns` for the Project whose namespace is `project_ns`.
// `cached_namespace` is `ns` as the cache holds it (it holds only namespaces labelled
// app.kubernetes.io/managed-by=kubabase), null when it is not there. A namespace that starts with
// the namespace prefix or carries our managed-by label is another project's (or a retained one)
// and refused even when the admin listed it.
SecretSource SecretSourceOf(std::string_view ns, std::string_view project_ns,
                            const Defaults& defaults, const kube::Json* cached_namespace);

// True when `secret`'s annotation kubabase.io/allowed-projects lists `project` or "*" (comma
// separated, blanks around a name ignored).
bool SecretAllowsProject(const kube::Json& secret, std::string_view project);

// The one refusal of a Secret reference: the same reason and message whether the namespace is
// not allowed, the Secret is missing or it does not consent. Names the field and the Secret the
// author wrote, and where a Project may take Secrets from (the admin's settings, no Secret's).
Problem SecretRefNotAllowed(std::string_view field, std::string_view ns, std::string_view name,
                            std::string_view project, std::string_view project_ns,
                            const Defaults& defaults);

}  // namespace kubabase::project
