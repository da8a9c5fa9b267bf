// Internal to render/: the shared pieces every object builder uses (metadata, owner reference,
// security contexts, env entries, hashes) and one builder function per render/*.cc file.
// Not for use outside render/; the public contract is render.h.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/project/components/component.h"
#include "controller/project/names.h"
#include "controller/project/render/render.h"

namespace kubabase::project::render_internal {

// Everything a builder needs, resolved once.
struct Context {
  const Project& project;
  const Defaults& defaults;
  const Keys& keys;
  const UserSecrets& user_secrets;
  std::string ns;    // the project namespace
  std::string host;  // Host()
  std::string url;   // ApiUrl()
  std::vector<ComponentPlan> plans;  // PlanComponents(): the enabled components
};

// The official postgres image's uid/gid, and the uid the app images (PostgREST, GoTrue, Storage)
// run as. Stated numerically because runAsNonRoot cannot verify a named USER.
inline constexpr int64_t kPostgresUid = 999;
inline constexpr int64_t kAppUid = 1000;

// {apiVersion, kind, metadata: {name, namespace (unless empty), labels, ownerReferences}}.
// `owned` false leaves ownerReferences out (deletionPolicy Retain, see render.h).
// `component` is the kubabase.io/component label value.
Json Object(const Context& ctx, std::string_view api_version, std::string_view kind,
            std::string_view name, std::string_view component, bool owned = true);

// True when deletionPolicy is Delete: data-bearing objects are owned then.
bool OwnsData(const Context& ctx);

Json ToJson(const std::map<std::string, std::string>& map);

// Pod-level and container-level securityContext for PSA "restricted".
Json PodSecurityContext(int64_t uid);
Json ContainerSecurityContext();

// {"name": name, "value": value} and {"name", valueFrom.secretKeyRef{name: secret, key}}.
Json Env(std::string_view name, std::string_view value);
Json EnvFromSecret(std::string_view name, std::string_view secret, std::string_view key);

// Appends spec extraEnv entries last, so a user's entry with the same name wins (Kubernetes takes
// the last duplicate).
void AppendExtraEnv(Json& env, const Json& extra_env);

// Lowercase hex sha256.
std::string Sha256Hex(std::string_view bytes);

// sha256 over (label, value) pairs, unambiguous (length-prefixed). Used for config-hash.
std::string HashOf(const std::vector<std::pair<std::string, std::string>>& parts);

// A value from keys.db_credentials / keys.api_keys, or FailedPrecondition naming the key.
StatusOr<std::string> DbPassword(const Context& ctx, std::string_view role);
StatusOr<std::string> ApiKey(const Context& ctx, std::string_view key);

// The values of the user Secret copy `copy` (UserSecretNeed::copy), empty when none was read.
const std::map<std::string, std::string>& UserSecretValues(const Context& ctx,
                                                           std::string_view copy);

// postgres://<role>:$(DB_PASSWORD)@db:5432/postgres: the kubelet expands $(DB_PASSWORD) from the
// container's env, so the password stays out of the pod spec. Generated passwords are URL-safe
// (keys.h), so they need no escaping here.
std::string DatabaseUri(std::string_view role);

// A stateless component's Deployment + Service pair, shared by rest/auth/storage.
struct Workload {
  std::string_view component;  // the label
  std::string name;   // Deployment and Service name
  std::string image;
  int port;           // the Service and container port
  Json env;           // container env (extraEnv already appended)
  Json probes;        // {readinessProbe, livenessProbe, ...} merged into the container
  Json resources;     // AddServedWorkload sets it: the component's default + spec.<key>.resources
  std::string config_hash;
  int32_t replicas;
  Json volumes = Json::array();
  Json volume_mounts = Json::array();
  Json extra_ports = Json::array();  // more containerPorts (e.g. PostgREST admin)
  bool recreate = false;             // strategy Recreate (an RWO volume cannot be shared)
};
Json Deployment(const Context& ctx, const Workload& workload);
// A component's ClusterIP Service and Deployment, both named plan.def->workload, with the label,
// image and replicas the plan decided and its container resources (plans.h ContainerResources)
// (whatever `workload` says of them is replaced).
void AddServedWorkload(const Context& ctx, const ComponentPlan& plan, Workload workload,
                       std::vector<Json>& out);
Json ClusterIpService(const Context& ctx, std::string_view component, std::string_view name,
                      int port);
// An HTTP GET probe on `path`: every `period` seconds, 3 s timeout, unhealthy after `failures`.
Json HttpProbe(std::string_view path, int port, int period, int failures);

// The builders of what belongs to no single component, each appending in apply order.
Json NamespaceObject(const Context& ctx);
// The plan's ResourceQuota and LimitRange (quota.cc); InvalidArgument for an unknown plan.
Status AppendPlan(const Context& ctx, std::vector<Json>& out);
Status AppendSecrets(const Context& ctx, std::vector<Json>& out);
void AppendNetworkPolicies(const Context& ctx, std::vector<Json>& out);

}  // namespace kubabase::project::render_internal
