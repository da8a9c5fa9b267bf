#include "controller/project/options.h"

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

TEST(OptionsTest, AllowedHostSuffixesAreDomainsWithoutALeadingDot) {
  StatusOr<Options> o = Parse({"--allowed-host-suffixes=apps.example.com,.customers.example.net"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->defaults.allowed_host_suffixes,
            (std::vector<std::string>{"apps.example.com", "customers.example.net"}));
  EXPECT_TRUE(Parse({})->defaults.allowed_host_suffixes.empty());  // the base domain alone
  for (const char* bad : {"--allowed-host-suffixes=*.example.com",
                          "--allowed-host-suffixes=https://example.com", "--allowed-host-suffixes=."}) {
    StatusOr<Options> refused = Parse({bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.status().message().find("must be DNS domains"), std::string::npos)
        << refused.status().ToString();
  }
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
        "--allowed-host-suffixes", "--events-namespace", "--image-postgres",
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
