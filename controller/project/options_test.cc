#include "controller/project/options.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

StatusOr<Options> Parse(std::vector<std::string> args,
                        std::map<std::string, std::string> env = {}) {
  return ParseOptions(args, env);
}

TEST(OptionsTest, NoFlagsGiveTheAgreedDefaults) {
  StatusOr<Options> o = Parse({});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->leader_elect);
  EXPECT_EQ(o->leader_election_id, "kubabase");
  EXPECT_EQ(o->metrics_bind_address, ":8080");
  EXPECT_EQ(o->workers, 4);
  EXPECT_EQ(o->qps, 20);
  EXPECT_EQ(o->burst, 40);
  EXPECT_EQ(o->resync_period, std::chrono::minutes(10));
  EXPECT_EQ(o->defaults.base_domain, "kubabase.localhost");
  EXPECT_EQ(o->defaults.namespace_prefix, "project-");
  EXPECT_EQ(o->defaults.ingress_namespace, "ingress-nginx");
  EXPECT_EQ(o->events_namespace, "default");
  EXPECT_EQ(o->defaults.images.postgres, kDefaultPostgresImage);
  EXPECT_EQ(o->defaults.allowed_ingress_annotations,
            std::vector<std::string>{"cert-manager.io/*"});
  // A fresh install enforces plans: the built-in set, "small" by default.
  EXPECT_EQ(o->defaults.default_plan, "small");
  EXPECT_EQ(o->defaults.plans, BuiltinPlans());
  EXPECT_EQ(o->defaults.plans.size(), 3u);
}

// A file that exists for one test.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/kubabase-plans-test.XXXXXX";
    const int fd = mkstemp(name);
    path_ = name;
    if (fd >= 0) close(fd);
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(OptionsTest, PlansFileReplacesTheBuiltInPlans) {
  TempFile file(
      "plans:\n"
      "  starter:\n"
      "    quota: {requests.cpu: \"1\", limits.memory: 4Gi, pods: 10}\n"
      "    maxReplicas: 1\n"
      "    maxVolumeSize: 5Gi\n"
      "  team: {quota: {pods: 50}, maxReplicas: 4}\n");
  StatusOr<Options> o = Parse({"--plans-file=" + file.path(), "--default-plan=starter"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  ASSERT_EQ(o->defaults.plans.size(), 2u);
  const Plan& starter = o->defaults.plans.at("starter");
  EXPECT_EQ(starter.quota, (std::map<std::string, std::string>{
                               {"requests.cpu", "1"}, {"limits.memory", "4Gi"}, {"pods", "10"}}));
  EXPECT_EQ(starter.max_replicas, 1);
  EXPECT_EQ(starter.max_volume_size, "5Gi");
  EXPECT_EQ(o->defaults.plans.at("team").max_replicas, 4);
  EXPECT_EQ(o->defaults.default_plan, "starter");
  // The environment names the file just as well.
  StatusOr<Options> env = Parse({}, {{"KUBABASE_PLANS_FILE", file.path()},
                                     {"KUBABASE_DEFAULT_PLAN", "team"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->defaults.default_plan, "team");
}

TEST(OptionsTest, ABadPlansFileOrDefaultPlanStopsTheOperatorNamingWhatIsWrong) {
  TempFile good("plans: {starter: {maxReplicas: 1}}\n");
  TempFile typo("plans: {starter: {maxReplica: 1}}\n");
  TempFile not_yaml("plans: {starter: [\n");
  for (const auto& [args, expected] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--plans-file=/nonexistent/plans.yaml"},
            "--plans-file /nonexistent/plans.yaml: cannot be read"},
           {{"--plans-file=" + typo.path(), "--default-plan=starter"},
            "plans.starter.maxReplica: unknown field"},
           {{"--plans-file=" + not_yaml.path()}, ": not YAML"},
           // The file has no "small", the default's default.
           {{"--plans-file=" + good.path()},
            "--default-plan: \"small\" is not one of the plans (starter)"},
           {{"--default-plan=huge"},
            "--default-plan: \"huge\" is not one of the plans (large, medium, small)"}}) {
    StatusOr<Options> o = Parse(args);
    ASSERT_FALSE(o.ok()) << expected;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(expected), std::string::npos) << o.status().message();
  }
}

TEST(OptionsTest, AllowedIngressAnnotationsAreAListAndMayBeEmpty) {
  StatusOr<Options> o = Parse({"--allowed-ingress-annotations=cert-manager.io/*,example.com/x"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->defaults.allowed_ingress_annotations,
            (std::vector<std::string>{"cert-manager.io/*", "example.com/x"}));
  StatusOr<Options> none = Parse({"--allowed-ingress-annotations="});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->defaults.allowed_ingress_annotations.empty());
}

TEST(OptionsTest, BothFlagFormsAndBooleansAreAccepted) {
  StatusOr<Options> o = Parse({"--workers", "8", "--base-domain=api.example.com",
                               "--leader-elect=false", "--image-gotrue", "gotrue:x",
                               "--resync-period=1h30m", "--log-format", "json"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->workers, 8);
  EXPECT_EQ(o->defaults.base_domain, "api.example.com");
  EXPECT_FALSE(o->leader_elect);
  EXPECT_EQ(o->defaults.images.gotrue, "gotrue:x");
  EXPECT_EQ(o->resync_period, std::chrono::seconds(5400));
  EXPECT_EQ(o->log_format, "json");
  EXPECT_TRUE(Parse({"--leader-elect"})->leader_elect);
  // The longest prefix that leaves room for a 40-character name in a 63-character namespace.
  EXPECT_EQ(Parse({"--namespace-prefix=" + std::string(22, 'p')})->defaults.namespace_prefix,
            std::string(22, 'p'));
  EXPECT_EQ(Parse({"--namespace-prefix=sb"})->defaults.namespace_prefix, "sb");
}

TEST(OptionsTest, EnvironmentSetsAFlagAndTheFlagWins) {
  std::map<std::string, std::string> env = {{"KUBABASE_WORKERS", "2"},
                                            {"KUBABASE_LEADER_ELECT", "false"},
                                            {"KUBABASE_NAMESPACE_PREFIX", "sb-"}};
  StatusOr<Options> o = Parse({"--workers=6"}, env);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->workers, 6);
  EXPECT_FALSE(o->leader_elect);
  EXPECT_EQ(o->defaults.namespace_prefix, "sb-");
}

TEST(OptionsTest, NonsenseIsRejectedNamingTheFlag) {
  for (const auto& [args, flag] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"--workers", "0"}, "--workers"},
           {{"--workers", "many"}, "--workers"},
           {{"--qps=-1"}, "--qps"},
           {{"--log-level=loud"}, "--log-level"},
           {{"--resync-period=soon"}, "--resync-period"},
           {{"--leader-elect=maybe"}, "--leader-elect"},
           {{"--no-such-flag"}, "--no-such-flag"},
           {{"--kubeconfig"}, "--kubeconfig"},
           {{"--namespace-prefix="}, "--namespace-prefix"},
           {{"--namespace-prefix=-x"}, "--namespace-prefix"},
           {{"--namespace-prefix=Project-"}, "--namespace-prefix"},
           {{"--namespace-prefix=tenant_"}, "--namespace-prefix"},
           {{"--namespace-prefix=" + std::string(23, 'p')}, "--namespace-prefix"}}) {
    StatusOr<Options> o = Parse(args);
    ASSERT_FALSE(o.ok()) << flag;
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(o.status().message().find(flag), std::string::npos) << o.status().message();
  }
  StatusOr<Options> env = Parse({}, {{"KUBABASE_BURST", "0"}});
  ASSERT_FALSE(env.ok());
  EXPECT_NE(env.status().message().find("KUBABASE_BURST"), std::string::npos);
}

TEST(OptionsTest, HelpIsAFlagAndListsEveryFlagWithItsDefault) {
  EXPECT_TRUE(Parse({"--help"})->help);
  const std::string help = HelpText();
  for (const char* flag :
       {"--kubeconfig", "--context", "--leader-elect", "--leader-election-namespace",
        "--leader-election-id", "--metrics-bind-address", "--log-level", "--log-format",
        "--workers", "--qps", "--burst", "--resync-period", "--base-domain", "--namespace-prefix",
        "--ingress-class", "--ingress-namespace", "--allowed-ingress-annotations",
        "--events-namespace", "--plans-file", "--default-plan", "--image-postgres",
        "--image-postgrest", "--image-gotrue", "--image-storage"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find(kDefaultStorageImage), std::string::npos);
}

TEST(ParseDurationTest, ReadsUnitsAndPlainSeconds) {
  EXPECT_EQ(*ParseDuration("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseDuration("10m"), std::chrono::seconds(600));
  EXPECT_EQ(*ParseDuration("2h"), std::chrono::seconds(7200));
  EXPECT_EQ(*ParseDuration("45"), std::chrono::seconds(45));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("10d").ok());
}

}  // namespace
}  // namespace kubabase::project
