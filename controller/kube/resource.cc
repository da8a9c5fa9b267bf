#include "controller/kube/resource.h"

#include <fmt/format.h>

namespace kubabase::kube {

std::string Resource::ApiVersion() const {
  return group.empty() ? version : fmt::format("{}/{}", group, version);
}

std::string Resource::GroupResource() const {
  return group.empty() ? resource : fmt::format("{}.{}", resource, group);
}

std::string Resource::CollectionPath(std::string_view ns) const {
  std::string path = group.empty() ? fmt::format("/api/{}", version)
                                   : fmt::format("/apis/{}/{}", group, version);
  if (namespaced && !ns.empty()) path += fmt::format("/namespaces/{}", ns);
  path += "/";
  path += resource;
  return path;
}

std::string Resource::ObjectPath(std::string_view ns, std::string_view name,
                                 std::string_view subresource) const {
  std::string path = fmt::format("{}/{}", CollectionPath(ns), name);
  if (!subresource.empty()) path += fmt::format("/{}", subresource);
  return path;
}

#define KUBABASE_RESOURCE(fn, g, v, r, k, ns)              \
  const Resource& Resource::fn() {                         \
    static const Resource* const kResource = new Resource{g, v, r, k, ns}; \
    return *kResource;                                     \
  }

KUBABASE_RESOURCE(Namespaces, "", "v1", "namespaces", "Namespace", false)
KUBABASE_RESOURCE(Secrets, "", "v1", "secrets", "Secret", true)
KUBABASE_RESOURCE(ConfigMaps, "", "v1", "configmaps", "ConfigMap", true)
KUBABASE_RESOURCE(Services, "", "v1", "services", "Service", true)
KUBABASE_RESOURCE(ServiceAccounts, "", "v1", "serviceaccounts", "ServiceAccount", true)
KUBABASE_RESOURCE(Pods, "", "v1", "pods", "Pod", true)
KUBABASE_RESOURCE(PersistentVolumeClaims, "", "v1", "persistentvolumeclaims",
                  "PersistentVolumeClaim", true)
KUBABASE_RESOURCE(Events, "", "v1", "events", "Event", true)
KUBABASE_RESOURCE(Deployments, "apps", "v1", "deployments", "Deployment", true)
KUBABASE_RESOURCE(StatefulSets, "apps", "v1", "statefulsets", "StatefulSet", true)
KUBABASE_RESOURCE(Jobs, "batch", "v1", "jobs", "Job", true)
KUBABASE_RESOURCE(Ingresses, "networking.k8s.io", "v1", "ingresses", "Ingress", true)
KUBABASE_RESOURCE(NetworkPolicies, "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy",
                  true)
KUBABASE_RESOURCE(ResourceQuotas, "", "v1", "resourcequotas", "ResourceQuota", true)
KUBABASE_RESOURCE(LimitRanges, "", "v1", "limitranges", "LimitRange", true)
KUBABASE_RESOURCE(Leases, "coordination.k8s.io", "v1", "leases", "Lease", true)
KUBABASE_RESOURCE(CustomResourceDefinitions, "apiextensions.k8s.io", "v1",
                  "customresourcedefinitions", "CustomResourceDefinition", false)

#undef KUBABASE_RESOURCE

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

}  // namespace kubabase::kube
