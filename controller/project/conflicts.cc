#include "controller/project/conflicts.h"

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
  return Problem{"HostConflict",
                 "host " + host + " is already served by Project " + claimants.front().name +
                     " (created earlier); set spec.host of Project " + name +
                     " to a host of its own"};
}

std::optional<Problem> NamespaceConflict(const std::string& project_name,
                                         const std::string& namespace_name,
                                         const kube::Json* observed_namespace) {
  if (observed_namespace == nullptr) return std::nullopt;
  std::string owner;
  try {
    const kube::Json& labels = observed_namespace->at("metadata").at("labels");
    owner = labels.value(std::string(names::kProjectLabel), std::string());
  } catch (const std::exception&) {
    // No labels: not ours.
  }
  if (owner == project_name) return std::nullopt;
  std::string whose = owner.empty() ? "was not created by kubabase"
                                    : "belongs to Project " + owner;
  return Problem{"NamespaceConflict",
                 "namespace " + namespace_name + " already exists and " + whose +
                     "; rename the Project, or delete or relabel the namespace (label " +
                     std::string(names::kProjectLabel) + "=" + project_name + " to adopt it)"};
}

}  // namespace kubabase::project
