// Storage API: Deployment and Service "storage" (port 5000, health /status), on a PVC
// ("storage-data", backend file) or on S3-compatible object storage (backend s3), routed at
// /storage/v1 with X-Forwarded-Prefix; with s3, the credentials Secret the spec names is copied in
// as s3-credentials.
#include "controller/base/quantity.h"
#include "controller/project/components/components.h"
#include "controller/project/components/sql/storage.sql.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

bool UsesS3(const ProjectSpec& spec) { return spec.storage.backend == StorageBackend::kS3; }

std::vector<UserSecretNeed> SecretsNeeded(const ProjectSpec& spec) {
  if (!UsesS3(spec) || spec.storage.s3.credentials_secret_ref.empty()) return {};
  const SecretRef& ref = spec.storage.s3.credentials_secret_ref;
  UserSecretNeed need{.field = "spec.storage.s3.credentialsSecretRef",
                      .source_namespace = ref.namespace_,
                      .source_name = ref.name,
                      .copy = std::string(names::kS3CredentialsSecret),
                      .keys = {}};
  for (std::string_view key : {names::kAwsAccessKeyIdKey, names::kAwsSecretAccessKeyKey}) {
    need.keys.emplace_back(key, key);
  }
  return {need};
}

Json StorageClaim(const Context& ctx) {
  const VolumeSpec& volume = ctx.project.spec.storage.volume;
  // Owned only under Delete: under Retain the files outlive the Project (see render.h).
  Json object = Object(ctx, "v1", "PersistentVolumeClaim", names::kStorageClaim,
                       StorageComponent().label, OwnsData(ctx));
  Json spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
               {"resources", {{"requests", {{"storage", volume.size}}}}}};
  if (!volume.storage_class_name.empty()) spec["storageClassName"] = volume.storage_class_name;
  object["spec"] = spec;
  return object;
}

// Where objects live: S3 (endpoint, path style and the copied credentials, which roll the pod
// when they change), else the file backend on the storage claim.
void AddBackend(const Context& ctx, Workload& workload,
                std::vector<std::pair<std::string, std::string>>& hashed) {
  const StorageSpec& storage = ctx.project.spec.storage;
  Json& env = workload.env;
  if (UsesS3(ctx.project.spec)) {
    env.push_back(Env("GLOBAL_S3_ENDPOINT", storage.s3.endpoint));
    env.push_back(Env("GLOBAL_S3_FORCE_PATH_STYLE", storage.s3.force_path_style ? "true" : "false"));
    const auto& credentials = UserSecretValues(ctx, names::kS3CredentialsSecret);
    for (std::string_view key : {names::kAwsAccessKeyIdKey, names::kAwsSecretAccessKeyKey}) {
      env.push_back(EnvFromSecret(key, names::kS3CredentialsSecret, key));
      auto it = credentials.find(std::string(key));
      hashed.emplace_back(std::string(key), it == credentials.end() ? "" : it->second);
    }
    return;
  }
  env.push_back(Env("STORAGE_FILE_BACKEND_PATH", names::kStorageFilePath));
  workload.volumes.push_back(
      {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", names::kStorageClaim}}}});
  workload.volume_mounts.push_back({{"name", "data"}, {"mountPath", names::kStorageFilePath}});
}

Status Render(const Context& ctx, const ComponentPlan& plan, std::vector<Json>& out) {
  const StorageSpec& storage = ctx.project.spec.storage;
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleStorageAdmin));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));
  KUBABASE_ASSIGN_OR_RETURN(std::string anon_key, ApiKey(ctx, names::kAnonKeyKey));
  KUBABASE_ASSIGN_OR_RETURN(std::string service_key, ApiKey(ctx, names::kServiceRoleKeyKey));
  // ParseProject accepted only what QuantityBytes reads.
  const int64_t file_size_limit = QuantityBytes(storage.file_size_limit).value_or(0);
  const bool s3 = UsesS3(ctx.project.spec);

  Json env = Json::array(
      {EnvFromSecret("ANON_KEY", names::kApiKeysSecret, names::kAnonKeyKey),
       EnvFromSecret("SERVICE_KEY", names::kApiKeysSecret, names::kServiceRoleKeyKey),
       EnvFromSecret("AUTH_JWT_SECRET", names::kApiKeysSecret, names::kJwtSecretKey),
       EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleStorageAdmin),
       Env("DATABASE_URL", DatabaseUri(names::kRoleStorageAdmin)),
       Env("SERVER_PORT", std::to_string(names::kStoragePort)),
       Env("FILE_SIZE_LIMIT", std::to_string(file_size_limit)),
       Env("STORAGE_BACKEND", StorageBackendName(storage.backend)),
       // The file backend stores under <path>/<bucket>/ too, so the bucket is always set.
       Env("GLOBAL_S3_BUCKET", S3Bucket(ctx.project)),
       Env("TENANT_ID", ctx.project.name),
       Env("REGION", storage.s3.region),
       Env("STORAGE_PUBLIC_URL", ctx.url),
       // The route sends X-Forwarded-Prefix: /storage/v1; honour it in Location headers.
       Env("REQUEST_ALLOW_X_FORWARDED_PATH", "true")});
  std::vector<std::pair<std::string, std::string>> hashed = {{"supabase_storage_admin", password},
                                                             {"JWT_SECRET", jwt_secret},
                                                             {"ANON_KEY", anon_key},
                                                             {"SERVICE_ROLE_KEY", service_key}};
  Workload workload{
      .port = names::kStoragePort,
      .env = std::move(env),
      .probes = {{"readinessProbe", HttpProbe("/status", names::kStoragePort, 5, 3)},
                 {"livenessProbe", HttpProbe("/status", names::kStoragePort, 10, 6)}},
      // A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
      .recreate = !s3,
  };
  AddBackend(ctx, workload, hashed);
  AppendExtraEnv(workload.env, storage.extra_env);
  workload.config_hash = HashOf(hashed);
  if (!s3) out.push_back(StorageClaim(ctx));
  AddServedWorkload(ctx, plan, std::move(workload), out);
  return Status();
}

}  // namespace

const ComponentDef& StorageComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "storage",
      .label = "storage",
      .condition = "StorageReady",
      .workload_resource = &kube::Resource::Deployments(),
      .workload = names::kStorage,
      .enabled = EnabledIn<&ProjectSpec::storage>,
      .replicas = ReplicasIn<&ProjectSpec::storage>,
      .image = ImageIn<&ProjectSpec::storage, &Images::storage>,
      .resources = {.requests = {{"cpu", "50m"}, {"memory", "128Mi"}},
                    .limits = {{"cpu", "500m"}, {"memory", "512Mi"}}},
      .spec_resources = ResourcesIn<&ProjectSpec::storage>,
      .login_roles = {names::kRoleStorageAdmin},
      .bootstrap_sql = embedded::storage_sql,
      .routes = {{.prefix = "/storage/v1",
                  .service = names::kStorage,
                  .port = names::kStoragePort,
                  .forwarded_prefix = "/storage/v1"}},
      .user_secrets = SecretsNeeded,
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
