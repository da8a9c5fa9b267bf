#include "controller/project/secret_refs.h"

#include <algorithm>

#include "controller/kube/cache.h"
#include "controller/project/components/component.h"
#include "controller/project/names.h"

namespace kubabase::project {

std::vector<SecretName> UserSecretRefs(const ProjectSpec& spec) {
  // The Secrets the reconcile reads: those the enabled components need (components/).
  std::vector<SecretName> out;
  for (const UserSecretNeed& need : UserSecretNeeds(spec)) {
    SecretName secret(need.source_namespace, need.source_name);
    if (std::find(out.begin(), out.end(), secret) == out.end()) out.push_back(std::move(secret));
  }
  return out;
}

void SecretRefIndex::Set(const std::string& project, const std::vector<SecretName>& secrets) {
  std::lock_guard lock(mu_);
  std::set<SecretName> wanted(secrets.begin(), secrets.end());
  std::set<SecretName>& had = by_project_[project];
  if (had == wanted) return;  // the common case: nothing moved
  for (const SecretName& secret : had) {
    auto it = by_secret_.find(secret);
    if (it == by_secret_.end()) continue;
    it->second.erase(project);
    if (it->second.empty()) by_secret_.erase(it);
  }
  for (const SecretName& secret : wanted) by_secret_[secret].insert(project);
  if (wanted.empty()) {
    by_project_.erase(project);
  } else {
    had = std::move(wanted);
  }
}

void SecretRefIndex::Remove(const std::string& project) { Set(project, {}); }

std::vector<std::string> SecretRefIndex::ProjectsNaming(const std::string& ns,
                                                        const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = by_secret_.find({ns, name});
  if (it == by_secret_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

kube::WatchSpec ReloadSecretsWatch(const SecretRefIndex& refs) {
  kube::WatchSpec spec;
  spec.resource = kube::Resource::Secrets();
  spec.label_selector = std::string(names::kReloadLabel) + "=true";
  // Only to learn that a Secret changed (the reconciler GETs it): a few hundred bytes each,
  // however large the Secrets someone labels.
  spec.transform = kube::KeepIdentityOnly();
  spec.mapper = [&refs](const kube::Json& object) {
    std::vector<kube::ObjectKey> keys;
    auto metadata = object.find("metadata");  // no copy: this runs for every event
    if (metadata == object.end() || !metadata->is_object()) return keys;
    for (std::string& project : refs.ProjectsNaming(metadata->value("namespace", std::string()),
                                                    metadata->value("name", std::string()))) {
      keys.push_back({"", std::move(project)});
    }
    return keys;
  };
  return spec;
}

}  // namespace kubabase::project
