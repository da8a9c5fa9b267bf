#include "controller/project/apply.h"

#include <gtest/gtest.h>

#include "controller/project/testing/fake_cluster.h"

namespace kubabase::project {
namespace {

using kube::Resource;
using testing::FakeCluster;

Json Deployment(int replicas, const std::string& memory = "1Gi") {
  return Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "rest", "namespace": "project-a", "labels": {"kubabase.io/project": "a"}},
    "spec": {"replicas": 1, "template": {"spec": {"containers": [
      {"name": "rest", "image": "postgrest/postgrest:v14.5",
       "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}},
       "env": [{"name": "A", "value": "1"}]}]}}}})")
      .patch(Json::array({{{"op", "replace"}, {"path", "/spec/replicas"}, {"value", replicas}},
                          {{"op", "replace"},
                           {"path", "/spec/template/spec/containers/0/resources/requests/memory"},
                           {"value", memory}}}));
}

// What the apiserver hands back: the same fields, plus defaults, status and metadata it owns.
Json AsObserved(Json object) {
  object["metadata"]["uid"] = "1234";
  object["metadata"]["resourceVersion"] = "77";
  object["metadata"]["labels"]["extra"] = "added-by-someone";
  object["spec"]["strategy"] = {{"type", "RollingUpdate"}};
  object["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] =
      "/dev/termination-log";
  object["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  object["status"] = {{"readyReplicas", 1}};
  return object;
}

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

TEST(ParseQuantityTest, ReadsEverySuffix) {
  long double v = 0;
  ASSERT_TRUE(ParseQuantity("1Gi", &v));
  EXPECT_EQ(v, 1073741824.0L);
  ASSERT_TRUE(ParseQuantity("250m", &v));
  EXPECT_NEAR(static_cast<double>(v), 0.25, 1e-12);
  ASSERT_TRUE(ParseQuantity("2e3", &v));
  EXPECT_EQ(v, 2000.0L);
  EXPECT_FALSE(ParseQuantity("ten", &v));
  EXPECT_FALSE(ParseQuantity("", &v));
}

class ApplierTest : public ::testing::Test {
 protected:
  FakeCluster cluster_;
  kube::Metrics metrics_;
  Applier applier_{cluster_, &metrics_};
  ObservedLookup observed_ = [this](const Resource& r, std::string_view ns,
                                    std::string_view name) {
    return cluster_.Observe(r, ns, name);
  };
};

TEST_F(ApplierTest, CreatesWhatIsMissingWithFieldManagerKubabaseAndForce) {
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->created, std::vector<std::string>{"Deployment/rest"});
  ASSERT_EQ(cluster_.calls().size(), 1u);
  EXPECT_EQ(cluster_.calls()[0].verb, "apply");
  EXPECT_EQ(cluster_.calls()[0].ns, "project-a");
}

TEST_F(ApplierTest, ASteadyStateMakesNoWrites) {
  cluster_.Put(Resource::Deployments(), AsObserved(Deployment(1)));
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->unchanged, 1);
  EXPECT_FALSE(result->wrote());
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, ADriftedObjectIsUpdated) {
  cluster_.Put(Resource::Deployments(), AsObserved(Deployment(3)));
  auto result = applier_.ApplyAll({Deployment(1)}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->updated, std::vector<std::string>{"Deployment/rest"});
  EXPECT_EQ((*cluster_.Observe(Resource::Deployments(), "project-a", "rest"))["spec"]["replicas"],
            1);
}

TEST_F(ApplierTest, StopsAtTheFirstFailureAndNamesTheObject) {
  cluster_.FailNext("apply", UnavailableError("etcd leader changed"));
  Json service = {{"apiVersion", "v1"}, {"kind", "Service"},
                  {"metadata", {{"name", "rest"}, {"namespace", "project-a"}}}};
  auto result = applier_.ApplyAll({Deployment(1), service}, observed_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(result.status().message().find("Deployment project-a/rest"), std::string::npos);
  EXPECT_EQ(cluster_.Count("apply"), 1);
}

TEST_F(ApplierTest, AnUnknownKindIsRejectedWithoutAWrite) {
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "x"}}}};
  auto result = applier_.ApplyAll({pod}, observed_);
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, AnExistingJobIsNeverReappliedBecauseItsTemplateIsImmutable) {
  Json job = {{"apiVersion", "batch/v1"}, {"kind", "Job"},
              {"metadata", {{"name", "db-bootstrap-abc"}, {"namespace", "project-a"}}},
              {"spec", {{"backoffLimit", 6}}}};
  Json observed = job;
  observed["spec"]["backoffLimit"] = 3;  // whatever differs, the Job stays as it is
  cluster_.Put(Resource::Jobs(), observed);
  auto result = applier_.ApplyAll({job}, observed_);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(cluster_.Writes(), 0);
}

TEST_F(ApplierTest, CountsAppliedObjectsByKind) {
  ASSERT_TRUE(applier_.ApplyAll({Deployment(1)}, observed_).ok());
  auto families = metrics_.registry()->Collect();
  double applied = -1;
  for (const auto& family : families) {
    if (family.name != "kubabase_objects_applied_total") continue;
    for (const auto& metric : family.metric) {
      if (metric.label.size() == 1 && metric.label[0].value == "Deployment") {
        applied = metric.counter.value;
      }
    }
  }
  EXPECT_EQ(applied, 1);
}

}  // namespace
}  // namespace kubabase::project
