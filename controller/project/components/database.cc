// The database: headless Service, StatefulSet (one Postgres with a PVC), and the bootstrap
// ConfigMap + Job that creates roles, schemas and grants (render/bootstrap_sql.h).
#include "controller/project/components/components.h"
#include "controller/project/components/sql/database.sql.h"
#include "controller/project/plans.h"
#include "controller/project/render/bootstrap_sql.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

constexpr std::string_view kLabel = "db";

Json PgIsReady(int period, int failures) {
  // Over TCP on loopback: the Unix socket path differs between images.
  return {{"exec",
           {{"command", Json::array({"pg_isready", "-h", "127.0.0.1", "-p",
                                     std::to_string(names::kDatabasePort), "-U",
                                     names::kSuperuserRole, "-d", names::kDatabaseName})}}},
          {"periodSeconds", period},
          {"timeoutSeconds", 5},
          {"failureThreshold", failures}};
}

Json DatabaseService(const Context& ctx) {
  Json object = Object(ctx, "v1", "Service", names::kDatabase, kLabel);
  // Headless: the StatefulSet's governing Service; clients resolve "db" to the pod.
  object["spec"] = {
      {"clusterIP", "None"},
      {"selector", ToJson(names::SelectorLabels(ctx.project.name, kLabel))},
      {"ports", Json::array({{{"name", "postgres"},
                              {"port", names::kDatabasePort},
                              {"targetPort", "postgres"},
                              {"protocol", "TCP"}}})}};
  return object;
}

// The postgres container: the superuser both images initialise, the data directory, probes.
Json PostgresContainer(const Context& ctx, const ComponentPlan& plan,
                       const std::string& data_dir) {
  const DatabaseSpec& db = ctx.project.spec.database;
  Json env = Json::array(
      {// Both images initialise this superuser (supabase/postgres sets the same by default); the
       // bootstrap Job logs in as it with the same db-credentials key.
       Env("POSTGRES_USER", names::kSuperuserRole),
       EnvFromSecret("POSTGRES_PASSWORD", names::kDbCredentialsSecret, names::kSuperuserRole),
       Env("POSTGRES_DB", names::kDatabaseName),
       // A subdirectory: a fresh volume's root holds lost+found, which initdb refuses.
       Env("PGDATA", data_dir + "/pgdata")});
  Json container = {
      {"name", "postgres"},
      {"image", plan.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"ports", Json::array({{{"name", "postgres"},
                              {"containerPort", names::kDatabasePort},
                              {"protocol", "TCP"}}})},
      {"env", env},
      {"securityContext", ContainerSecurityContext()},
      {"volumeMounts", Json::array({{{"name", names::kDatabaseVolume}, {"mountPath", data_dir}},
                                    {{"name", "run"}, {"mountPath", "/var/run/postgresql"}}})},
      // First initialisation runs every migration of the supabase image: allow 10 minutes.
      {"startupProbe", PgIsReady(5, 120)},
      {"readinessProbe", PgIsReady(5, 3)},
      {"livenessProbe", PgIsReady(10, 6)}};
  container["resources"] = ContainerResources(plan.def->resources, db.resources);
  return container;
}

Json StatefulSet(const Context& ctx, const ComponentPlan& plan) {
  const DatabaseSpec& db = ctx.project.spec.database;
  const Json container = PostgresContainer(ctx, plan, "/var/lib/postgresql/data");

  Json claim_spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
                     {"resources", {{"requests", {{"storage", db.storage.size}}}}}};
  if (!db.storage.storage_class_name.empty()) {
    claim_spec["storageClassName"] = db.storage.storage_class_name;
  }
  Json claim_labels = ToJson(names::Labels(ctx.project.name, kLabel,
                                           ctx.project.spec.organization));
  Json pod_labels = ToJson(names::SelectorLabels(ctx.project.name, kLabel));
  pod_labels[std::string(names::kManagedByLabel)] = names::kManagedByValue;

  Json object = Object(ctx, "apps/v1", "StatefulSet", names::kDatabase, kLabel);
  object["spec"] = {
      {"replicas", plan.replicas},
      {"serviceName", names::kDatabase},
      {"revisionHistoryLimit", 3},
      {"selector",
       {{"matchLabels", ToJson(names::SelectorLabels(ctx.project.name, kLabel))}}},
      // Keep the data volume when the StatefulSet goes (Retain) or scales to 0 (paused).
      {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
      {"template",
       {{"metadata", {{"labels", pod_labels}}},
        {"spec",
         {{"automountServiceAccountToken", false},
          {"enableServiceLinks", false},
          {"securityContext", PodSecurityContext(kPostgresUid)},
          // Postgres shuts down cleanly on SIGTERM given time to checkpoint.
          {"terminationGracePeriodSeconds", 60},
          {"containers", Json::array({container})},
          {"volumes", Json::array({{{"name", "run"}, {"emptyDir", Json::object()}}})}}}}},
      // Immutable after creation: a size change needs the PVC expanded by hand.
      {"volumeClaimTemplates",
       Json::array({{{"apiVersion", "v1"},
                     {"kind", "PersistentVolumeClaim"},
                     {"metadata", {{"name", names::kDatabaseVolume}, {"labels", claim_labels}}},
                     {"spec", claim_spec}}})}};
  return object;
}

Json BootstrapConfigMap(const Context& ctx) {
  Json object = Object(ctx, "v1", "ConfigMap", names::kBootstrap, names::kBootstrapComponent);
  object["data"] = {{std::string(kBootstrapSqlFile), BootstrapSql()},
                    {std::string(kBootstrapScriptFile), BootstrapScript()}};
  return object;
}

StatusOr<Json> BootstrapJob(const Context& ctx, const ComponentPlan& plan) {
  // psql of the server's own version, unless the operator names a bootstrap image.
  const std::string image =
      ctx.defaults.images.bootstrap.empty() ? plan.image : ctx.defaults.images.bootstrap;
  const std::string jwt_exp = std::to_string(ctx.project.spec.auth.jwt_expiry_seconds);
  Json env = Json::array({Env("PGHOST", names::kDatabase),
                          Env("PGPORT", std::to_string(names::kDatabasePort)),
                          Env("PGDATABASE", names::kDatabaseName),
                          Env("PGUSER", names::kSuperuserRole),
                          EnvFromSecret("PGPASSWORD", names::kDbCredentialsSecret,
                                        names::kSuperuserRole)});
  // Every input that changes what the Job does goes into its name (passwords as a hash only).
  std::vector<std::pair<std::string, std::string>> inputs = {
      {"sql", BootstrapSql()}, {"script", BootstrapScript()}, {"image", image},
      {"jwt_exp", jwt_exp}};
  for (const LoginRoleSpec& role : LoginRoleSpecs()) {
    KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, role.role));
    inputs.emplace_back(role.role, password);
    env.push_back(EnvFromSecret(role.password_env, names::kDbCredentialsSecret, role.role));
  }
  env.push_back(Env(kJwtExpEnv, jwt_exp));
  const std::string name = std::string(names::kBootstrap) + "-" + HashOf(inputs).substr(0, 10);

  Json container = {
      {"name", "bootstrap"},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", Json::array({"/bin/sh", std::string(kBootstrapMountPath) + "/" +
                                              std::string(kBootstrapScriptFile)})},
      {"env", env},
      {"securityContext", ContainerSecurityContext()},
      {"resources", ContainerResources(BootstrapResources(), Json::object())},
      {"volumeMounts", Json::array({{{"name", "bootstrap"},
                                     {"mountPath", kBootstrapMountPath},
                                     {"readOnly", true}}})}};
  Json pod_labels = ToJson(names::SelectorLabels(ctx.project.name, names::kBootstrapComponent));
  pod_labels[std::string(names::kManagedByLabel)] = names::kManagedByValue;
  Json object = Object(ctx, "batch/v1", "Job", name, names::kBootstrapComponent);
  object["spec"] = {
      // The script waits for the server itself; retries cover a database that restarts meanwhile.
      {"backoffLimit", 6},
      {"template",
       {{"metadata", {{"labels", pod_labels}}},
        {"spec",
         {{"restartPolicy", "Never"},
          {"automountServiceAccountToken", false},
          {"enableServiceLinks", false},
          {"securityContext", PodSecurityContext(kPostgresUid)},
          {"containers", Json::array({container})},
          {"volumes", Json::array({{{"name", "bootstrap"},
                                    {"configMap", {{"name", names::kBootstrap}}}}})}}}}}};
  return object;
}

Status Render(const Context& ctx, const ComponentPlan& plan, std::vector<Json>& out) {
  out.push_back(DatabaseService(ctx));
  out.push_back(StatefulSet(ctx, plan));
  out.push_back(BootstrapConfigMap(ctx));
  // Paused: the database is down, a Job would only fail its retries.
  if (!ctx.project.spec.paused) {
    KUBABASE_ASSIGN_OR_RETURN(Json job, BootstrapJob(ctx, plan));
    out.push_back(std::move(job));
  }
  return Status();
}

}  // namespace

const ComponentDef& DatabaseComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "database",
      .label = kLabel,
      .condition = "DatabaseReady",
      .workload_resource = &kube::Resource::StatefulSets(),
      .workload = names::kDatabase,
      .waits_for_bootstrap = true,
      .image = ImageIn<&ProjectSpec::database, &Images::postgres>,
      .resources = {.requests = {{"cpu", "250m"}, {"memory", "512Mi"}},
                    .limits = {{"cpu", "1"}, {"memory", "1Gi"}}},
      .spec_resources = ResourcesIn<&ProjectSpec::database>,
      // postgres owns the database; supabase_admin is the superuser the server is initialised
      // with and the bootstrap logs in as.
      .login_roles = {names::kRolePostgres, names::kRoleSupabaseAdmin},
      .bootstrap_sql = embedded::database_sql,
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
