#include "controller/project/policy.h"

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

TEST(AnnotationAllowed, IsExactOrAPrefixEndingInAStar) {
  EXPECT_TRUE(AnnotationAllowed("cert-manager.io/*", "cert-manager.io/cluster-issuer"));
  EXPECT_TRUE(AnnotationAllowed("example.com/x", "example.com/x"));
  EXPECT_TRUE(AnnotationAllowed("*", "anything/at-all"));
  EXPECT_FALSE(AnnotationAllowed("example.com/x", "example.com/xy"));
  EXPECT_FALSE(AnnotationAllowed("cert-manager.io/*", "evil.cert-manager.io/x"));
  EXPECT_FALSE(AnnotationAllowed("cert-manager.io/*", "cert-manager.iox/x"));
  EXPECT_FALSE(AnnotationAllowed("", "x"));
}

ProjectSpec WithAnnotations(std::map<std::string, std::string> annotations) {
  ProjectSpec spec;
  spec.ingress.annotations = std::move(annotations);
  return spec;
}

TEST(CheckPolicy, TheDefaultAllowsCertManagerOnly) {
  const Defaults defaults;
  EXPECT_FALSE(CheckPolicy(WithAnnotations({}), defaults));
  EXPECT_FALSE(CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults));
  // The ingress-nginx classes of CVE-2021-25742 and CVE-2025-1974, and plain strangers.
  for (const char* key : {"nginx.ingress.kubernetes.io/configuration-snippet",
                          "nginx.ingress.kubernetes.io/server-alias",
                          "nginx.ingress.kubernetes.io/auth-url",
                          "nginx.ingress.kubernetes.io/rewrite-target", "example.com/x"}) {
    std::optional<Problem> refused = CheckPolicy(WithAnnotations({{key, "v"}}), defaults);
    ASSERT_TRUE(refused) << key;
    EXPECT_EQ(refused->reason, "AnnotationNotAllowed");
    EXPECT_EQ(refused->message,
              std::string("spec.ingress.annotations: \"") + key +
                  "\" is not allowed; this operator allows cert-manager.io/* (its "
                  "--allowed-ingress-annotations). Remove the annotation, or ask the cluster "
                  "admin to allow it");
  }
}

TEST(CheckPolicy, NamesTheKeyButNeverRepeatsTheValue) {
  std::optional<Problem> refused = CheckPolicy(
      WithAnnotations({{"example.com/x", "more_set_headers \"X-Secret: s3cr3t\";"}}), Defaults{});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->message.find("s3cr3t"), std::string::npos) << refused->message;
}

TEST(CheckPolicy, AnAdminAllowlistIsHonouredAndAnEmptyOneAllowsNothing) {
  Defaults defaults;
  defaults.allowed_ingress_annotations = {"example.com/x", "team.example.com/*"};
  EXPECT_FALSE(CheckPolicy(WithAnnotations({{"example.com/x", "1"}, {"team.example.com/y", "2"}}),
                           defaults));
  EXPECT_TRUE(CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults));
  defaults.allowed_ingress_annotations.clear();
  std::optional<Problem> refused =
      CheckPolicy(WithAnnotations({{"cert-manager.io/cluster-issuer", "le"}}), defaults);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("this operator allows none"), std::string::npos);
}

TEST(CheckPolicy, RefusesASpecBeyondItsPlan) {
  ProjectSpec spec;
  spec.auth.replicas = 5;
  std::optional<Problem> refused = CheckPolicy(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "PlanExceeded");
  EXPECT_EQ(refused->message,
            "spec.auth.replicas: 5 is more than plan \"small\" allows (maxReplicas 2); lower it, "
            "or choose a larger spec.plan");
  spec.auth.replicas = 1;
  spec.plan = "tiny";
  refused = CheckPolicy(spec, Defaults());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->reason, "UnknownPlan");
  spec.plan = "large";
  EXPECT_FALSE(CheckPolicy(spec, Defaults()));
}

}  // namespace
}  // namespace kubabase::project
