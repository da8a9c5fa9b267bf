// The small accessors of project.h: enum names and what a spec leaves to defaults (host, URL,
// bucket). Parsing is in project_parse.cc, the status JSON in project_status_json.cc.
#include "controller/project/project.h"

namespace kubabase::project {

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPending: return "Pending";
    case Phase::kProvisioning: return "Provisioning";
    case Phase::kReady: return "Ready";
    case Phase::kDegraded: return "Degraded";
    case Phase::kPaused: return "Paused";
    case Phase::kDeleting: return "Deleting";
    case Phase::kFailed: return "Failed";
  }
  return "Pending";
}

std::string_view DeletionPolicyName(DeletionPolicy policy) {
  return policy == DeletionPolicy::kDelete ? "Delete" : "Retain";
}

std::string_view StorageBackendName(StorageBackend backend) {
  return backend == StorageBackend::kS3 ? "s3" : "file";
}

std::string Host(const Project& project, const Defaults& defaults) {
  if (!project.spec.host.empty()) return project.spec.host;
  return project.name + "." + defaults.base_domain;
}

std::string ApiUrl(const Project& project, const Defaults& defaults) {
  std::string scheme = project.spec.ingress.tls_secret_name.empty() ? "http://" : "https://";
  return scheme + Host(project, defaults);
}

std::string S3Bucket(const Project& project) {
  return project.spec.storage.s3.bucket.empty() ? project.name : project.spec.storage.s3.bucket;
}

}  // namespace kubabase::project
