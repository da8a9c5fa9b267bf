// Tenant isolation (docs/security.md): whoever writes a Project reaches nothing beyond it. Each
// test performs an attack as a Project's author would and shows it refused, with the condition
// and Event the author reads. See project_fixture.h.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

Json WithAnnotations(const Json& annotations) {
  return {{"ingress", {{"annotations", annotations}}}};
}

// ---------------------------------------------------------------------------------------------
// Ingress annotation injection: a snippet, server-alias, auth-url, mirror-* or canary-* could
// run configuration in the shared ingress controller, serve another tenant's host, or copy its
// traffic elsewhere.

class IngressAnnotationsApiTest : public ProjectE2eTest {
 protected:
  bool WantsOperator() const override { return false; }
};

TEST_F(IngressAnnotationsApiTest, TheApiserverRefusesSnippetsAndIngressNginxRedirections) {
  for (const char* key : {"nginx.ingress.kubernetes.io/configuration-snippet",
                          "nginx.ingress.kubernetes.io/server-snippet",
                          "haproxy.org/backend-config-snippet",
                          "nginx.ingress.kubernetes.io/server-alias",
                          "nginx.ingress.kubernetes.io/auth-url",
                          "nginx.ingress.kubernetes.io/mirror-target",
                          "nginx.ingress.kubernetes.io/canary-by-header"}) {
    SCOPED_TRACE(key);
    const std::string name = NewProjectName("annotation");
    StatusOr<Json> created = CreateProject(name, WithAnnotations({{key, "x"}}));
    ASSERT_FALSE(created.ok()) << "accepted " << key;
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument)
        << created.status().ToString();
    EXPECT_NE(created.status().message().find("spec.ingress.annotations may not hold"),
              std::string::npos)
        << created.status().message();
    EXPECT_TRUE(GetProject(name).status().IsNotFound());
  }
}

TEST_F(ProjectE2eTest, AnAnnotationTheOperatorDoesNotAllowStallsTheProjectAndWritesNothing) {
  // Passes the CRD (no known-dangerous key), but the operator's default allowlist is
  // cert-manager.io/* only.
  const std::string name = NewProjectName("annotation");
  const std::string key = "example.com/route-to";
  ASSERT_TRUE(CreateProject(name, WithAnnotations({{key, "elsewhere"},
                                                   {"cert-manager.io/cluster-issuer", "le"}}))
                  .ok());
  ASSERT_TRUE(WaitForNotReady(name, "AnnotationNotAllowed",
                              {"\"" + key + "\"", "--allowed-ingress-annotations"}));
  StatusOr<Json> stalled = GetProject(name);
  ASSERT_TRUE(stalled.ok());
  EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(name);
  EXPECT_EQ(StringAt(*stalled, "/status/phase"), "Failed");
  EXPECT_EQ(StringAt(Condition(*stalled, "Ready"), "/message").find("elsewhere"),
            std::string::npos)
      << "the annotation's value is repeated";
  EXPECT_TRUE(WaitForWarning(name, "AnnotationNotAllowed"));
  StatusOr<Json> ns = Get(Resource::Namespaces(), "", ProjectNamespace(name));
  EXPECT_TRUE(!ns.ok() && ns.status().IsNotFound()) << "a refused Project got a namespace";

  // Removing the annotation is all it takes.
  ASSERT_TRUE(PatchSpec(name, WithAnnotations({{key, nullptr}})));
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> ingress = Get(Resource::Ingresses(), ProjectNamespace(name), "api");
  ASSERT_TRUE(ingress.ok()) << ingress.status().ToString();
  EXPECT_EQ(StringAt(*ingress, "/metadata/annotations/cert-manager.io~1cluster-issuer"), "le");
}

class AllowedAnnotationsE2eTest : public ProjectE2eTest {
 protected:
  std::vector<std::string> OperatorArgs() const override {
    return {"--allowed-ingress-annotations=cert-manager.io/*,example.com/*"};
  }
};

TEST_F(AllowedAnnotationsE2eTest, AnAnnotationTheAdminAllowsReachesTheIngresses) {
  const std::string name = NewProjectName("allowed");
  ASSERT_TRUE(CreateProject(name, WithAnnotations({{"example.com/team", "blue"}})).ok());
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> ingress = Get(Resource::Ingresses(), ProjectNamespace(name), "api");
  ASSERT_TRUE(ingress.ok()) << ingress.status().ToString();
  EXPECT_EQ(StringAt(*ingress, "/metadata/annotations/example.com~1team"), "blue");
}

}  // namespace
}  // namespace kubabase::e2e
