// Project: the kubabase.io/v1alpha1 Project as C++ values, parsed from the apiserver's JSON with
// the same defaults as crds/project.yaml, and its status written back as JSON.
//
//   StatusOr<Project> project = ParseProject(object);      // InvalidArgument names the field
//   if (!project.ok()) return Stalled(project.status());
//   std::string host = Host(*project, defaults);            // spec.host or <name>.<base domain>
//   Json status = ToJson(project_status);                    // for the status subresource
//
// crds/project.yaml is the source of truth. The apiserver validates and defaults first;
// ParseProject repeats both (the defaults are the member initialisers below, the constraints the
// table in project_schema.h) so that objects from tests, fakes, older CRDs or caches without
// defaulting read the same, and adds the checks the schema cannot express. crd_defaults_test fails
// on any difference. Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/resource.h"
#include "controller/project/defaults.h"

namespace kubabase::project {

using Json = kube::Json;

enum class DeletionPolicy { kRetain, kDelete };
enum class StorageBackend { kFile, kS3 };

// A key of a Secret elsewhere in the cluster, copied into the project namespace.
struct SecretKeyRef {
  std::string namespace_;
  std::string name;
  std::string key;
  bool empty() const { return name.empty(); }
  friend bool operator==(const SecretKeyRef&, const SecretKeyRef&) = default;
};

// A whole Secret elsewhere in the cluster.
struct SecretRef {
  std::string namespace_;
  std::string name;
  bool empty() const { return name.empty(); }
  friend bool operator==(const SecretRef&, const SecretRef&) = default;
};

struct VolumeSpec {
  std::string size = "10Gi";      // a Kubernetes quantity
  std::string storage_class_name;  // "" = the cluster's default StorageClass
  friend bool operator==(const VolumeSpec&, const VolumeSpec&) = default;
};

struct IngressSpec {
  std::string class_name;  // "" = Defaults::ingress_class
  std::map<std::string, std::string> annotations;
  std::string tls_secret_name;  // "" = plain HTTP
  friend bool operator==(const IngressSpec&, const IngressSpec&) = default;
};

struct DatabaseSpec {
  std::string image;  // "" = Defaults::images.postgres
  VolumeSpec storage;
  Json resources = Json::object();  // core/v1 ResourceRequirements, as given
  friend bool operator==(const DatabaseSpec&, const DatabaseSpec&) = default;
};

// What every stateless component has.
struct ComponentSpec {
  bool enabled = true;  // false: the component's objects are not rendered (and get deleted)
  int32_t replicas = 1;
  std::string image;  // "" = the Defaults image
  Json resources = Json::object();  // core/v1 ResourceRequirements, as given
  Json extra_env = Json::array();   // core/v1 EnvVar list, appended last
  friend bool operator==(const ComponentSpec&, const ComponentSpec&) = default;
};

struct RestSpec : ComponentSpec {
  std::vector<std::string> schemas = {"public", "storage", "graphql_public"};
  int64_t max_rows = 1000;
  friend bool operator==(const RestSpec&, const RestSpec&) = default;
};

struct SmtpSpec {
  std::string host;  // "" = no SMTP: sign-ups are auto-confirmed
  int32_t port = 587;
  std::string user;
  SecretKeyRef password_secret_ref;
  std::string admin_email;
  std::string sender_name;
  bool configured() const { return !host.empty(); }
  friend bool operator==(const SmtpSpec&, const SmtpSpec&) = default;
};

struct AuthSpec : ComponentSpec {
  std::string site_url;  // "" = the project's API URL
  std::vector<std::string> additional_redirect_urls;
  bool disable_signup = false;
  int64_t jwt_expiry_seconds = 3600;
  SmtpSpec smtp;
  friend bool operator==(const AuthSpec&, const AuthSpec&) = default;
};

struct S3Spec {
  std::string endpoint;
  std::string bucket;  // "" = the project name
  std::string region = "us-east-1";
  bool force_path_style = true;
  SecretRef credentials_secret_ref;
  friend bool operator==(const S3Spec&, const S3Spec&) = default;
};

struct StorageSpec : ComponentSpec {
  std::string file_size_limit = "50Mi";  // a Kubernetes quantity
  StorageBackend backend = StorageBackend::kFile;
  VolumeSpec volume;  // backend file
  S3Spec s3;          // backend s3
  friend bool operator==(const StorageSpec&, const StorageSpec&) = default;
};

struct ProjectSpec {
  std::string display_name;
  std::string organization;
  bool paused = false;
  DeletionPolicy deletion_policy = DeletionPolicy::kRetain;
  std::string host;  // "" = <name>.<Defaults::base_domain>
  std::string plan;  // "" = Defaults::default_plan (plans.h)
  IngressSpec ingress;
  DatabaseSpec database;
  RestSpec rest;
  AuthSpec auth;
  StorageSpec storage;
  // Components whose spec is ComponentSpec alone (components/component.h `basic_spec`), by spec
  // key; filled for every such component the registry declares, with its default `enabled`.
  std::map<std::string, ComponentSpec> basic;
  friend bool operator==(const ProjectSpec&, const ProjectSpec&) = default;
};

enum class Phase { kPending, kProvisioning, kReady, kDegraded, kPaused, kDeleting, kFailed };

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status = "Unknown";  // "True" | "False" | "Unknown"
  std::string reason;               // CamelCase, never empty when written
  std::string message;
  int64_t observed_generation = 0;
  std::string last_transition_time;  // RFC 3339, e.g. "2026-11-28T09:00:00Z"
  friend bool operator==(const Condition&, const Condition&) = default;
};

struct ComponentStatus {
  int32_t desired = 0;
  int32_t ready = 0;
  std::string image;
  friend bool operator==(const ComponentStatus&, const ComponentStatus&) = default;
};


struct ProjectStatus {
  int64_t observed_generation = 0;
  Phase phase = Phase::kPending;
  std::string namespace_;
  // "api" (the project URL) and one per enabled component with a public route, by its key.
  std::map<std::string, std::string> endpoints;
  SecretRef keys_secret;
  // Keyed by component (components/component.h ComponentDef::key).
  std::map<std::string, ComponentStatus> components;
  std::vector<Condition> conditions;
  friend bool operator==(const ProjectStatus&, const ProjectStatus&) = default;
};

struct Project {
  std::string name;  // the project's id ("ref")
  std::string uid;
  int64_t generation = 0;
  std::string resource_version;
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::vector<std::string> finalizers;
  ProjectSpec spec;
  ProjectStatus status;  // as last written (empty for a new Project)
};

// "Ready", "Provisioning", ...
std::string_view PhaseName(Phase phase);
std::string_view DeletionPolicyName(DeletionPolicy policy);
std::string_view StorageBackendName(StorageBackend backend);

// Parses a Project object (as the apiserver returns it), applying the CRD's defaults. A spec that
// parses renders (DesiredState fails only on missing keys or user Secrets, never on the spec).
// Returns InvalidArgument whose message begins with the field's path when:
//   - the object is not a Project or a field has the wrong type
//     ("spec.paused: must be true or false");
//   - a value breaks its CRD constraint ("spec.rest.replicas: must be between 0 and 100, got 101",
//     "spec.host: must be a lower-case DNS name such as api.example.com, got \"A\"");
//   - a CRD CEL rule fails: the message is the CRD's ("metadata.name must be a DNS-1123 label
//     ...", "spec.storage.s3.endpoint is required when spec.storage.backend is s3");
//   - beyond the schema: spec.storage.fileSizeLimit is not a whole byte quantity (no "100m", sign
//     or exponent); with backend s3, spec.storage.s3.region is "" or spec.storage.s3.bucket is
//     empty while the project name (its default) is no bucket name (under 3 characters).
// Never throws.
StatusOr<Project> ParseProject(const Json& object);

// Parses a status object; unknown fields are ignored, malformed ones are InvalidArgument.
StatusOr<ProjectStatus> ParseProjectStatus(const Json& status);

// The status as the status subresource wants it (empty strings and lists are left out).
Json ToJson(const ProjectStatus& status);

// The project's host: spec.host, else <name>.<defaults.base_domain>.
std::string Host(const Project& project, const Defaults& defaults);

// "https://<host>" when spec.ingress.tlsSecretName is set, else "http://<host>". This is
// SUPABASE_URL and the base of every endpoint.
std::string ApiUrl(const Project& project, const Defaults& defaults);

// The S3 bucket: spec.storage.s3.bucket, else the project name.
std::string S3Bucket(const Project& project);

}  // namespace kubabase::project
