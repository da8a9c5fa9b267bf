#include "controller/kube/request_options.h"

#include <fmt/format.h>

namespace kubabase::kube {
namespace {

// Appends "key=value" with '?' or '&' as needed; skips empty values.
void AddParam(std::string* query, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  query->push_back(query->empty() ? '?' : '&');
  query->append(key);
  query->push_back('=');
  query->append(UrlEncode(value));
}

}  // namespace

std::string ListQuery(const ListOptions& options) {
  std::string query;
  AddParam(&query, "labelSelector", options.label_selector);
  AddParam(&query, "fieldSelector", options.field_selector);
  if (options.limit > 0) AddParam(&query, "limit", std::to_string(options.limit));
  AddParam(&query, "continue", options.continue_token);
  AddParam(&query, "resourceVersion", options.resource_version);
  AddParam(&query, "resourceVersionMatch", options.resource_version_match);
  return query;
}

std::string WatchQuery(const WatchOptions& options) {
  std::string query = "?watch=1";
  if (options.allow_bookmarks) AddParam(&query, "allowWatchBookmarks", "true");
  AddParam(&query, "labelSelector", options.label_selector);
  AddParam(&query, "fieldSelector", options.field_selector);
  AddParam(&query, "resourceVersion", options.resource_version);
  if (options.timeout_seconds > 0) {
    AddParam(&query, "timeoutSeconds", std::to_string(options.timeout_seconds));
  }
  return query;
}

std::string ApplyQuery(const ApplyOptions& options) {
  std::string query;
  AddParam(&query, "fieldManager", options.field_manager);
  if (options.force) AddParam(&query, "force", "true");
  return query;
}

Json DeleteOptionsBody(const DeleteOptions& options) {
  Json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_uid.empty()) {
    body["preconditions"]["uid"] = options.precondition_uid;
  }
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  return body;
}

}  // namespace kubabase::kube
