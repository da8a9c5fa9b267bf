// SecretRefIndex: which Projects name which user Secrets (the components' UserSecretNeeds), so
// that a change to such a Secret re-queues exactly those Projects, with per-event work that does
// not grow with the number of Projects.
//
//   SecretRefIndex refs;                                    // shared by reconciler and watch
//   refs.Set("shop", {{"kubabase-shared", "smtp"}});        // each reconcile records its refs
//   kube::WatchSpec reload = ReloadSecretsWatch(refs);      // Secrets labelled kubabase.io/reload
//   reload.mapper(secret);                                  // -> [{"", "shop"}] for shared/smtp
//
// Only Secrets labelled kubabase.io/reload=true are watched (as CloudNativePG does with
// cnpg.io/reload): watching every Secret of the cluster would cache all of them. An unlabelled
// Secret still reaches its Projects at the next resync. The watch caches no value: the reconciler
// reads named Secrets with a GET, and only those policy.h allows (SecretSourceOf,
// SecretAllowsProject). The index records every reference, allowed or not, so that a consent
// annotation added later re-queues the Project at once.
//
// Thread-safe (a mutex): workers reconcile in parallel while the watch maps events.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controller/kube/controller.h"
#include "controller/project/project.h"

namespace kubabase::project {

// namespace, name
using SecretName = std::pair<std::string, std::string>;

// The user Secrets `spec` makes the operator read: those the enabled components declare
// (UserSecretNeeds(): the S3 credentials of storage on s3, the SMTP password of auth). No
// duplicates.
std::vector<SecretName> UserSecretRefs(const ProjectSpec& spec);

class SecretRefIndex {
 public:
  // Records the Secrets Project `project` names, replacing what it named before.
  void Set(const std::string& project, const std::vector<SecretName>& secrets);
  // Forgets the Project (deleted).
  void Remove(const std::string& project);
  // The Projects that name ns/name, in name order.
  std::vector<std::string> ProjectsNaming(const std::string& ns, const std::string& name) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<SecretName>> by_project_;
  std::map<SecretName, std::set<std::string>> by_secret_;
};

// The watch of Secrets labelled kubabase.io/reload=true in every namespace, values dropped,
// mapped through `refs` to the Projects that name them. `refs` must outlive the controller.
kube::WatchSpec ReloadSecretsWatch(const SecretRefIndex& refs);

}  // namespace kubabase::project
