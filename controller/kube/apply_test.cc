#include "controller/kube/apply.h"

#include <gtest/gtest.h>

#include "controller/kube/testing/apply_objects.h"

namespace kubabase::kube {
namespace {

using testing::AsObserved;
using testing::Deployment;

TEST(MatchesTest, AnObjectMatchesItselfAsTheApiserverReturnsIt) {
  EXPECT_TRUE(Matches(Deployment(1), AsObserved(Deployment(1))));
}

TEST(MatchesTest, AChangedScalarDoesNotMatch) {
  EXPECT_FALSE(Matches(Deployment(2), AsObserved(Deployment(1))));
}

TEST(MatchesTest, AMissingFieldDoesNotMatch) {
  Json observed = AsObserved(Deployment(1));
  observed["metadata"]["labels"].erase("kubabase.io/project");
  EXPECT_FALSE(Matches(Deployment(1), observed));
}

TEST(MatchesTest, ListsMustHaveTheSameLengthAndMatchingElements) {
  Json desired = Deployment(1);
  Json longer = AsObserved(Deployment(1));
  longer["spec"]["template"]["spec"]["containers"][0]["env"].push_back({{"name", "B"}});
  EXPECT_FALSE(Matches(desired, longer));
  Json reordered = AsObserved(Deployment(1));
  reordered["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "2";
  EXPECT_FALSE(Matches(desired, reordered));
}

TEST(MatchesTest, QuantitiesCompareByValueWhereTheApiserverCanonicalisesThem) {
  EXPECT_TRUE(Matches(Deployment(1, "1024Mi"), AsObserved(Deployment(1, "1Gi"))));
  EXPECT_FALSE(Matches(Deployment(1, "1025Mi"), AsObserved(Deployment(1, "1Gi"))));
  EXPECT_FALSE(Matches(Deployment(1, "1073741825"), AsObserved(Deployment(1, "1Gi"))))
      << "one byte is a difference";
  Json cpu = Deployment(1);
  cpu["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "0.5";
  Json cpu_observed = AsObserved(cpu);
  cpu_observed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "500m";
  EXPECT_TRUE(Matches(cpu, cpu_observed));
  cpu["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 1;
  cpu_observed["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "1";
  EXPECT_TRUE(Matches(cpu, cpu_observed)) << "an integer quantity comes back as text";
  auto claim = [](const char* size) {
    return Json{{"spec", {{"resources", {{"requests", {{"storage", size}}}}}}}};
  };
  EXPECT_TRUE(Matches(claim("10Gi"), claim("10240Mi")));
  auto stateful_set = [&](const char* size) {
    return Json{{"spec", {{"volumeClaimTemplates", Json::array({claim(size)})}}}};
  };
  EXPECT_TRUE(Matches(stateful_set("10Gi"), stateful_set("10240Mi")));
}

TEST(MatchesTest, QuantityEqualityIsByPathNotByKeyName) {
  EXPECT_FALSE(Matches({{"env", {{{"name", "X"}, {"value", "1024Mi"}}}}},
                       {{"env", {{{"name", "X"}, {"value", "1Gi"}}}}}));
  // A "requests" or "storage" key elsewhere is not a ResourceRequirements the apiserver rewrites.
  EXPECT_FALSE(Matches({{"requests", {{"storage", "10Gi"}}}},
                       {{"requests", {{"storage", "10240Mi"}}}}));
  EXPECT_FALSE(Matches({{"spec", {{"sizeLimit", "1Gi"}}}}, {{"spec", {{"sizeLimit", "1024Mi"}}}}));
}

TEST(MatchesTest, NumbersCompareByValue) {
  EXPECT_TRUE(Matches({{"port", 5432}}, {{"port", 5432u}}));
  EXPECT_TRUE(Matches({{"port", 5432}}, {{"port", 5432.0}}));
  EXPECT_FALSE(Matches({{"port", 5432}}, {{"port", "5432"}}));
}

// The apiserver returns each zero value render sends (tests/integration/matches_apiserver_test.cc):
// an absent one was deleted by someone, and taking it for "unchanged" left it deleted for good.
TEST(MatchesTest, AZeroValueDoesNotMatchAnAbsentField) {
  for (const Json& zero :
       {Json(false), Json(0), Json(""), Json::object(), Json::array(), Json(nullptr)}) {
    EXPECT_FALSE(Matches({{"allowPrivilegeEscalation", zero}}, Json::object())) << zero.dump();
    EXPECT_TRUE(Matches({{"allowPrivilegeEscalation", zero}}, {{"allowPrivilegeEscalation", zero}}))
        << zero.dump();
  }
  Json unpaused = AsObserved(Deployment(0));
  unpaused["spec"].erase("replicas");  // the apiserver would default it to 1
  EXPECT_FALSE(Matches(Deployment(0), unpaused)) << "replicas: 0 (paused) deleted";
}

TEST(MatchesTest, ValuesOfAnotherTypeDoNotMatch) {
  EXPECT_FALSE(Matches({{"hostNetwork", false}}, {{"hostNetwork", "false"}}));
  EXPECT_FALSE(Matches({{"emptyDir", Json::object()}}, {{"emptyDir", nullptr}}));
  EXPECT_FALSE(Matches({{"args", Json::array()}}, {{"args", ""}}));
}

}  // namespace
}  // namespace kubabase::kube
