// NetworkPolicies. Ingress: every pod but the database's admits its own namespace; each component
// with public routes admits the ingress controller's namespace on those routes' ports only (not
// PostgREST's admin port, nor anything else its pods listen on); the database admits its own
// namespace on 5432 only. Egress (every pod): DNS, the own namespace, and every address outside
// the operator's denied CIDRs (private, CGNAT, link-local with cloud metadata, loopback: so no
// other namespace, no apiserver ClusterIP) plus the admin's allowed CIDRs. S3, SMTP and OAuth
// providers on the internet stay reachable.
#include <set>

#include "controller/project/components/components.h"
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

constexpr std::string_view kApi = "networking.k8s.io/v1";

Json NamespaceNamed(std::string_view ns) {
  return {{"matchLabels", {{"kubernetes.io/metadata.name", ns}}}};
}

Json Port(std::string_view protocol, int port) {
  return {{"protocol", protocol}, {"port", port}};
}

// {ipBlock: {cidr: all, except: [the denied CIDRs of that family]}}.
Json Everything(std::string_view all, const std::vector<Cidr>& denied, bool v6) {
  Json block = {{"cidr", all}};
  Json except = Json::array();
  for (const Cidr& cidr : denied) {
    if (cidr.v6 == v6) except.push_back(cidr.text);
  }
  if (!except.empty()) block["except"] = except;
  return {{"ipBlock", block}};
}

Json EgressPolicy(const Context& ctx) {
  const Egress& egress = ctx.defaults.egress;
  Json dns = {{"ports", Json::array({Port("UDP", 53), Port("TCP", 53)})}};
  if (!egress.dns_namespace.empty()) {
    Json peer = {{"namespaceSelector", NamespaceNamed(egress.dns_namespace)}};
    if (!egress.dns_labels.empty()) {
      peer["podSelector"] = {{"matchLabels", ToJson(egress.dns_labels)}};
    }
    dns["to"] = Json::array({peer});
  }
  Json rules = Json::array(
      {dns,
       {{"to", Json::array({{{"podSelector", Json::object()}}})}},
       {{"to", Json::array({Everything("0.0.0.0/0", egress.denied_cidrs, false),
                            Everything("::/0", egress.denied_cidrs, true)})}}});
  if (!egress.allowed_cidrs.empty()) {
    Json to = Json::array();
    for (const Cidr& cidr : egress.allowed_cidrs) to.push_back({{"ipBlock", {{"cidr", cidr.text}}}});
    rules.push_back({{"to", to}});
  }
  Json policy = Object(ctx, kApi, "NetworkPolicy", names::kEgressPolicy, names::kNetworkComponent);
  policy["spec"] = {{"podSelector", Json::object()},
                    {"policyTypes", Json::array({"Egress"})},
                    {"egress", rules}};
  return policy;
}

}  // namespace

void AppendNetworkPolicies(const Context& ctx, std::vector<Json>& out) {
  const std::string db(DatabaseComponent().label);
  const std::string component_label(names::kComponentLabel);
  // Policies are additive: one selecting every pod would let whatever it admits reach the
  // database too, so this one selects every pod except the database's (also unlabelled pods).
  Json apps = Object(ctx, kApi, "NetworkPolicy", names::kAllowSameNamespacePolicy,
                     names::kNetworkComponent);
  apps["spec"] = {
      {"podSelector",
       {{"matchExpressions",
         Json::array({{{"key", component_label}, {"operator", "NotIn"}, {"values", Json::array({db})}}})}}},
      {"policyTypes", Json::array({"Ingress"})},
      {"ingress", Json::array({{{"from", Json::array({{{"podSelector", Json::object()}}})}}})}};
  out.push_back(apps);

  // The ingress controller reaches a routed component's pods on its routes' ports alone.
  if (!ctx.defaults.ingress_namespace.empty()) {
    for (const ComponentPlan& plan : ctx.plans) {
      std::set<int> ports;
      for (const Route& route : plan.def->routes) ports.insert(route.port);
      if (ports.empty()) continue;
      Json port_list = Json::array();
      for (int port : ports) port_list.push_back(Port("TCP", port));
      Json policy = Object(ctx, kApi, "NetworkPolicy",
                           std::string(names::kIngressControllerPolicyPrefix) +
                               std::string(plan.def->label),
                           names::kNetworkComponent);
      policy["spec"] = {
          {"podSelector", {{"matchLabels", {{component_label, plan.def->label}}}}},
          {"policyTypes", Json::array({"Ingress"})},
          {"ingress",
           Json::array({{{"from", Json::array({{{"namespaceSelector",
                                                 NamespaceNamed(ctx.defaults.ingress_namespace)}}})},
                         {"ports", port_list}}})}};
      out.push_back(policy);
    }
  }

  Json database = Object(ctx, kApi, "NetworkPolicy", names::kDatabasePolicy,
                         names::kNetworkComponent);
  database["spec"] = {
      {"podSelector", {{"matchLabels", {{component_label, db}}}}},
      {"policyTypes", Json::array({"Ingress"})},
      {"ingress",
       Json::array({{{"from", Json::array({{{"podSelector", Json::object()}}})},
                     {"ports", Json::array({Port("TCP", names::kDatabasePort)})}}})}};
  out.push_back(database);
  out.push_back(EgressPolicy(ctx));
}

}  // namespace kubabase::project::render_internal
