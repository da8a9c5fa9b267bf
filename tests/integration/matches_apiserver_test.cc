// Matches (controller/kube/apply.h) against the real kube-apiserver: the half of its proof a
// unit test cannot give. Every object render produces for the cases of
// controller/project/testing/matches_fixtures.h is server-side applied (field manager kubabase,
// force, as the Applier does) into the namespace render names, and Matches(desired, returned)
// must hold for the apply response, for a later GET, and for that GET as the informer cache
// holds it (kube::DefaultTransform). So every rule of Matches is one the apiserver needs, and
// none is a guess: each leaf the apiserver returns differently from what was sent is printed
// ("canonicalised: ..."), which is the evidence kube/apply.h cites. The other half (every changed or
// deleted field is drift) is controller/project/matches_proof_test.cc.
//
// Owner references: render points them at the Project's uid, and the apiserver's
// OwnerReferencesPermissionEnforcement resolves the owner's kind, so the Project CRD is installed
// (crds/project.yaml, as tests/e2e does) and a real Project of each case's name is created first;
// its uid is the one rendered. Nothing is stripped from what render produces. No operator runs
// here, so the Projects keep no finalizer; ctest's RESOURCE_LOCK kubabase_install_crd keeps the
// e2e and install tests (which run operators and apply the same CRD) from running beside this.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/kube/cache.h"
#include "controller/kube/yaml_json.h"
#include "controller/kube/apply.h"
#include "controller/project/names.h"
#include "controller/project/resources.h"
#include "controller/project/testing/matches_fixtures.h"
#include "tests/integration/client_support.h"

namespace kubabase::project {
namespace {

using kube::Matches;
using kube::Resource;
using Pointer = Json::json_pointer;

// Polls `done` every 200 ms until it is true or `timeout` passes.
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return true;
}

// Each leaf of `desired` that `observed` lacks or holds with another JSON value, one per line.
std::string LeafDifferences(const Json& desired, const Json& observed,
                            const Pointer& at = Pointer()) {
  if (desired.is_structured() && !desired.empty()) {
    std::string out;
    if (desired.is_object()) {
      for (const auto& [key, child] : desired.items()) {
        out += LeafDifferences(child, observed, at / key);
      }
    } else {
      for (size_t i = 0; i < desired.size(); ++i) {
        out += LeafDifferences(desired[i], observed, at / i);
      }
    }
    return out;
  }
  if (!observed.contains(at)) return at.to_string() + ": " + desired.dump() + " -> absent\n";
  if (observed[at] != desired) {
    return at.to_string() + ": " + desired.dump() + " -> " + observed[at].dump() + "\n";
  }
  return "";
}

class MatchesApiserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kube::HttpApiClientOptions options;
    options.qps = 100;
    options.burst = 200;
    options.user_agent = "kubabase-matches-it";  // edits made by the test belong to another manager
    StatusOr<std::unique_ptr<kube::HttpApiClient>> client = kube::testing::ClusterClient(options);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    ASSERT_NO_FATAL_FAILURE(EnsureProjectCrd());
  }

  void TearDown() override {
    for (const std::string& name : projects_) {
      Status deleted = client_->Delete(ProjectsResource(), "", name);
      EXPECT_TRUE(deleted.ok() || deleted.IsNotFound()) << deleted.ToString();
    }
    for (const std::string& ns : namespaces_) {
      Status deleted = client_->Delete(Resource::Namespaces(), "", ns);
      EXPECT_TRUE(deleted.ok() || deleted.IsNotFound()) << deleted.ToString();
    }
  }

  void EnsureProjectCrd() {
    const Resource& crds = Resource::CustomResourceDefinitions();
    Json crd = kube::YamlToJson(YAML::LoadFile("crds/project.yaml"));
    const std::string name = crd["metadata"]["name"].get<std::string>();
    kube::ApplyOptions apply{.field_manager = "kubabase-matches-it", .force = true};
    StatusOr<Json> applied = client_->Apply(crds, "", name, crd, apply);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    ASSERT_TRUE(Eventually(
        [&] {
          StatusOr<Json> got = client_->Get(crds, "", name);
          if (!got.ok()) return false;
          for (const Json& condition : (*got)["status"].value("conditions", Json::array())) {
            if (condition.value("type", "") == "Established") {
              return condition.value("status", "") == "True";
            }
          }
          return false;
        },
        std::chrono::seconds(60)))
        << "CRD " << name << " not Established";
  }

  // Deletes what a failed earlier run may have left: the namespace and Project of this name.
  void RemoveLeftovers(const std::string& project, const std::string& ns) {
    for (auto [resource, object_name] : {std::pair{&ProjectsResource(), project},
                                         std::pair{&Resource::Namespaces(), ns}}) {
      Status deleted = client_->Delete(*resource, "", object_name);
      ASSERT_TRUE(deleted.ok() || deleted.IsNotFound()) << deleted.ToString();
      auto gone = [&] { return client_->Get(*resource, "", object_name).status().IsNotFound(); };
      ASSERT_TRUE(Eventually(gone, std::chrono::seconds(120)))
          << object_name << " is still there";
    }
  }

  // Creates a Project named as `c.project` and returns c's objects rendered with its real uid.
  std::vector<Json> RenderWithRealOwner(testing::MatchesCase c) {
    const std::string ns = names::Namespace(c.defaults, c.project.name);
    RemoveLeftovers(c.project.name, ns);
    if (::testing::Test::HasFatalFailure()) return {};
    Json project = {{"apiVersion", std::string(names::kApiVersion)},
                    {"kind", std::string(names::kKind)},
                    {"metadata", {{"name", c.project.name}}},
                    {"spec", Json::object()}};
    StatusOr<Json> created = client_->Create(ProjectsResource(), "", project);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return {};
    projects_.push_back(c.project.name);
    namespaces_.push_back(ns);
    c.project.uid = (*created)["metadata"]["uid"].get<std::string>();
    StatusOr<std::vector<Json>> objects = testing::RenderForMatches(c.project, c.defaults);
    EXPECT_TRUE(objects.ok()) << objects.status().ToString();
    return objects.ok() ? *objects : std::vector<Json>{};
  }

  StatusOr<Json> ApplyAsTheOperator(const Json& object) {
    KUBABASE_ASSIGN_OR_RETURN(const Resource* resource, ResourceForObject(object));
    const std::string ns = resource->namespaced ? object["metadata"].value("namespace", "") : "";
    return client_->Apply(*resource, ns, object["metadata"]["name"].get<std::string>(), object,
                          {.field_manager = std::string(names::kFieldManager), .force = true});
  }

  StatusOr<Json> GetBack(const Json& object) {
    KUBABASE_ASSIGN_OR_RETURN(const Resource* resource, ResourceForObject(object));
    const std::string ns = resource->namespaced ? object["metadata"].value("namespace", "") : "";
    return client_->Get(*resource, ns, object["metadata"]["name"].get<std::string>());
  }

  std::unique_ptr<kube::HttpApiClient> client_;
  std::vector<std::string> projects_, namespaces_;
};

std::string Describe(const std::string& label, const Json& object) {
  return label + " " + object["kind"].get<std::string>() + "/" +
         object["metadata"]["name"].get<std::string>();
}

TEST_F(MatchesApiserverTest, EveryRenderedObjectMatchesWhatTheApiserverReturnsForIt) {
  int objects_checked = 0;
  for (const testing::MatchesCase& c : testing::MatchesCases()) {
    SCOPED_TRACE(c.label);
    std::vector<Json> objects = RenderWithRealOwner(c);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_GE(objects.size(), 15u);
    for (const Json& desired : objects) {
      const std::string what = Describe(c.label, desired);
      StatusOr<Json> applied = ApplyAsTheOperator(desired);
      ASSERT_TRUE(applied.ok()) << what << ": " << applied.status().ToString();
      EXPECT_TRUE(Matches(desired, *applied))
          << what << " (apply response) differs at:\n" << LeafDifferences(desired, *applied);
      std::string differences = LeafDifferences(desired, *applied);
      if (!differences.empty()) std::cout << "canonicalised: " << what << "\n" << differences;
    }
    // Read back after every object exists (controllers may have acted on them meanwhile), and as
    // the reconciler's cache holds it.
    for (const Json& desired : objects) {
      const std::string what = Describe(c.label, desired);
      StatusOr<Json> got = GetBack(desired);
      ASSERT_TRUE(got.ok()) << what << ": " << got.status().ToString();
      EXPECT_TRUE(Matches(desired, *got)) << what << " (GET) differs at:\n"
                                          << LeafDifferences(desired, *got);
      Json cached = *got;
      kube::DefaultTransform()(cached);
      EXPECT_TRUE(Matches(desired, cached)) << what << " (as cached) differs at:\n"
                                            << LeafDifferences(desired, cached);
      ++objects_checked;
    }
  }
  EXPECT_GT(objects_checked, 60);
}

// Item 10 of issue 9: a `false` deleted by someone else was taken for "unchanged" and never put
// back. Here each is deleted with a PUT by another manager, must be seen as drift, and one apply
// must restore it.
TEST_F(MatchesApiserverTest, AFalseDeletedByAnotherManagerIsDriftAndOneApplyRestoresIt) {
  testing::MatchesCase c{"minimal-drift", testing::FixtureVariant("minimal", "minimal-drift", {}),
                         Defaults()};
  std::vector<Json> objects = RenderWithRealOwner(c);
  ASSERT_FALSE(HasFatalFailure());
  for (const Json& desired : objects) ASSERT_TRUE(ApplyAsTheOperator(desired).ok());
  Json rest = testing::Find(objects, "Deployment", names::kRest);
  ASSERT_TRUE(rest.is_object());
  // None has a default in a pod template: after the PUT each is simply absent (measured: even
  // enableServiceLinks, which a Pod would default to true, stays absent in a Deployment).
  const std::string pod = "/spec/template/spec";
  const std::vector<Pointer> fields = {
      Pointer(pod + "/containers/0/securityContext/allowPrivilegeEscalation"),
      Pointer(pod + "/automountServiceAccountToken"),
      Pointer(pod + "/enableServiceLinks"),
  };
  kube::ApiClient& client = *client_;
  kube::Applier applier(client, nullptr, std::string(names::kFieldManager), ApplyKindOf);
  for (const Pointer& field : fields) {
    SCOPED_TRACE(field.to_string());
    ASSERT_EQ(rest[field], false);
    // Another manager deletes the field with an UPDATE. The Deployment controller writes the
    // object too (status, revision annotation), so a stale resourceVersion is retried on a fresh
    // read, as any client of a live object must.
    StatusOr<Json> updated = AbortedError("not tried");
    for (int attempt = 0; attempt < 10 && updated.status().code() == StatusCode::kAborted;
         ++attempt) {
      StatusOr<Json> got = GetBack(rest);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      Json edited = *got;
      edited[field.parent_pointer()].erase(field.back());
      updated = client.Update(Resource::Deployments(),
                              rest["metadata"]["namespace"].get<std::string>(), names::kRest,
                              edited);
    }
    ASSERT_TRUE(updated.ok()) << updated.status().ToString();
    ASSERT_FALSE(updated->contains(field)) << (*updated)[field.parent_pointer()].dump();

    EXPECT_FALSE(Matches(rest, *updated)) << "the deletion is not seen as drift";
    StatusOr<bool> wrote = applier.ApplyOne(rest, &*updated);
    ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
    EXPECT_TRUE(*wrote);
    StatusOr<Json> restored = GetBack(rest);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ((*restored).value(field, Json("absent")), false);
    EXPECT_TRUE(Matches(rest, *restored));
  }
}

}  // namespace
}  // namespace kubabase::project
