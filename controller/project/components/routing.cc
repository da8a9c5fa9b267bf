// The Ingresses on the project's host: "api" routes /rest/v1 and /auth/v1, "storage" routes
// /storage/v1. ingress-nginx conventions (DATAPLANE.md): regex paths whose second group is the
// upstream path, and rewrite-target /$2 to strip the prefix. Annotations apply to a whole
// Ingress, which is why storage (X-Forwarded-Prefix) has its own.
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

struct Route {
  std::string prefix;  // "/rest/v1"
  std::string service;
  int port;
};

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
    paths.push_back({{"path", route.prefix + "(/|$)(.*)"},
                     {"pathType", "ImplementationSpecific"},
                     {"backend",
                      {{"service", {{"name", route.service}, {"port", {{"number", route.port}}}}}}}});
  }
  Json object = Object(ctx, "networking.k8s.io/v1", "Ingress", name, Component::kIngress);
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

}  // namespace

void AppendIngresses(const Context& ctx, std::vector<Json>& out) {
  const ProjectSpec& spec = ctx.project.spec;
  std::vector<Route> api;
  if (spec.rest.enabled) api.push_back({"/rest/v1", std::string(names::kRest), names::kRestPort});
  if (spec.auth.enabled) api.push_back({"/auth/v1", std::string(names::kAuth), names::kAuthPort});
  if (!api.empty()) out.push_back(IngressObject(ctx, names::kApiIngress, api, {}));
  if (spec.storage.enabled) {
    out.push_back(IngressObject(
        ctx, names::kStorageIngress,
        {{"/storage/v1", std::string(names::kStorage), names::kStoragePort}},
        {{"nginx.ingress.kubernetes.io/x-forwarded-prefix", "/storage/v1"}}));
  }
}

}  // namespace kubabase::project::render_internal
