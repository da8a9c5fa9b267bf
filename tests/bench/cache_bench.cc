// cache_bench: heap bytes per object held in a Store, before and after the cache transforms.
//
//   ninja -C build cache_bench && ./build/tests/bench/cache_bench [objects_per_kind]
//
// Objects are shaped like what a cluster serves for resources created by `kubectl apply` and
// updated by controllers: metadata.managedFields for two managers, the kubectl last-applied
// annotation, labels, a status. Heap usage is counted by replacing the global operator new and
// delete in this binary (bytes as the allocator hands them out, malloc_usable_size), so the
// figures include nlohmann::json nodes, std::map nodes, keys, shared_ptr control blocks and the
// label index: everything the Store costs, not only the payload.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "controller/kube/cache.h"

namespace {
std::atomic<long long> live_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  live_bytes += static_cast<long long>(malloc_usable_size(p));
  return p;
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  live_bytes -= static_cast<long long>(malloc_usable_size(p));
  std::free(p);
}
void operator delete[](void* p) noexcept { ::operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { ::operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { ::operator delete(p); }

namespace {

using kubabase::kube::Json;
using kubabase::kube::Store;
using kubabase::kube::Transform;

// metadata.managedFields' fieldsV1 for `value`, as the apiserver writes it: every field "f:x",
// list items by their name "k:{...}", leaves {}.
Json FieldsV1(const Json& value) {
  Json out = Json::object();
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) out["f:" + key] = FieldsV1(child);
  } else if (value.is_array()) {
    for (const Json& item : value) {
      if (item.is_object() && item.contains("name")) {
        out["k:{\"name\":\"" + item["name"].get<std::string>() + "\"}"] = FieldsV1(item);
      } else {
        out["."] = Json::object();
      }
    }
  }
  return out;
}

std::string Base64Like(size_t length, int seed) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out(length, 'A');
  unsigned state = static_cast<unsigned>(seed) * 2654435761u + 1;
  for (char& c : out) {
    state = state * 1103515245u + 12345u;
    c = kAlphabet[(state >> 16) % 64];
  }
  return out;
}

Json Metadata(const std::string& name, int i, const Json& applied_body, const Json& labels) {
  Json applied = applied_body;
  applied["metadata"] = {{"name", name}, {"namespace", "project-" + std::to_string(i % 100)},
                         {"labels", labels}};
  return {{"name", name},
          {"namespace", "project-" + std::to_string(i % 100)},
          {"uid", "6f1c2a7e-0b7d-4f2e-9a51-" + Base64Like(12, i)},
          {"resourceVersion", std::to_string(100000 + i)},
          {"generation", 3},
          {"creationTimestamp", "2026-11-28T09:00:00Z"},
          {"labels", labels},
          {"annotations",
           {{"kubectl.kubernetes.io/last-applied-configuration", applied.dump()}}},
          {"managedFields",
           Json::array({{{"manager", "kubectl-client-side-apply"},
                         {"operation", "Update"},
                         {"apiVersion", applied_body.value("apiVersion", "v1")},
                         {"time", "2026-11-28T09:00:00Z"},
                         {"fieldsType", "FieldsV1"},
                         {"fieldsV1", FieldsV1(applied)}}})}};
}

Json Labels(int i, const std::string& component) {
  return {{"app.kubernetes.io/managed-by", "kubabase"},
          {"app.kubernetes.io/name", component},
          {"kubabase.io/project", "project-" + std::to_string(i % 100)},
          {"kubabase.io/component", component}};
}

Json Deployment(int i) {
  const std::string name = "rest-" + std::to_string(i);
  Json labels = Labels(i, "rest");
  Json env = Json::array();
  for (const char* var : {"PGRST_DB_URI", "PGRST_DB_SCHEMAS", "PGRST_DB_ANON_ROLE",
                          "PGRST_JWT_SECRET", "PGRST_DB_USE_LEGACY_GUCS", "PGRST_DB_MAX_ROWS"}) {
    env.push_back({{"name", var},
                   {"valueFrom", {{"secretKeyRef", {{"name", "db-credentials"}, {"key", var}}}}}});
  }
  Json container = {
      {"name", "postgrest"},
      {"image", "postgrest/postgrest:v12.2.3"},
      {"ports", Json::array({{{"name", "http"}, {"containerPort", 3000}, {"protocol", "TCP"}}})},
      {"env", env},
      {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
                     {"limits", {{"memory", "256Mi"}}}}},
      {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 3001}}},
                          {"periodSeconds", 5}}},
      {"securityContext", {{"runAsNonRoot", true}, {"allowPrivilegeEscalation", false},
                           {"capabilities", {{"drop", Json::array({"ALL"})}}},
                           {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
  Json spec = {{"replicas", 1},
               {"selector", {{"matchLabels", {{"kubabase.io/project", labels["kubabase.io/project"]},
                                              {"kubabase.io/component", "rest"}}}}},
               {"template", {{"metadata", {{"labels", labels}}},
                             {"spec", {{"containers", Json::array({container})}}}}}};
  Json applied = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"spec", spec}};
  Json object = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", Metadata(name, i, applied, labels)},
                 {"spec", spec},
                 {"status",
                  {{"observedGeneration", 3}, {"replicas", 1}, {"readyReplicas", 1},
                   {"availableReplicas", 1}, {"updatedReplicas", 1},
                   {"conditions",
                    Json::array({{{"type", "Available"}, {"status", "True"},
                                  {"reason", "MinimumReplicasAvailable"},
                                  {"message", "Deployment has minimum availability."},
                                  {"lastUpdateTime", "2026-11-28T09:00:05Z"},
                                  {"lastTransitionTime", "2026-11-28T09:00:05Z"}},
                                 {{"type", "Progressing"}, {"status", "True"},
                                  {"reason", "NewReplicaSetAvailable"},
                                  {"message", "ReplicaSet \"" + name + "-5d9c7\" has successfully progressed."},
                                  {"lastUpdateTime", "2026-11-28T09:00:05Z"},
                                  {"lastTransitionTime", "2026-11-28T09:00:00Z"}}})}}}};
  object["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1";
  object["metadata"]["managedFields"].push_back(
      {{"manager", "kube-controller-manager"}, {"operation", "Update"}, {"apiVersion", "apps/v1"},
       {"subresource", "status"}, {"time", "2026-11-28T09:00:05Z"}, {"fieldsType", "FieldsV1"},
       {"fieldsV1", FieldsV1({{"status", object["status"]}})}});
  return object;
}

Json Secret(int i) {
  const std::string name = "api-keys-" + std::to_string(i);
  Json labels = Labels(i, "keys");
  Json data = {{"JWT_SECRET", Base64Like(88, i)},
               {"ANON_KEY", Base64Like(240, i + 1)},
               {"SERVICE_ROLE_KEY", Base64Like(248, i + 2)},
               {"SUPABASE_URL", Base64Like(64, i + 3)}};
  Json applied = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"type", "Opaque"}, {"data", data}};
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "Opaque"},
          {"metadata", Metadata(name, i, applied, labels)},
          {"data", data}};
}

Json ConfigMap(int i) {
  const std::string name = "db-bootstrap-" + std::to_string(i);
  Json labels = Labels(i, "db");
  std::string sql;
  for (int line = 0; line < 12; ++line) {
    sql += "grant usage on schema public to anon, authenticated, service_role; -- " +
           std::to_string(line) + "\n";
  }
  Json data = {{"bootstrap.sql", sql}, {"version", "3"}};
  Json applied = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"data", data}};
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", Metadata(name, i, applied, labels)},
          {"data", data}};
}

// Heap bytes per object of a Store holding `objects` after `transform`.
double StoreBytesPerObject(const std::vector<Json>& objects, Transform transform) {
  long long before = live_bytes.load();
  std::vector<Json> copies = objects;  // what a List response parses into
  auto store = std::make_unique<Store>(std::move(transform));
  (void)store->Replace(std::move(copies));  // moved in; what the transform drops is freed
  copies = std::vector<Json>();
  long long after = live_bytes.load();
  double per_object = static_cast<double>(after - before) / static_cast<double>(objects.size());
  store.reset();
  return per_object;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 1000;
  struct Kind {
    const char* name;
    Json (*make)(int);
    Transform extra;  // applied after DefaultTransform in the last column
    const char* extra_name;
  };
  const std::vector<Kind> kinds = {
      {"Deployment", &Deployment, nullptr, "-"},
      {"Secret", &Secret, kubabase::kube::KeepSecretValues({"JWT_SECRET"}),
       "KeepSecretValues({JWT_SECRET})"},
      {"ConfigMap", &ConfigMap, nullptr, "-"},
  };
  std::printf("cache_bench: %d objects per kind; heap bytes per cached object (Store total / n)\n\n",
              count);
  std::printf("| kind       | JSON on the wire | cached as served | DefaultTransform | + extra | extra transform |\n");
  std::printf("|------------|-----------------:|-----------------:|-----------------:|--------:|-----------------|\n");
  double total_raw = 0, total_default = 0, total_extra = 0;
  for (const Kind& kind : kinds) {
    std::vector<Json> objects;
    size_t wire = 0;
    for (int i = 0; i < count; ++i) {
      objects.push_back(kind.make(i));
      wire += objects.back().dump().size();
    }
    double raw = StoreBytesPerObject(objects, nullptr);
    double with_default = StoreBytesPerObject(objects, kubabase::kube::DefaultTransform());
    double with_extra =
        kind.extra ? StoreBytesPerObject(objects, kubabase::kube::ChainTransforms(
                                                      kubabase::kube::DefaultTransform(), kind.extra))
                   : with_default;
    total_raw += raw;
    total_default += with_default;
    total_extra += with_extra;
    std::printf("| %-10s | %16.0f | %16.0f | %16.0f | %7.0f | %s |\n", kind.name,
                static_cast<double>(wire) / count, raw, with_default, with_extra, kind.extra_name);
  }
  std::printf("\nall %d objects: %.1f MiB as served, %.1f MiB with DefaultTransform, %.1f MiB with "
              "the extra transforms (%.0f%% saved)\n",
              3 * count, total_raw * count / 1048576.0, total_default * count / 1048576.0,
              total_extra * count / 1048576.0, 100.0 * (1.0 - total_extra / total_raw));
  return 0;
}
