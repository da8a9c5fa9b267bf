// Resource: names one kind of Kubernetes object by group/version/resource, and builds its paths.
//
//   const Resource& deployments = Resource::Deployments();
//   deployments.CollectionPath("shop");        // /apis/apps/v1/namespaces/shop/deployments
//   deployments.ObjectPath("shop", "rest");    // /apis/apps/v1/namespaces/shop/deployments/rest
//
// Plain value type; the well-known resources are process-wide constants.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kubabase::kube {

using Json = nlohmann::json;

struct Resource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural, lower case: "deployments"
  std::string kind;      // "Deployment"
  bool namespaced = true;

  // "apps/v1", or "v1" for the core group.
  std::string ApiVersion() const;
  // "deployments.apps", or "secrets" for the core group: how errors and metrics name it.
  std::string GroupResource() const;

  // The collection: all namespaces when `ns` is empty (or the resource is cluster-scoped).
  std::string CollectionPath(std::string_view ns) const;
  // One object; `subresource` ("status") is appended when not empty.
  std::string ObjectPath(std::string_view ns, std::string_view name,
                         std::string_view subresource = {}) const;

  // Well-known resources.
  static const Resource& Namespaces();
  static const Resource& Secrets();
  static const Resource& ConfigMaps();
  static const Resource& Services();
  static const Resource& ServiceAccounts();
  static const Resource& Pods();
  static const Resource& PersistentVolumeClaims();
  static const Resource& Events();
  static const Resource& Deployments();
  static const Resource& StatefulSets();
  static const Resource& Jobs();
  static const Resource& Ingresses();
  static const Resource& NetworkPolicies();
  static const Resource& ResourceQuotas();
  static const Resource& LimitRanges();
  static const Resource& Leases();
  static const Resource& CustomResourceDefinitions();
};

// Percent-encodes `value` for a URL query (RFC 3986 unreserved characters stay as they are).
std::string UrlEncode(std::string_view value);

}  // namespace kubabase::kube
