// Storage API: Deployment and Service "storage" (port 5000, health /status), on a PVC
// ("storage-data", backend file) or on S3-compatible object storage (backend s3).
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

Json StorageClaim(const Context& ctx) {
  const VolumeSpec& volume = ctx.project.spec.storage.volume;
  // Owned only under Delete: under Retain the files outlive the Project (see render.h).
  Json object = Object(ctx, "v1", "PersistentVolumeClaim", names::kStorageClaim,
                       Component::kStorage, OwnsData(ctx));
  Json spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
               {"resources", {{"requests", {{"storage", volume.size}}}}}};
  if (!volume.storage_class_name.empty()) spec["storageClassName"] = volume.storage_class_name;
  object["spec"] = spec;
  return object;
}

}  // namespace

Status AppendStorage(const Context& ctx, std::vector<Json>& out) {
  const StorageSpec& storage = ctx.project.spec.storage;
  if (!storage.enabled) return Status();
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleStorageAdmin));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));
  KUBABASE_ASSIGN_OR_RETURN(std::string anon_key, ApiKey(ctx, names::kAnonKeyKey));
  KUBABASE_ASSIGN_OR_RETURN(std::string service_key, ApiKey(ctx, names::kServiceRoleKeyKey));
  StatusOr<int64_t> file_size_limit = QuantityBytes(storage.file_size_limit);
  if (!file_size_limit.ok()) {
    return InvalidArgumentError("spec.storage.fileSizeLimit: " + file_size_limit.status().message());
  }
  const bool s3 = storage.backend == StorageBackend::kS3;

  Json env = Json::array(
      {EnvFromSecret("ANON_KEY", names::kApiKeysSecret, names::kAnonKeyKey),
       EnvFromSecret("SERVICE_KEY", names::kApiKeysSecret, names::kServiceRoleKeyKey),
       EnvFromSecret("AUTH_JWT_SECRET", names::kApiKeysSecret, names::kJwtSecretKey),
       EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleStorageAdmin),
       Env("DATABASE_URL", "postgres://" + std::string(names::kRoleStorageAdmin) +
                               ":$(DB_PASSWORD)@" + std::string(names::kDatabase) + ":" +
                               std::to_string(names::kDatabasePort) + "/" +
                               std::string(names::kDatabaseName)),
       Env("SERVER_PORT", std::to_string(names::kStoragePort)),
       Env("FILE_SIZE_LIMIT", std::to_string(*file_size_limit)),
       Env("STORAGE_BACKEND", StorageBackendName(storage.backend)),
       // The file backend stores under <path>/<bucket>/ too, so the bucket is always set.
       Env("GLOBAL_S3_BUCKET", S3Bucket(ctx.project)),
       Env("TENANT_ID", ctx.project.name),
       Env("REGION", storage.s3.region),
       Env("STORAGE_PUBLIC_URL", ctx.url),
       // The storage Ingress sends X-Forwarded-Prefix: /storage/v1; honour it in Location headers.
       Env("REQUEST_ALLOW_X_FORWARDED_PATH", "true")});
  std::vector<std::pair<std::string, std::string>> hashed = {{"supabase_storage_admin", password},
                                                             {"JWT_SECRET", jwt_secret},
                                                             {"ANON_KEY", anon_key},
                                                             {"SERVICE_ROLE_KEY", service_key}};
  Json volumes = Json::array();
  Json mounts = Json::array();
  if (s3) {
    env.push_back(Env("GLOBAL_S3_ENDPOINT", storage.s3.endpoint));
    env.push_back(Env("GLOBAL_S3_FORCE_PATH_STYLE", storage.s3.force_path_style ? "true" : "false"));
    for (std::string_view key : {names::kAwsAccessKeyIdKey, names::kAwsSecretAccessKeyKey}) {
      env.push_back(EnvFromSecret(key, names::kS3CredentialsSecret, key));
      auto it = ctx.user_secrets.s3_credentials.find(std::string(key));
      hashed.emplace_back(std::string(key),
                          it == ctx.user_secrets.s3_credentials.end() ? "" : it->second);
    }
  } else {
    env.push_back(Env("STORAGE_FILE_BACKEND_PATH", names::kStorageFilePath));
    volumes.push_back(
        {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", names::kStorageClaim}}}});
    mounts.push_back({{"name", "data"}, {"mountPath", names::kStorageFilePath}});
  }
  AppendExtraEnv(env, storage.extra_env);

  Workload workload{
      .component = Component::kStorage,
      .name = std::string(names::kStorage),
      .image = storage.image.empty() ? ctx.defaults.images.storage : storage.image,
      .port = names::kStoragePort,
      .env = env,
      .probes = {{"readinessProbe", HttpProbe("/status", names::kStoragePort, 5, 3)},
                 {"livenessProbe", HttpProbe("/status", names::kStoragePort, 10, 6)}},
      .resources = storage.resources,
      .config_hash = HashOf(hashed),
      .replicas = ctx.project.spec.paused ? 0 : storage.replicas,
      .volumes = volumes,
      .volume_mounts = mounts,
      // A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
      .recreate = !s3,
  };
  if (!s3) out.push_back(StorageClaim(ctx));
  out.push_back(ClusterIpService(ctx, Component::kStorage, names::kStorage, names::kStoragePort));
  out.push_back(Deployment(ctx, workload));
  return Status();
}

}  // namespace kubabase::project::render_internal
