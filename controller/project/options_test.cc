#include "controller/project/options.h"

#include <regex>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "controller/project/components/component.h"

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
  EXPECT_EQ(o->defaults.shared_secrets_namespace, "kubabase-shared");
  EXPECT_TRUE(o->defaults.allowed_secret_namespaces.empty());
}

TEST(OptionsTest, SecretNamespacesAreNamespacesAndNeverAProjects) {
  StatusOr<Options> o =
      Parse({"--shared-secrets-namespace=team-secrets", "--allowed-secret-namespaces=mail,s3"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->defaults.shared_secrets_namespace, "team-secrets");
  EXPECT_EQ(o->defaults.allowed_secret_namespaces, (std::vector<std::string>{"mail", "s3"}));
  StatusOr<Options> none = Parse({"--shared-secrets-namespace="});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->defaults.shared_secrets_namespace, "");

  // <prefix><name> is some Project's namespace: refused at start, whichever flag names it and
  // in whichever order the flags come.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--shared-secrets-namespace=project-shop"},
           {"--allowed-secret-namespaces=mail,project-shop"},
           {"--allowed-secret-namespaces=sb-shop", "--namespace-prefix=sb-"},
           {"--namespace-prefix=kubabase-"}}) {  // the default kubabase-shared then is one
    StatusOr<Options> refused = Parse(args);
    ASSERT_FALSE(refused.ok()) << args.front();
    EXPECT_NE(refused.status().message().find("starts with --namespace-prefix"),
              std::string::npos)
        << refused.status().message();
  }
  StatusOr<Options> bad = Parse({"--allowed-secret-namespaces=Mail"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "--allowed-secret-namespaces: \"Mail\" is not a namespace name");
}

TEST(OptionsTest, EveryDefaultImageIsPinnedByDigestNextToItsTag) {
  // repo:tag@sha256:<64 hex>: the tag for people, the digest for the kubelet (issue 10 item 10).
  static const std::regex pinned(
      "^[a-z0-9]+([._/-][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}@sha256:[0-9a-f]{64}$");
  std::vector<std::string> images = {kDefaultPostgresImage, kDefaultPostgrestImage,
                                     kDefaultGotrueImage, kDefaultStorageImage};
  for (const ComponentDef* def : Components()) {
    if (!def->default_image.empty()) images.emplace_back(def->default_image);
  }
  EXPECT_EQ(images.size(), 5u);  // database, rest, auth, storage, meta
  for (const std::string& image : images) EXPECT_TRUE(std::regex_match(image, pinned)) << image;
}

TEST(OptionsTest, AnImageFlagTakesATagAndDigestReferenceVerbatim) {
  const std::string image =
      "registry.example.com:5000/team/pg-meta:v1.2@sha256:" + std::string(64, 'a');
  StatusOr<Options> o = Parse({"--image-meta=" + image, "--image-postgres", image});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->defaults.images.components["meta"], image);
  EXPECT_EQ(o->defaults.images.postgres, image);
}

TEST(OptionsTest, AFreshInstallEnforcesTheBuiltInPlans) {
  StatusOr<Options> o = Parse({});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
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

TEST(OptionsTest, EgressDefaultsDenyPrivateLinkLocalAndLoopbackRanges) {
  StatusOr<Options> o = Parse({});
  ASSERT_TRUE(o.ok());
  const Egress& egress = o->defaults.egress;
  EXPECT_EQ(egress.dns_namespace, "kube-system");
  EXPECT_EQ(egress.dns_labels, (std::map<std::string, std::string>{{"k8s-app", "kube-dns"}}));
  std::vector<std::string> denied;
  for (const Cidr& cidr : egress.denied_cidrs) denied.push_back(cidr.text);
  EXPECT_EQ(denied, (std::vector<std::string>{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                              "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8",
                                              "fc00::/7", "fe80::/10", "::1/128"}));
  EXPECT_TRUE(egress.allowed_cidrs.empty());
  // The built-in list is exactly what the flag would parse to (family and prefix included).
  std::string text;
  for (const std::string& cidr : denied) text += (text.empty() ? "" : ",") + cidr;
  StatusOr<Options> same = Parse({"--egress-denied-cidrs=" + text});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_EQ(same->defaults.egress.denied_cidrs, egress.denied_cidrs);
}

TEST(OptionsTest, EgressCidrsAreParsedIntoTheirCanonicalForm) {
  StatusOr<Options> o =
      Parse({"--egress-denied-cidrs=10.0.0.0/8,FD00:EC2:0:0::/32", "--egress-allowed-cidrs",
             "10.96.0.10/32,2001:db8::/48", "--egress-dns-namespace=openshift-dns",
             "--egress-dns-labels=dns.operator.openshift.io/daemonset-dns=default,app=dns"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const Egress& egress = o->defaults.egress;
  ASSERT_EQ(egress.denied_cidrs.size(), 2u);
  EXPECT_EQ(egress.denied_cidrs[0], (Cidr{"10.0.0.0/8", false, 8}));
  EXPECT_EQ(egress.denied_cidrs[1], (Cidr{"fd00:ec2::/32", true, 32}));
  ASSERT_EQ(egress.allowed_cidrs.size(), 2u);
  EXPECT_EQ(egress.allowed_cidrs[0], (Cidr{"10.96.0.10/32", false, 32}));
  EXPECT_EQ(egress.allowed_cidrs[1], (Cidr{"2001:db8::/48", true, 48}));
  EXPECT_EQ(egress.dns_namespace, "openshift-dns");
  EXPECT_EQ(egress.dns_labels,
            (std::map<std::string, std::string>{{"dns.operator.openshift.io/daemonset-dns", "default"},
                                                {"app", "dns"}}));
  // Empty lists: nothing denied (the whole internet and cluster), any DNS pod of the namespace,
  // port 53 anywhere.
  StatusOr<Options> open = Parse({"--egress-denied-cidrs=", "--egress-dns-labels=",
                                  "--egress-dns-namespace="});
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  EXPECT_TRUE(open->defaults.egress.denied_cidrs.empty());
  EXPECT_TRUE(open->defaults.egress.dns_labels.empty());
  EXPECT_EQ(open->defaults.egress.dns_namespace, "");
}

TEST(OptionsTest, ABadCidrStopsTheOperatorSayingWhatIsWrong) {
  for (const auto& [arg, says] : std::vector<std::pair<std::string, std::string>>{
           {"--egress-denied-cidrs=10.0.0.0", "\"10.0.0.0\" is not a CIDR: it needs a /prefix"},
           {"--egress-denied-cidrs=10.0.0.0/8,10.0.0/8", "\"10.0.0\" is not an IPv4 address"},
           {"--egress-denied-cidrs=010.0.0.0/8", "\"010.0.0.0\" is not an IPv4 address"},
           {"--egress-denied-cidrs=10.0.0.0/33", "the prefix must be a number from 0 to 32"},
           {"--egress-denied-cidrs=10.0.0.0/-1", "the prefix must be a number from 0 to 32"},
           {"--egress-denied-cidrs=fe80::/129", "the prefix must be a number from 0 to 128"},
           {"--egress-denied-cidrs=fe80:::1/64", "\"fe80:::1\" is not an IPv6 address"},
           {"--egress-denied-cidrs=169.254.169.254/16",
            "\"169.254.169.254/16\" is not a network: it has bits set past the /16 prefix "
            "(did you mean 169.254.0.0/16?)"},
           {"--egress-denied-cidrs=fe80::1/10", "(did you mean fe80::/10?)"},
           {"--egress-denied-cidrs=0.0.0.0/0",
            "\"0.0.0.0/0\" would deny every address; a denied CIDR must be narrower than /0"},
           {"--egress-denied-cidrs=::/0", "must be narrower than /0"},
           {"--egress-allowed-cidrs=example.com/32", "\"example.com\" is not an IPv4 address"},
           {"--egress-allowed-cidrs=10.0.0.0/8 ", "the prefix must be a number from 0 to 32"},
           {"--egress-dns-labels=k8s-app", "\"k8s-app\" is not a label key=value"},
           {"--egress-dns-labels=k8s-app=kube dns", "is not a label key=value"}}) {
    SCOPED_TRACE(arg);
    StatusOr<Options> o = Parse({arg});
    ASSERT_FALSE(o.ok());
    EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
    const std::string flag = arg.substr(0, arg.find('='));
    EXPECT_EQ(o.status().message().rfind(flag + ": ", 0), 0u) << o.status().message();
    EXPECT_NE(o.status().message().find(says), std::string::npos) << o.status().message();
  }
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
        "--shared-secrets-namespace", "--allowed-secret-namespaces", "--allowed-host-suffixes",
        "--events-namespace", "--egress-dns-namespace", "--egress-dns-labels",
        "--egress-denied-cidrs", "--egress-allowed-cidrs", "--plans-file", "--default-plan",
        "--image-postgres",
        "--image-postgrest", "--image-gotrue", "--image-storage"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
  EXPECT_NE(help.find(kDefaultStorageImage), std::string::npos);
  EXPECT_NE(help.find("(default \"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,"
                      "169.254.0.0/16,127.0.0.0/8,fc00::/7,fe80::/10,::1/128\")"),
            std::string::npos)
      << help;
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
