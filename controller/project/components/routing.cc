// Routing: the Ingresses on the project's host for the routes the enabled components declare.
// ingress-nginx conventions (DATAPLANE.md): regex paths whose second group is the upstream path,
// and rewrite-target /$2 to strip the prefix. Annotations apply to a whole Ingress, so routes
// that need their own (X-Forwarded-Prefix) get their own Ingress, named after their service;
// the others share "api".
#include "controller/project/components/components.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

Json IngressObject(const Context& ctx, std::string_view name, const std::vector<Route>& routes,
                   const std::map<std::string, std::string>& extra_annotations) {
  const IngressSpec& spec = ctx.project.spec.ingress;
  // The user's annotations first; ours win where they collide, because routing depends on them.
  Json annotations = ToJson(spec.annotations);
  annotations["nginx.ingress.kubernetes.io/use-regex"] = "true";
  annotations["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2";
  for (const auto& [k, v] : extra_annotations) annotations[k] = v;

  Json paths = Json::array();
  for (const Route& route : routes) {
    paths.push_back({{"path", std::string(route.prefix) + "(/|$)(.*)"},
                     {"pathType", "ImplementationSpecific"},
                     {"backend",
                      {{"service", {{"name", route.service}, {"port", {{"number", route.port}}}}}}}});
  }
  Json object = Object(ctx, "networking.k8s.io/v1", "Ingress", name, RoutingComponent().label);
  object["metadata"]["annotations"] = annotations;
  Json ingress_spec = {{"rules", Json::array({{{"host", ctx.host}, {"http", {{"paths", paths}}}}})}};
  const std::string& class_name =
      spec.class_name.empty() ? ctx.defaults.ingress_class : spec.class_name;
  if (!class_name.empty()) ingress_spec["ingressClassName"] = class_name;
  if (!spec.tls_secret_name.empty()) {
    ingress_spec["tls"] = Json::array(
        {{{"hosts", Json::array({ctx.host})}, {"secretName", spec.tls_secret_name}}});
  }
  object["spec"] = ingress_spec;
  return object;
}

Status Render(const Context& ctx, const ComponentPlan&, std::vector<Json>& out) {
  std::vector<Route> shared;
  std::vector<Route> own;
  for (const Route& route : EnabledRoutes(ctx.project.spec)) {
    (route.forwarded_prefix.empty() ? shared : own).push_back(route);
  }
  if (!shared.empty()) out.push_back(IngressObject(ctx, names::kApiIngress, shared, {}));
  for (const Route& route : own) {
    out.push_back(IngressObject(
        ctx, route.service, {route},
        {{"nginx.ingress.kubernetes.io/x-forwarded-prefix", std::string(route.forwarded_prefix)}}));
  }
  return Status();
}

}  // namespace

const ComponentDef& RoutingComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "routing",
      .label = "ingress",
      .condition = "Routed",
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
