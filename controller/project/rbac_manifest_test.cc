// manifests/clusterrole.yaml grants, for every kind of ChildKinds() (resources.h), what the
// operator does with it: list and watch (the caches), create and patch (server-side apply), and
// delete exactly when that kind is pruned, deleted by deletionPolicy Retain, or (the Namespace)
// by deletionPolicy Delete. A new child kind without its rule, or a delete granted on a kind the
// table keeps (PVCs: data), fails here before any cluster runs. That every grant is used and
// every request allowed is tests/e2e/rbac_e2e_test.cc's part, from the audit log.
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/kube/yaml_json.h"
#include "controller/project/resources.h"

namespace kubabase::project {
namespace {

using kube::Json;

// "group/resource" -> verbs, over every rule of the ClusterRole.
std::map<std::string, std::set<std::string>> Granted() {
  const Json role = kube::YamlToJson(YAML::LoadFile("manifests/clusterrole.yaml"));
  std::map<std::string, std::set<std::string>> out;
  for (const Json& rule : role.at("rules")) {
    for (const Json& group : rule.at("apiGroups")) {
      for (const Json& resource : rule.at("resources")) {
        for (const Json& verb : rule.at("verbs")) {
          out[group.get<std::string>() + "/" + resource.get<std::string>()].insert(
              verb.get<std::string>());
        }
      }
    }
  }
  return out;
}

TEST(RbacManifest, GrantsEachChildKindWhatTheChildKindsTableSaysIsDoneWithIt) {
  const auto granted = Granted();
  for (const ChildKind& kind : ChildKinds()) {
    const std::string key = kind.resource->group + "/" + kind.resource->resource;
    SCOPED_TRACE(key);
    auto it = granted.find(key);
    ASSERT_NE(it, granted.end()) << "no rule in manifests/clusterrole.yaml";
    for (const char* verb : {"list", "watch", "create", "patch"}) {
      EXPECT_EQ(it->second.count(verb), 1u) << verb;
    }
    const bool deleted = kind.pruned || kind.on_retain == OnRetain::kDelete ||
                         kind.resource == &kube::Resource::Namespaces();
    EXPECT_EQ(it->second.count("delete"), deleted ? 1u : 0u)
        << (deleted ? "pruned or deleted by a deletionPolicy: needs delete"
                    : "kept by every policy (data): must not be deletable");
    EXPECT_EQ(it->second.count("update"), 0u) << "every write is a patch";
  }
}

TEST(RbacManifest, GrantsNothingOnKindsThatAreNotChildrenBeyondProjectsAndEvents) {
  std::set<std::string> expected = {"kubabase.io/projects", "kubabase.io/projects/status",
                                    "kubabase.io/projects/finalizers", "/events"};
  for (const ChildKind& kind : ChildKinds()) {
    expected.insert(kind.resource->group + "/" + kind.resource->resource);
  }
  for (const auto& [resource, verbs] : Granted()) {
    EXPECT_EQ(expected.count(resource), 1u) << resource << " is granted but not a child kind";
  }
}

}  // namespace
}  // namespace kubabase::project
