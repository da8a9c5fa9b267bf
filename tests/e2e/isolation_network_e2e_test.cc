// Tenant isolation, network (docs/security.md, "7. Egress"): a project's pods reach DNS, their own
// namespace and the internet, never cloud metadata, the apiserver's in-cluster addresses or
// another namespace; the ingress controller reaches only each component's public port. These
// tests check the NetworkPolicies the apiserver holds for a Ready Project, and that neither the
// Project's author nor a hand edit can widen them.
//
// The local control plane has no CNI (kwok simulates the pods), so nothing here sends a packet:
// whether the policies are enforced is the cluster's CNI's business. tests/e2e/README.md and
// docs/security.md say what to run on a real cluster to see them enforced.
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

// The egress rules of the operator's defaults (harness flags leave --egress-* alone).
Json DefaultEgressRules() {
  return Json::parse(R"([
    {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
             "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
     "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
    {"to": [{"podSelector": {}}]},
    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                         "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                    "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]}},
            {"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10", "::1/128"]}}]}
  ])");
}

// The NetworkPolicies of `ns` by name, their specs as the apiserver stores them.
std::map<std::string, Json> PolicySpecs(kube::ApiClient& client, const std::string& ns) {
  std::map<std::string, Json> out;
  StatusOr<Json> list = client.List(Resource::NetworkPolicies(), ns, kube::ListOptions{});
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  if (!list.ok()) return out;
  for (const Json& policy : (*list)["items"]) out[StringAt(policy, "/metadata/name")] = policy["spec"];
  return out;
}

// Whether a NetworkPolicy peer admits pods of the namespace `ns` (by its name label) or of any
// namespace (an empty namespaceSelector), or any address (an ipBlock).
bool PeerAdmitsNamespace(const Json& peer, const std::string& ns) {
  if (peer.contains("ipBlock")) return true;
  if (!peer.contains("namespaceSelector")) return false;
  const Json& selector = peer["namespaceSelector"];
  if (selector.empty()) return true;
  return selector.value("matchLabels", Json::object()).value("kubernetes.io/metadata.name", "") ==
         ns;
}

TEST_F(ProjectE2eTest, AReadyProjectsPodsMayReachOnlyDnsTheirNamespaceAndTheInternet) {
  const std::string name = NewProjectName("egress");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));

  std::map<std::string, Json> specs = PolicySpecs(*client_, ns);
  std::set<std::string> names;
  for (const auto& [policy, spec] : specs) names.insert(policy);
  EXPECT_EQ(names, (std::set<std::string>{"allow-same-namespace", "allow-ingress-controller-rest",
                                          "allow-ingress-controller-auth",
                                          "allow-ingress-controller-storage",
                                          "db-same-namespace-only", "default-egress"}));

  // One egress policy, for every pod of the namespace, with exactly these peers and ports.
  const Json& egress = specs["default-egress"];
  EXPECT_EQ(egress["podSelector"], Json::object());
  EXPECT_EQ(egress["policyTypes"], Json::array({"Egress"}));
  EXPECT_EQ(egress["egress"], DefaultEgressRules()) << egress.dump(2);
  // 169.254.169.254 (cloud metadata) lies in an except of the only IPv4 block.
  EXPECT_NE(egress.dump().find("\"169.254.0.0/16\""), std::string::npos);
  for (const auto& [policy, spec] : specs) {
    if (policy == "default-egress") continue;
    EXPECT_EQ(spec["policyTypes"], Json::array({"Ingress"})) << policy << " restricts egress too";
  }
}

TEST_F(ProjectE2eTest, TheIngressControllerReachesOnlyThePublicPorts) {
  const std::string name = NewProjectName("ingress-ports");
  const std::string ns = ProjectNamespace(name);
  // meta has no public route; rest's admin port (3001) serves /ready and /live.
  ASSERT_TRUE(CreateProject(name, {{"meta", {{"enabled", true}}}}).ok());
  ASSERT_TRUE(WaitForReady(name));

  // Every (component, port) some rule opens to the ingress controller's namespace.
  std::set<std::pair<std::string, int64_t>> admitted;
  for (const auto& [policy, spec] : PolicySpecs(*client_, ns)) {
    SCOPED_TRACE(policy);
    for (const Json& rule : spec.value("ingress", Json::array())) {
      bool from_ingress = false;
      for (const Json& peer : rule.value("from", Json::array())) {
        from_ingress = from_ingress || PeerAdmitsNamespace(peer, "ingress-nginx");
      }
      if (!rule.contains("from")) from_ingress = true;  // no `from`: every source
      if (!from_ingress) continue;
      const std::string component =
          StringAt(spec, "/podSelector/matchLabels/kubabase.io~1component");
      ASSERT_FALSE(component.empty()) << "a rule for the ingress controller selects pods of "
                                         "several components: "
                                      << spec.dump();
      ASSERT_TRUE(rule.contains("ports")) << "a rule opens every port: " << spec.dump();
      for (const Json& port : rule["ports"]) {
        EXPECT_EQ(port.value("protocol", ""), "TCP");
        EXPECT_FALSE(port.contains("endPort")) << port.dump();
        admitted.insert({component, port.value("port", int64_t{-1})});
      }
    }
  }
  EXPECT_EQ(admitted, (std::set<std::pair<std::string, int64_t>>{
                          {"rest", 3000}, {"auth", 9999}, {"storage", 5000}}));
  // And the admitted ports are the ones the Ingresses route to.
  std::set<int64_t> routed;
  for (const char* ingress : {"api", "storage"}) {
    StatusOr<Json> got = Get(Resource::Ingresses(), ns, ingress);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    for (const Json& path : (*got)["spec"]["rules"][0]["http"]["paths"]) {
      routed.insert(IntAt(path, "/backend/service/port/number"));
    }
  }
  EXPECT_EQ(routed, (std::set<int64_t>{3000, 9999, 5000}));
}

TEST_F(ProjectE2eTest, AProjectAuthorHasNoFieldThatWidensEgress) {
  // Fields a hopeful author might try; the CRD's schema has none of them, so the apiserver drops
  // them (structural pruning) and the policy is the operator's.
  const std::string name = NewProjectName("widen");
  const std::string ns = ProjectNamespace(name);
  Json spec = {{"egress", {{"allowedCidrs", Json::array({"169.254.169.254/32"})}}},
               {"networkPolicy", {{"enabled", false}}},
               {"networkPolicies", Json::array({{{"egress", Json::array({Json::object()})}}})}};
  StatusOr<Json> created = CreateProject(name, spec);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  for (const char* field : {"/spec/egress", "/spec/networkPolicy", "/spec/networkPolicies"}) {
    EXPECT_FALSE(created->contains(Json::json_pointer(field))) << field << " was kept";
  }
  ASSERT_TRUE(WaitForReady(name));
  std::map<std::string, Json> specs = PolicySpecs(*client_, ns);
  EXPECT_EQ(specs["default-egress"]["egress"], DefaultEgressRules());
}

TEST_F(ProjectE2eTest, AHandWidenedEgressPolicyIsTakenBack) {
  const std::string name = NewProjectName("egress-drift");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));

  // Someone with rights in the namespace opens all egress under another field manager: `egress`
  // is an atomic list, so the forced apply replaces the operator's rules with theirs.
  Json open_all = {{"apiVersion", "networking.k8s.io/v1"},
                   {"kind", "NetworkPolicy"},
                   {"metadata", {{"name", "default-egress"}, {"namespace", ns}}},
                   {"spec", {{"egress", Json::array({Json::object()})}}}};
  kube::ApplyOptions intruder{.field_manager = "e2e-intruder", .force = true, .subresource = ""};
  StatusOr<Json> edited =
      client_->Apply(Resource::NetworkPolicies(), ns, "default-egress", open_all, intruder);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  ASSERT_EQ((*edited)["spec"]["egress"], Json::array({Json::object()})) << "the edit did not take";
  EXPECT_TRUE(WaitForObject(name, Resource::NetworkPolicies(), ns, "default-egress",
                            "egress rules restored",
                            [](const Json& policy, std::string* why) {
                              *why = "egress " + policy["spec"]["egress"].dump();
                              return policy["spec"]["egress"] == DefaultEgressRules();
                            },
                            kRestoreTimeout));

  // The ingress controller's rule for rest widened to the admin port: taken back too.
  Json admin_port = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata", {{"name", "allow-ingress-controller-rest"}, {"namespace", ns}}},
      {"spec",
       {{"ingress",
         Json::array({{{"from", Json::array({{{"namespaceSelector", Json::object()}}})},
                       {"ports", Json::array({{{"protocol", "TCP"}, {"port", 3001}}})}}})}}}};
  edited = client_->Apply(Resource::NetworkPolicies(), ns, "allow-ingress-controller-rest",
                          admin_port, intruder);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_TRUE(WaitForObject(name, Resource::NetworkPolicies(), ns,
                            "allow-ingress-controller-rest", "ingress rule restored",
                            [](const Json& policy, std::string* why) {
                              *why = "ingress " + policy["spec"]["ingress"].dump();
                              return StringAt(policy, "/spec/ingress/0/from/0/namespaceSelector/"
                                                      "matchLabels/kubernetes.io~1metadata.name") ==
                                         "ingress-nginx" &&
                                     policy["spec"]["ingress"][0]["ports"] ==
                                         Json::parse(R"([{"protocol": "TCP", "port": 3000}])");
                            },
                            kRestoreTimeout));

  // Deleted outright: recreated.
  ASSERT_TRUE(client_->Delete(Resource::NetworkPolicies(), ns, "default-egress").ok());
  EXPECT_TRUE(WaitForObject(name, Resource::NetworkPolicies(), ns, "default-egress", "recreated",
                            [](const Json& policy, std::string* why) {
                              *why = "egress " + policy["spec"]["egress"].dump();
                              return StringAt(policy, "/metadata/deletionTimestamp").empty() &&
                                     policy["spec"]["egress"] == DefaultEgressRules();
                            },
                            kRestoreTimeout));
  EXPECT_TRUE(WaitForReady(name));
}

class AdminEgressE2eTest : public ProjectE2eTest {
 protected:
  std::vector<std::string> OperatorArgs() const override {
    return {"--egress-denied-cidrs=10.0.0.0/8,169.254.0.0/16,fd00::/8",
            "--egress-allowed-cidrs=10.96.12.34/32", "--egress-dns-namespace=dns-system",
            "--egress-dns-labels=app=coredns"};
  }
};

TEST_F(AdminEgressE2eTest, TheAdminsCidrsAndDnsPodsAreInThePolicy) {
  const std::string name = NewProjectName("egress-admin");
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));
  std::map<std::string, Json> specs = PolicySpecs(*client_, ProjectNamespace(name));
  EXPECT_EQ(specs["default-egress"]["egress"], Json::parse(R"([
    {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "dns-system"}},
             "podSelector": {"matchLabels": {"app": "coredns"}}}],
     "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
    {"to": [{"podSelector": {}}]},
    {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "169.254.0.0/16"]}},
            {"ipBlock": {"cidr": "::/0", "except": ["fd00::/8"]}}]},
    {"to": [{"ipBlock": {"cidr": "10.96.12.34/32"}}]}
  ])"));
}

class NoOperatorE2eTest : public ProjectE2eTest {
 protected:
  bool WantsOperator() const override { return false; }
};

TEST_F(NoOperatorE2eTest, AMalformedCidrStopsTheOperatorAtStart) {
  StatusOr<std::string> kubeconfig = OperatorKubeconfig(*client_);
  ASSERT_TRUE(kubeconfig.ok()) << kubeconfig.status().ToString();
  OperatorProcess::Options options{.binary = OperatorBinary(),
                                   .kubeconfig = *kubeconfig,
                                   .log_path = "",
                                   .extra_args = {"--egress-denied-cidrs=169.254.169.254/16"}};
  StatusOr<std::unique_ptr<OperatorProcess>> started = OperatorProcess::Start(options);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  Status ready = (*started)->WaitReady(30s);
  ASSERT_FALSE(ready.ok()) << "the operator started with a host address as a network";
  EXPECT_EQ(ready.code(), StatusCode::kUnavailable) << ready.ToString();
  StatusOr<int> code = (*started)->Stop(SIGTERM, 10s);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 1);
  std::ifstream file((*started)->log_path());
  const std::string log((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("--egress-denied-cidrs: \"169.254.169.254/16\" is not a network: it has bits "
                     "set past the /16 prefix (did you mean 169.254.0.0/16?)"),
            std::string::npos)
      << log;
}

}  // namespace
}  // namespace kubabase::e2e
