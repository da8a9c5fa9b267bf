// The wire form of the ApiClient option structs: query strings and request bodies, built the way
// the apiserver expects them (client-go's names and spellings).
//
//   ListOptions page;
//   page.label_selector = "app=db";
//   page.limit = 2;
//   std::string path = Resource::ConfigMaps().CollectionPath("shop") + ListQuery(page);
//   // /api/v1/namespaces/shop/configmaps?labelSelector=app%3Ddb&limit=2
//   Json body = DeleteOptionsBody(options);  // {"kind":"DeleteOptions",...,"preconditions":{...}}
//
// Every query string is either empty or starts with '?'; values are percent-encoded; parameters
// keep a fixed order so requests are reproducible. Pure functions; thread-safe; never throw.
#pragma once

#include <string>

#include "controller/kube/api_client.h"
#include "controller/kube/resource.h"

namespace kubabase::kube {

// ?labelSelector=&fieldSelector=&limit=&continue=&resourceVersion=&resourceVersionMatch=
// (only the ones set).
std::string ListQuery(const ListOptions& options);

// ?watch=1&allowWatchBookmarks=true&labelSelector=&fieldSelector=&resourceVersion=&timeoutSeconds=
std::string WatchQuery(const WatchOptions& options);

// ?fieldManager=<manager>[&force=true]. The subresource belongs to the path, not the query.
std::string ApplyQuery(const ApplyOptions& options);

// A meta/v1 DeleteOptions object: propagationPolicy and preconditions {uid, resourceVersion},
// each only when set.
Json DeleteOptionsBody(const DeleteOptions& options);

// Content types of the three write encodings.
inline constexpr char kJsonContentType[] = "application/json";
inline constexpr char kMergePatchContentType[] = "application/merge-patch+json";
inline constexpr char kApplyPatchContentType[] = "application/apply-patch+yaml";

}  // namespace kubabase::kube
