// crds/project.yaml is the source of truth for the spec's defaults, and ParseProject must default
// the same way: the apiserver defaults what it stores, but tests, fakes and older CRDs hand
// ParseProject objects it never saw. Both directions fail on a difference:
//   - the CRD's `default`s applied to an empty spec (as the apiserver does: an object's default
//     first, then its properties') parse to what ParseProject assumes;
//   - a field the CRD leaves undefaulted has the zero value in C++ too.
// crd_constraints_test does the same for ranges, patterns and CEL rules.
#include <string>

#include <gtest/gtest.h>

#include "controller/project/project.h"
#include "controller/project/testing/crd_schema.h"

namespace kubabase::project {
namespace {

using testing::ProjectWithSpec;
using testing::SetAt;
using testing::SpecSchema;
using testing::Walk;

// Structural defaulting: fills absent properties that have a default, recursing into objects.
void ApplyDefaults(const Json& schema, Json& value) {
  if (!value.is_object() || !schema.contains("properties")) return;
  for (const auto& [name, property] : schema["properties"].items()) {
    if (!value.contains(name) && property.contains("default")) value[name] = property["default"];
    if (value.contains(name)) ApplyDefaults(property, value[name]);
  }
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

// The value a field reads as when it is absent and nothing defaults it.
Json ZeroValue(const Json& node) {
  if (node.contains("anyOf")) return "0";  // int-or-string: the quantity zero
  const std::string type = node.value("type", "");
  if (type == "string") return "";
  if (type == "boolean") return false;
  if (type == "integer") return 0;
  if (type == "array") return Json::array();
  return Json::object();
}

TEST(CrdDefaults, AFieldTheCrdDoesNotDefaultIsTheZeroValueInCppToo) {
  // If C++ had a default the CRD lacks, spelling out the zero value would change the parse.
  const Json spec_schema = SpecSchema();
  StatusOr<Project> from_empty = ParseProject(ProjectWithSpec(Json::object()));
  ASSERT_TRUE(from_empty.ok());
  int checked = 0;
  Walk(spec_schema, "spec", [&](const std::string& path, const Json& node) {
    // resources is kept as given (core/v1 passes through), so C++ has no defaults inside it.
    const bool kept_as_given = path.ends_with(".resources");
    if (path == "spec" || path.find_first_of("[]{}") != std::string::npos) return;
    if (path.find(".resources.") != std::string::npos) return;
    if (node.contains("default") || (node.contains("properties") && !kept_as_given)) return;
    ++checked;
    Json spec = Json::object();
    SetAt(spec, spec_schema, path, ZeroValue(node));
    StatusOr<Project> from_zero = ParseProject(ProjectWithSpec(spec));
    ASSERT_TRUE(from_zero.ok()) << path << " = " << ZeroValue(node).dump()
                                << " is rejected, so its C++ default is not zero and the CRD "
                                   "needs that default: "
                                << from_zero.status().ToString();
    EXPECT_TRUE(from_zero->spec == from_empty->spec)
        << path << " has a C++ default the CRD does not state";
  });
  EXPECT_GT(checked, 20);
}

}  // namespace
}  // namespace kubabase::project
