// postgres-meta: the REST API over the database's catalog that Studio uses. Deployment and
// Service "meta" (port 8080), no public route: Studio reaches it inside the namespace. Off by
// default (spec.meta.enabled). Env as the upstream self-hosted compose file sets it
// (PG_META_PORT, PG_META_DB_HOST/PORT/NAME/USER/PASSWORD); it connects as postgres, the role that
// owns the database (not a superuser), as upstream's current compose file does.
#include "controller/project/components/components.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

constexpr std::string_view kName = "meta";
constexpr int kPort = 8080;
constexpr std::string_view kRole = names::kRolePostgres;

Status Render(const Context& ctx, const ComponentPlan& plan, std::vector<Json>& out) {
  const ComponentSpec& meta = BasicSpec(ctx.project.spec, *plan.def);
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, kRole));
  Json env = Json::array({Env("PG_META_PORT", std::to_string(kPort)),
                          Env("PG_META_DB_HOST", names::kDatabase),
                          Env("PG_META_DB_PORT", std::to_string(names::kDatabasePort)),
                          Env("PG_META_DB_NAME", names::kDatabaseName),
                          Env("PG_META_DB_USER", kRole),
                          EnvFromSecret("PG_META_DB_PASSWORD", names::kDbCredentialsSecret, kRole)});
  AppendExtraEnv(env, meta.extra_env);
  // A TCP check: the image documents no health path.
  auto tcp = [](int period, int failures) {
    return Json{{"tcpSocket", {{"port", kPort}}},
                {"periodSeconds", period},
                {"timeoutSeconds", 3},
                {"failureThreshold", failures}};
  };
  Workload workload{
      .port = kPort,
      .env = env,
      .probes = {{"readinessProbe", tcp(5, 3)}, {"livenessProbe", tcp(10, 6)}},
      .config_hash = HashOf({{std::string(kRole), password}}),
  };
  AddServedWorkload(ctx, plan, std::move(workload), out);
  return Status();
}

}  // namespace

const ComponentDef& MetaComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "meta",
      .label = kName,
      .condition = "MetaReady",
      .workload_resource = &kube::Resource::Deployments(),
      .workload = kName,
      .basic_spec = true,
      .basic_enabled_by_default = false,
      // Pinned by digest next to its tag, as the defaults in defaults.h (docs/security.md §10).
      .default_image = "supabase/postgres-meta:v0.99.0"
                       "@sha256:9a079ac1c94d89629262822a4bd1902d5b1be4adb464e5a0a8fd078aaed72158",
      .resources = {.requests = {{"cpu", "25m"}, {"memory", "64Mi"}},
                    .limits = {{"cpu", "250m"}, {"memory", "256Mi"}}},
      .login_roles = {kRole},
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
