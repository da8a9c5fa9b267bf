// PostgREST: Deployment and Service "rest" (port 3000; admin port 3001 serves /ready and /live).
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

std::string Join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

Status AppendRest(const Context& ctx, std::vector<Json>& out) {
  const RestSpec& rest = ctx.project.spec.rest;
  if (!rest.enabled) return Status();
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleAuthenticator));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));

  Json env = Json::array(
      {EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleAuthenticator),
       // $(DB_PASSWORD) is expanded by the kubelet: the password stays out of the pod spec. It is
       // URL-safe by construction (keys.h), so it needs no escaping in the URI.
       Env("PGRST_DB_URI", "postgres://" + std::string(names::kRoleAuthenticator) +
                               ":$(DB_PASSWORD)@" + std::string(names::kDatabase) + ":" +
                               std::to_string(names::kDatabasePort) + "/" +
                               std::string(names::kDatabaseName)),
       Env("PGRST_DB_SCHEMAS", Join(rest.schemas, ",")),
       Env("PGRST_DB_ANON_ROLE", "anon"),
       EnvFromSecret("PGRST_JWT_SECRET", names::kApiKeysSecret, names::kJwtSecretKey),
       Env("PGRST_DB_MAX_ROWS", std::to_string(rest.max_rows)),
       Env("PGRST_DB_EXTRA_SEARCH_PATH", "public"),
       Env("PGRST_DB_USE_LEGACY_GUCS", "false"),
       Env("PGRST_SERVER_PORT", std::to_string(names::kRestPort)),
       Env("PGRST_ADMIN_SERVER_PORT", std::to_string(names::kRestAdminPort))});
  AppendExtraEnv(env, rest.extra_env);

  Workload workload{
      .component = Component::kRest,
      .name = std::string(names::kRest),
      .image = rest.image.empty() ? ctx.defaults.images.postgrest : rest.image,
      .port = names::kRestPort,
      .env = env,
      .probes = {{"readinessProbe", HttpProbe("/ready", names::kRestAdminPort, 5, 3)},
                 {"livenessProbe", HttpProbe("/live", names::kRestAdminPort, 10, 6)}},
      .resources = rest.resources,
      .config_hash = HashOf({{"authenticator", password}, {"JWT_SECRET", jwt_secret}}),
      .replicas = ctx.project.spec.paused ? 0 : rest.replicas,
  };
  workload.extra_ports.push_back(
      {{"name", "admin"}, {"containerPort", names::kRestAdminPort}, {"protocol", "TCP"}});
  out.push_back(ClusterIpService(ctx, Component::kRest, names::kRest, names::kRestPort));
  out.push_back(Deployment(ctx, workload));
  return Status();
}

}  // namespace kubabase::project::render_internal
