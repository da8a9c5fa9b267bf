// crds/project.yaml and ParseProject must default the same way: the apiserver defaults objects it
// stores, but tests, fakes and older CRDs hand ParseProject undefaulted ones. This test applies
// the CRD's `default`s to an empty spec as the apiserver does (an object's default first, then its
// properties' defaults) and checks that both parse to the same ProjectSpec.
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "controller/kube/yaml_json.h"
#include "controller/project/project.h"

namespace kubabase::project {
namespace {

// Structural defaulting: fills absent properties that have a default, recursing into objects.
void ApplyDefaults(const Json& schema, Json& value) {
  if (!value.is_object() || !schema.contains("properties")) return;
  for (const auto& [name, property] : schema["properties"].items()) {
    if (!value.contains(name) && property.contains("default")) value[name] = property["default"];
    if (value.contains(name)) ApplyDefaults(property, value[name]);
  }
}

Json SpecSchema() {
  YAML::Node crd = YAML::LoadFile("crds/project.yaml");
  return kube::YamlToJson(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]);
}

Json ProjectWithSpec(const Json& spec) {
  return {{"apiVersion", "kubabase.io/v1alpha1"},
          {"kind", "Project"},
          {"metadata", {{"name", "acme-shop"}}},
          {"spec", spec}};
}

TEST(CrdDefaults, MatchWhatParseProjectAssumes) {
  Json schema = SpecSchema();
  ASSERT_TRUE(schema.contains("properties")) << "crds/project.yaml has no spec schema";
  Json defaulted = schema["default"];
  ApplyDefaults(schema, defaulted);
  ASSERT_TRUE(defaulted.contains("rest")) << defaulted.dump();

  StatusOr<Project> from_crd = ParseProject(ProjectWithSpec(defaulted));
  StatusOr<Project> from_code = ParseProject(ProjectWithSpec(Json::object()));
  ASSERT_TRUE(from_crd.ok()) << from_crd.status().ToString();
  ASSERT_TRUE(from_code.ok());
  EXPECT_TRUE(from_crd->spec == from_code->spec) << "CRD defaults: " << defaulted.dump(2);
}

TEST(CrdDefaults, MatchInsideOptionalObjectsOnceTheyArePresent) {
  // smtp and s3 have no object default (an absent block stays absent), but their fields do.
  Json schema = SpecSchema();
  Json spec = {{"auth", {{"smtp", Json::object()}}}, {"storage", {{"s3", Json::object()}}}};
  ApplyDefaults(schema, spec);
  StatusOr<Project> from_crd = ParseProject(ProjectWithSpec(spec));
  StatusOr<Project> from_code = ParseProject(ProjectWithSpec(Json::object()));
  ASSERT_TRUE(from_crd.ok() && from_code.ok());
  EXPECT_EQ(from_crd->spec.auth.smtp, from_code->spec.auth.smtp) << spec.dump();
  EXPECT_EQ(from_crd->spec.storage.s3, from_code->spec.storage.s3) << spec.dump();
  EXPECT_EQ(spec["auth"]["smtp"]["port"], 587);
}

}  // namespace
}  // namespace kubabase::project
