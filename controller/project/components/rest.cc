// PostgREST: Deployment and Service "rest" (port 3000; admin port 3001 serves /ready and /live),
// routed at /rest/v1.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/project/components/components.h"
#include "controller/project/components/sql/rest.sql.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

Status Render(const Context& ctx, const ComponentPlan& plan, std::vector<Json>& out) {
  const RestSpec& rest = ctx.project.spec.rest;
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleAuthenticator));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));

  Json env = Json::array(
      {EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleAuthenticator),
       Env("PGRST_DB_URI", DatabaseUri(names::kRoleAuthenticator)),
       Env("PGRST_DB_SCHEMAS", fmt::format("{}", fmt::join(rest.schemas, ","))),
       Env("PGRST_DB_ANON_ROLE", "anon"),
       EnvFromSecret("PGRST_JWT_SECRET", names::kApiKeysSecret, names::kJwtSecretKey),
       Env("PGRST_DB_MAX_ROWS", std::to_string(rest.max_rows)),
       Env("PGRST_DB_EXTRA_SEARCH_PATH", "public"),
       Env("PGRST_DB_USE_LEGACY_GUCS", "false"),
       Env("PGRST_SERVER_PORT", std::to_string(names::kRestPort)),
       Env("PGRST_ADMIN_SERVER_PORT", std::to_string(names::kRestAdminPort))});
  AppendExtraEnv(env, rest.extra_env);

  Workload workload{
      .port = names::kRestPort,
      .env = env,
      .probes = {{"readinessProbe", HttpProbe("/ready", names::kRestAdminPort, 5, 3)},
                 {"livenessProbe", HttpProbe("/live", names::kRestAdminPort, 10, 6)}},
      .config_hash = HashOf({{"authenticator", password}, {"JWT_SECRET", jwt_secret}}),
  };
  workload.extra_ports.push_back(
      {{"name", "admin"}, {"containerPort", names::kRestAdminPort}, {"protocol", "TCP"}});
  AddServedWorkload(ctx, plan, std::move(workload), out);
  return Status();
}

}  // namespace

const ComponentDef& RestComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "rest",
      .label = "rest",
      .condition = "RestReady",
      .workload_resource = &kube::Resource::Deployments(),
      .workload = names::kRest,
      .enabled = EnabledIn<&ProjectSpec::rest>,
      .replicas = ReplicasIn<&ProjectSpec::rest>,
      .image = ImageIn<&ProjectSpec::rest, &Images::postgrest>,
      .resources = {.requests = {{"cpu", "50m"}, {"memory", "64Mi"}},
                    .limits = {{"cpu", "500m"}, {"memory", "256Mi"}}},
      .spec_resources = ResourcesIn<&ProjectSpec::rest>,
      .login_roles = {names::kRoleAuthenticator},
      .bootstrap_sql = embedded::rest_sql,
      .routes = {{.prefix = "/rest/v1", .service = names::kRest, .port = names::kRestPort}},
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
