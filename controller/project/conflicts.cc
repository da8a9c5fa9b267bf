#include "controller/project/conflicts.h"

#include <fmt/format.h>

#include "controller/kube/json_fields.h"
#include "controller/project/names.h"

namespace kubabase::project {

std::vector<std::string> HostIndex::Upsert(const HostClaim& claim) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(claim.name);
  if (it != by_name_.end()) {
    if (it->second == claim) return {};
    std::vector<std::string> changed;
    const HostClaim old = it->second;
    auto& old_set = by_host_[old.host];
    old_set.erase(old);
    if (old_set.empty()) by_host_.erase(old.host);
    changed.push_back(old.host);
    it->second = claim;
    by_host_[claim.host].insert(claim);
    if (claim.host != old.host) changed.push_back(claim.host);
    return changed;
  }
  by_name_[claim.name] = claim;
  by_host_[claim.host].insert(claim);
  return {claim.host};
}

std::optional<std::string> HostIndex::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  const HostClaim old = it->second;
  by_name_.erase(it);
  auto& set = by_host_[old.host];
  set.erase(old);
  if (set.empty()) by_host_.erase(old.host);
  return old.host;
}

std::vector<HostClaim> HostIndex::Claimants(const std::string& host) const {
  std::lock_guard lock(mu_);
  auto it = by_host_.find(host);
  if (it == by_host_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::string HostIndex::HostOf(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? "" : it->second.host;
}

size_t HostIndex::size() const {
  std::lock_guard lock(mu_);
  return by_name_.size();
}

std::optional<Problem> HostConflict(const HostIndex& index, const std::string& name,
                                    const std::string& host) {
  std::vector<HostClaim> claimants = index.Claimants(host);
  if (claimants.empty() || claimants.front().name == name) return std::nullopt;
  bool claims = false;
  for (const HostClaim& c : claimants) claims = claims || c.name == name;
  if (!claims) return std::nullopt;
  const HostClaim& winner = claimants.front();
  return Problem{"HostConflict",
                 fmt::format("host {} is already served by Project {} ({}); set spec.host of "
                             "Project {} to a host of its own",
                             host, winner.name,
                             winner.serving ? "it serves the host now" : "created earlier", name)};
}

std::optional<Problem> ForeignHostConflict(const std::string& host, const std::string& own_namespace,
                                           const std::vector<const kube::Json*>& ingresses) {
  for (const kube::Json* each : ingresses) {
    const kube::Json& ingress = *each;
    const std::string ns = kube::StringAt(ingress, {"metadata", "namespace"});
    const bool ours = ns == own_namespace &&
                      kube::StringAt(ingress, {"metadata", "labels", names::kManagedByLabel}) ==
                          names::kManagedByValue;
    if (ours || kube::At(ingress, {"metadata", "deletionTimestamp"}) != nullptr) continue;
    if (IngressHasRuleFor(ingress, host)) {
      return Problem{"HostConflict",
                     fmt::format("host {} is already served by Ingress {}/{}, which is not this "
                                 "Project's; set spec.host to a host of its own, or have the "
                                 "cluster admin remove that Ingress's rule for the host",
                                 host, ns, kube::StringAt(ingress, {"metadata", "name"}))};
    }
  }
  return std::nullopt;
}

bool IngressHasRuleFor(const kube::Json& ingress, const std::string& host) {
  const kube::Json* rules = kube::At(ingress, {"spec", "rules"});
  if (rules == nullptr || !rules->is_array()) return false;
  for (const kube::Json& rule : *rules) {
    if (kube::StringAt(rule, {"host"}) == host) return true;
  }
  return false;
}

bool NamespaceOwnedBy(const kube::Json& observed_namespace, const std::string& project_name,
                      const std::string& project_uid) {
  const kube::Json& ns = observed_namespace;
  if (kube::StringAt(ns, {"metadata", "labels", names::kProjectLabel}) != project_name) {
    return false;
  }
  const std::string uid = kube::StringAt(ns, {"metadata", "annotations", names::kProjectUidAnnotation});
  if (!project_uid.empty() && uid == project_uid) return true;
  if (!project_uid.empty() &&
      kube::StringAt(ns, {"metadata", "annotations", names::kAdoptUidAnnotation}) == project_uid) {
    return true;
  }
  // Created before kubabase recorded uids, and never retained: the live Project's own.
  return uid.empty() && kube::StringAt(ns, {"metadata", "labels", names::kRetainedLabel}) != "true";
}

std::optional<Problem> NamespaceConflict(const std::string& project_name,
                                         const std::string& project_uid,
                                         const std::string& namespace_name,
                                         const kube::Json* observed_namespace) {
  if (observed_namespace == nullptr) return std::nullopt;
  const std::string owner =
      kube::StringAt(*observed_namespace, {"metadata", "labels", names::kProjectLabel});
  if (owner == project_name) {
    if (NamespaceOwnedBy(*observed_namespace, project_name, project_uid)) return std::nullopt;
    // Deleted by deletionPolicy Delete and not gone yet: the caller waits for it.
    if (kube::At(*observed_namespace, {"metadata", "deletionTimestamp"}) != nullptr) {
      return std::nullopt;
    }
    return Problem{
        "RetainedDataExists",
        fmt::format("namespace {} holds the database, passwords and keys of an earlier Project "
                    "named {}, kept by its deletionPolicy Retain; this Project (uid {}) does not "
                    "get them unless a cluster admin says so. To adopt them: kubectl annotate "
                    "namespace {} {}={}. To release them (their data is lost): kubectl delete "
                    "namespace {}, and this Project starts afresh",
                    namespace_name, project_name, project_uid, namespace_name,
                    names::kAdoptUidAnnotation, project_uid, namespace_name)};
  }
  std::string whose = owner.empty() ? "was not created by kubabase"
                                    : "belongs to Project " + owner;
  return Problem{"NamespaceConflict",
                 "namespace " + namespace_name + " already exists and " + whose +
                     "; rename the Project, or have the cluster admin delete the namespace"};
}

}  // namespace kubabase::project
