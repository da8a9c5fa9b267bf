// The Project API as the apiserver serves it: bad specs are rejected with a message naming the
// field (the CRD's schema and CEL rules; no operator runs). See project_fixture.h.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

// ---------------------------------------------------------------------------------------------
// The schema: no operator needed.

class ProjectApiTest : public ProjectE2eTest {
 protected:
  bool WantsOperator() const override { return false; }
};

TEST_F(ProjectApiTest, BadSpecsAreRejectedByTheApiserverWithAMessageNamingTheField) {
  struct Case {
    std::string what;
    std::string name;
    Json spec;
    std::string field;
  };
  const std::string suffix = RandomSuffix();
  const std::vector<Case> cases = {
      {"a name longer than 40 characters", "e2e-" + std::string(37, 'n'), Json::object(),
       "metadata.name"},
      {"negative replicas", "e2e-badreplicas-" + suffix, {{"rest", {{"replicas", -1}}}},
       "spec.rest.replicas"},
      {"backend s3 without an endpoint", "e2e-bads3-" + suffix,
       {{"storage", {{"backend", "s3"}, {"s3", {{"bucket", "b"}}}}}}, "spec.storage.s3.endpoint"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    projects_.push_back(c.name);  // cleaned up should the apiserver accept it
    StatusOr<Json> created = CreateProject(c.name, c.spec);
    ASSERT_FALSE(created.ok()) << "accepted: " << c.spec.dump();
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument)
        << created.status().ToString();
    EXPECT_NE(created.status().message().find(c.field), std::string::npos)
        << "the message does not name " << c.field << ": " << created.status().message();
    EXPECT_TRUE(GetProject(c.name).status().IsNotFound());
  }
}

}  // namespace
}  // namespace kubabase::e2e
