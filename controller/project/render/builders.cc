#include "controller/project/render/builders.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "controller/project/plans.h"

namespace kubabase::project::render_internal {

Json ToJson(const std::map<std::string, std::string>& map) {
  Json out = Json::object();
  for (const auto& [k, v] : map) out[k] = v;
  return out;
}

bool OwnsData(const Context& ctx) {
  return ctx.project.spec.deletion_policy == DeletionPolicy::kDelete;
}

Json Object(const Context& ctx, std::string_view api_version, std::string_view kind,
            std::string_view name, std::string_view component, bool owned) {
  Json metadata = {{"name", name},
                   {"labels", ToJson(names::Labels(ctx.project.name, component,
                                                   ctx.project.spec.organization))}};
  if (kind != "Namespace") metadata["namespace"] = ctx.ns;
  if (owned) {
    metadata["ownerReferences"] = Json::array({{{"apiVersion", names::kApiVersion},
                                                {"kind", names::kKind},
                                                {"name", ctx.project.name},
                                                {"uid", ctx.project.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}});
  }
  return {{"apiVersion", api_version}, {"kind", kind}, {"metadata", metadata}};
}

Json PodSecurityContext(int64_t uid) {
  return {{"runAsNonRoot", true},
          {"runAsUser", uid},
          {"runAsGroup", uid},
          {"fsGroup", uid},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

Json ContainerSecurityContext() {
  return {{"allowPrivilegeEscalation", false},
          {"capabilities", {{"drop", Json::array({"ALL"})}}},
          {"runAsNonRoot", true},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

Json Env(std::string_view name, std::string_view value) {
  return {{"name", name}, {"value", value}};
}

Json EnvFromSecret(std::string_view name, std::string_view secret, std::string_view key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

void AppendExtraEnv(Json& env, const Json& extra_env) {
  if (!extra_env.is_array()) return;
  for (const Json& entry : extra_env) env.push_back(entry);
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string HashOf(const std::vector<std::pair<std::string, std::string>>& parts) {
  // Length-prefixed so that ("ab", "c") and ("a", "bc") differ.
  std::string input;
  for (const auto& [label, value] : parts) {
    input += std::to_string(label.size()) + ":" + label + std::to_string(value.size()) + ":" + value;
  }
  return Sha256Hex(input);
}

StatusOr<std::string> DbPassword(const Context& ctx, std::string_view role) {
  auto it = ctx.keys.db_credentials.find(std::string(role));
  if (it == ctx.keys.db_credentials.end() || it->second.empty()) {
    return FailedPreconditionError("Secret " + std::string(names::kDbCredentialsSecret) +
                                   " has no value for " + std::string(role));
  }
  return it->second;
}

StatusOr<std::string> ApiKey(const Context& ctx, std::string_view key) {
  auto it = ctx.keys.api_keys.find(std::string(key));
  if (it == ctx.keys.api_keys.end() || it->second.empty()) {
    return FailedPreconditionError("Secret " + std::string(names::kApiKeysSecret) +
                                   " has no value for " + std::string(key));
  }
  return it->second;
}

const std::map<std::string, std::string>& UserSecretValues(const Context& ctx,
                                                           std::string_view copy) {
  static const auto* const kNone = new std::map<std::string, std::string>;
  auto it = ctx.user_secrets.copies.find(std::string(copy));
  return it == ctx.user_secrets.copies.end() ? *kNone : it->second;
}

std::string DatabaseUri(std::string_view role) {
  return fmt::format("postgres://{}:$(DB_PASSWORD)@{}:{}/{}", role, names::kDatabase,
                     names::kDatabasePort, names::kDatabaseName);
}

void AddServedWorkload(const Context& ctx, const ComponentPlan& plan, Workload workload,
                       std::vector<Json>& out) {
  workload.component = plan.def->label;
  workload.name = std::string(plan.def->workload);
  workload.image = plan.image;
  workload.replicas = plan.replicas;
  workload.resources =
      ContainerResources(plan.def->resources, SpecResources(ctx.project.spec, *plan.def));
  out.push_back(ClusterIpService(ctx, workload.component, workload.name, workload.port));
  out.push_back(Deployment(ctx, workload));
}

Json Deployment(const Context& ctx, const Workload& w) {
  Json object = Object(ctx, "apps/v1", "Deployment", w.name, w.component);
  Json ports = Json::array({{{"name", "http"}, {"containerPort", w.port}, {"protocol", "TCP"}}});
  for (const Json& port : w.extra_ports) ports.push_back(port);
  Json container = {{"name", w.name},
                    {"image", w.image},
                    {"imagePullPolicy", "IfNotPresent"},
                    {"ports", ports},
                    {"env", w.env},
                    {"securityContext", ContainerSecurityContext()}};
  if (w.resources.is_object() && !w.resources.empty()) container["resources"] = w.resources;
  if (!w.volume_mounts.empty()) container["volumeMounts"] = w.volume_mounts;
  for (const auto& [probe, spec] : w.probes.items()) container[probe] = spec;
  Json pod_labels = ToJson(names::SelectorLabels(ctx.project.name, w.component));
  pod_labels[std::string(names::kManagedByLabel)] = names::kManagedByValue;
  Json pod_spec = {
      // No API access is needed; a mounted token would only be something to steal.
      {"automountServiceAccountToken", false},
      // Service links would inject env such as STORAGE_PORT=tcp://... that apps may misread.
      {"enableServiceLinks", false},
      {"securityContext", PodSecurityContext(kAppUid)},
      {"containers", Json::array({container})}};
  if (!w.volumes.empty()) pod_spec["volumes"] = w.volumes;
  Json spec = {
      {"replicas", w.replicas},
      {"revisionHistoryLimit", 3},
      {"selector", {{"matchLabels", ToJson(names::SelectorLabels(ctx.project.name, w.component))}}},
      {"template",
       {{"metadata",
         {{"labels", pod_labels},
          {"annotations", {{std::string(names::kConfigHashAnnotation), w.config_hash}}}}},
        {"spec", pod_spec}}}};
  if (w.recreate) spec["strategy"] = {{"type", "Recreate"}};
  object["spec"] = spec;
  return object;
}

Json ClusterIpService(const Context& ctx, std::string_view component, std::string_view name,
                      int port) {
  Json object = Object(ctx, "v1", "Service", name, component);
  object["spec"] = {
      {"type", "ClusterIP"},
      {"selector", ToJson(names::SelectorLabels(ctx.project.name, component))},
      {"ports", Json::array({{{"name", "http"},
                              {"port", port},
                              {"targetPort", "http"},
                              {"protocol", "TCP"}}})}};
  return object;
}

Json HttpProbe(std::string_view path, int port, int period, int failures) {
  return {{"httpGet", {{"path", path}, {"port", port}}},
          {"periodSeconds", period},
          {"timeoutSeconds", 3},
          {"failureThreshold", failures}};
}

}  // namespace kubabase::project::render_internal
