// NetworkPolicies: the namespace admits traffic from itself and from the ingress controller's
// namespace only; the database admits traffic from its own namespace only. Egress is open (S3,
// SMTP and OAuth providers live outside).
#include "controller/project/components/components.h"
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {

void AppendNetworkPolicies(const Context& ctx, std::vector<Json>& out) {
  const std::string db(DatabaseComponent().label);
  const std::string component_label(names::kComponentLabel);
  // Policies are additive: one selecting every pod would let the ingress controller reach the
  // database too, so this one selects every pod except the database's (also unlabelled pods).
  Json peers = Json::array({{{"podSelector", Json::object()}}});
  if (!ctx.defaults.ingress_namespace.empty()) {
    peers.push_back(
        {{"namespaceSelector",
          {{"matchLabels", {{"kubernetes.io/metadata.name", ctx.defaults.ingress_namespace}}}}}});
  }
  Json apps = Object(ctx, "networking.k8s.io/v1", "NetworkPolicy",
                     names::kAllowSameNamespacePolicy, names::kNetworkComponent);
  apps["spec"] = {
      {"podSelector",
       {{"matchExpressions",
         Json::array({{{"key", component_label}, {"operator", "NotIn"}, {"values", Json::array({db})}}})}}},
      {"policyTypes", Json::array({"Ingress"})},
      {"ingress", Json::array({{{"from", peers}}})}};
  out.push_back(apps);

  Json database = Object(ctx, "networking.k8s.io/v1", "NetworkPolicy", names::kDatabasePolicy,
                         names::kNetworkComponent);
  database["spec"] = {
      {"podSelector", {{"matchLabels", {{component_label, db}}}}},
      {"policyTypes", Json::array({"Ingress"})},
      {"ingress",
       Json::array({{{"from", Json::array({{{"podSelector", Json::object()}}})},
                     {"ports", Json::array({{{"protocol", "TCP"},
                                             {"port", names::kDatabasePort}}})}}})}};
  out.push_back(database);
}

}  // namespace kubabase::project::render_internal
