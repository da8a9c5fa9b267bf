// The Projects on which Matches (kube/apply.h) is proven, and the ONE place those proofs call render.
// Shared by controller/project/matches_proof_test.cc (every leaf mutated: Matches must say "no")
// and tests/integration/matches_apiserver_test.cc (every object applied to the real apiserver:
// Matches must say "yes" to what it returns). Test-only, header-only.
//
//   for (const MatchesCase& c : MatchesCases()) {
//     StatusOr<std::vector<Json>> objects = RenderForMatches(c.project, c.defaults);
//     ...
//   }
//
// The cases: the two golden fixtures of render/testdata exactly as render_test.cc renders them,
// plus two variants that reach the canonicalisations the fixtures do not: "minimal-paused"
// (replicas: 0 everywhere) and "acme-quantities" (the full fixture with quantities the apiserver
// rewrites: "0.5" cpu, "1024Mi", an integer cpu, "20480Mi" and "1.5Gi" volumes). Each case has its
// own project name, hence its own namespace, so the integration test can apply them side by side.
#pragma once

#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"
#include "controller/project/render/render.h"
#include "controller/project/render/render_testing.h"

namespace kubabase::project::testing {

struct MatchesCase {
  std::string label;  // for test output
  Project project;    // parsed; the integration test replaces uid with a real Project's
  Defaults defaults;
};

// Every object render produces for `project`, in apply order, with the fixed keys of
// render_testing.h. When render's signature changes, this is the one function to adapt.
inline StatusOr<std::vector<Json>> RenderForMatches(const Project& project,
                                                    const Defaults& defaults) {
  StatusOr<Rendered> rendered = DesiredState(project, defaults, FixedKeys(), FixedUserSecrets());
  if (!rendered.ok()) return rendered.status();
  return std::move(rendered->objects);
}

// testdata/<fixture>.project.json renamed to `name` with `spec_patch` merged into its spec
// (RFC 7386), parsed. Fails the calling test when it does not parse.
inline Project FixtureVariant(const std::string& fixture, const std::string& name,
                              const Json& spec_patch) {
  Json object = Json::parse(ReadFile(std::string(kTestdata) + fixture + ".project.json"));
  object["metadata"]["name"] = name;
  object["spec"].merge_patch(spec_patch);
  StatusOr<Project> project = ParseProject(object);
  EXPECT_TRUE(project.ok()) << name << ": " << project.status().ToString();
  return project.ok() ? *project : Project{};
}

// The defaults render_test.cc renders the full fixture with.
inline Defaults FullFixtureDefaults() {
  Defaults defaults;
  defaults.base_domain = "api.example.com";
  defaults.ingress_class = "ignored-because-the-spec-names-one";
  defaults.ingress_namespace = "ingress-system";
  return defaults;
}

inline std::vector<MatchesCase> MatchesCases() {
  std::vector<MatchesCase> cases;
  cases.push_back({"minimal", Fixture("minimal"), Defaults()});
  cases.push_back({"full", Fixture("full"), FullFixtureDefaults()});
  cases.push_back({"minimal-paused",
                   FixtureVariant("minimal", "minimal-paused", {{"paused", true}}), Defaults()});
  Json quantities = {
      {"database",
       {{"storage", {{"size", "20480Mi"}}},
        {"resources",
         {{"requests", {{"cpu", "0.5"}, {"memory", "1024Mi"}}},
          {"limits", {{"cpu", 1}, {"memory", "2048Mi"}}}}}}},
      {"rest", {{"resources", {{"requests", {{"cpu", "0.1"}, {"memory", "0.5Gi"}}}}}}},
      {"storage", {{"backend", "file"}, {"s3", nullptr}, {"volume", {{"size", "1.5Gi"}}}}}};
  cases.push_back({"acme-quantities", FixtureVariant("full", "acme-quantities", quantities),
                   FullFixtureDefaults()});
  return cases;
}

}  // namespace kubabase::project::testing
