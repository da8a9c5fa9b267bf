// ParseProject: the Project JSON into a Project. Each field's constraints come from its rule in
// project_schema.h (read by Fields), so this file states only the shape of the spec, the CRD's CEL
// rules (by hand) and what the schema cannot express (project.h lists those).
#include <regex>
#include <utility>

#include "controller/base/quantity.h"
#include "controller/project/components/component.h"
#include "controller/project/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project.h"
#include "controller/project/project_schema.h"

namespace kubabase::project {
namespace {

Status ParseVolume(const Fields& parent, std::string_view key, VolumeSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, parent.Object(key));
  KUBABASE_RETURN_IF_ERROR(f.Quantity("size", &out->size));
  return f.String("storageClassName", &out->storage_class_name);
}

// A map of quantities (resources.limits, resources.requests): each an integer or a quantity string.
Status CheckQuantityMap(const Fields& f, std::string_view key) {
  const Json* map = f.Find(key);
  if (map == nullptr) return Status();
  if (!map->is_object()) return Invalid(f.Path(key), "must be a map of quantities");
  const FieldRule* rule = FindFieldRule(f.SchemaPath(key) + "{}");
  for (const auto& [name, quantity] : map->items()) {
    std::string path = f.Path(key) + "." + name;
    if (quantity.is_number_integer()) continue;
    if (!quantity.is_string()) return Invalid(path, "must be a quantity such as \"500m\"");
    if (rule != nullptr) KUBABASE_RETURN_IF_ERROR(CheckField(*rule, path, quantity));
  }
  return Status();
}

// core/v1 ResourceRequirements, checked as the CRD checks it and kept as given.
Status ParseResources(const Fields& parent, Json* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, parent.Object("resources"));
  const Json* value = parent.Find("resources");
  if (value == nullptr) return Status();
  KUBABASE_RETURN_IF_ERROR(CheckQuantityMap(f, "limits"));
  KUBABASE_RETURN_IF_ERROR(CheckQuantityMap(f, "requests"));
  KUBABASE_ASSIGN_OR_RETURN(std::vector<Fields> claims, f.ObjectList("claims"));
  for (const Fields& claim : claims) {
    std::string text;
    KUBABASE_RETURN_IF_ERROR(claim.String("name", &text));
    KUBABASE_RETURN_IF_ERROR(claim.String("request", &text));
  }
  *out = *value;
  return Status();
}

// core/v1 EnvVar list, checked as the CRD checks it and kept as given.
Status ParseExtraEnv(const Fields& parent, Json* out) {
  KUBABASE_ASSIGN_OR_RETURN(std::vector<Fields> items, parent.ObjectList("extraEnv"));
  for (const Fields& env : items) {
    std::string text;
    KUBABASE_RETURN_IF_ERROR(env.String("name", &text));
    KUBABASE_RETURN_IF_ERROR(env.String("value", &text));
    KUBABASE_RETURN_IF_ERROR(env.Object("valueFrom").status());
  }
  if (const Json* value = parent.Find("extraEnv")) *out = *value;
  return Status();
}

Status ParseComponent(const Fields& f, ComponentSpec* out) {
  KUBABASE_RETURN_IF_ERROR(f.Bool("enabled", &out->enabled));
  KUBABASE_RETURN_IF_ERROR(f.Integer("replicas", &out->replicas));
  KUBABASE_RETURN_IF_ERROR(f.String("image", &out->image));
  KUBABASE_RETURN_IF_ERROR(ParseResources(f, &out->resources));
  return ParseExtraEnv(f, &out->extra_env);
}

Status ParseRest(const Fields& spec, RestSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("rest"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.StringList("schemas", &out->schemas));
  return f.Integer("maxRows", &out->max_rows);
}

Status ParseSmtp(const Fields& auth, SmtpSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, auth.Object("smtp"));
  KUBABASE_RETURN_IF_ERROR(f.String("host", &out->host));
  KUBABASE_RETURN_IF_ERROR(f.Integer("port", &out->port));
  KUBABASE_RETURN_IF_ERROR(f.String("user", &out->user));
  KUBABASE_RETURN_IF_ERROR(f.String("adminEmail", &out->admin_email));
  KUBABASE_RETURN_IF_ERROR(f.String("senderName", &out->sender_name));
  KUBABASE_ASSIGN_OR_RETURN(Fields ref, f.Object("passwordSecretRef"));
  SecretKeyRef& r = out->password_secret_ref;
  KUBABASE_RETURN_IF_ERROR(ref.String("namespace", &r.namespace_));
  KUBABASE_RETURN_IF_ERROR(ref.String("name", &r.name));
  KUBABASE_RETURN_IF_ERROR(ref.String("key", &r.key));
  if (r.name.empty() != r.namespace_.empty() || r.name.empty() != r.key.empty()) {
    return InvalidArgumentError(std::string(kSmtpPasswordRefComplete.message));
  }
  if (!r.name.empty() && out->host.empty()) {
    return InvalidArgumentError(std::string(kSmtpHostWithPassword.message));
  }
  return Status();
}

Status ParseAuth(const Fields& spec, AuthSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("auth"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.String("siteURL", &out->site_url));
  KUBABASE_RETURN_IF_ERROR(f.StringList("additionalRedirectURLs", &out->additional_redirect_urls));
  KUBABASE_RETURN_IF_ERROR(f.Bool("disableSignup", &out->disable_signup));
  KUBABASE_RETURN_IF_ERROR(f.Integer("jwtExpirySeconds", &out->jwt_expiry_seconds));
  return ParseSmtp(f, &out->smtp);
}

// The S3 block, and with backend s3 what it then needs.
Status ParseS3(const Fields& storage, StorageBackend backend, std::string_view project_name,
               S3Spec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, storage.Object("s3"));
  KUBABASE_RETURN_IF_ERROR(f.String("endpoint", &out->endpoint));
  KUBABASE_RETURN_IF_ERROR(f.String("bucket", &out->bucket));
  KUBABASE_RETURN_IF_ERROR(f.String("region", &out->region));
  KUBABASE_RETURN_IF_ERROR(f.Bool("forcePathStyle", &out->force_path_style));
  KUBABASE_ASSIGN_OR_RETURN(Fields ref, f.Object("credentialsSecretRef"));
  KUBABASE_RETURN_IF_ERROR(ref.String("namespace", &out->credentials_secret_ref.namespace_));
  KUBABASE_RETURN_IF_ERROR(ref.String("name", &out->credentials_secret_ref.name));
  if (backend != StorageBackend::kS3) return Status();
  if (out->endpoint.empty()) return InvalidArgumentError(std::string(kS3EndpointWithS3.message));
  if (out->credentials_secret_ref.empty() || out->credentials_secret_ref.namespace_.empty()) {
    return InvalidArgumentError(std::string(kS3CredentialsWithS3.message));
  }
  // Beyond the schema: the region is sent as is (an explicit "" would be), and an empty bucket
  // means the project name, which is a bucket name only from 3 characters on.
  if (out->region.empty()) return Invalid(f.Path("region"), "must not be empty when backend is s3");
  if (out->bucket.empty() &&
      !CheckField(*FindFieldRule(f.SchemaPath("bucket")), f.Path("bucket"), Json(project_name))
           .ok()) {
    return Invalid(f.Path("bucket"), "is required when the project name, its default, is not a "
                                     "bucket name (3 to 63 of [a-z0-9.-])");
  }
  return Status();
}

Status ParseStorage(const Fields& spec, StorageSpec* out, std::string_view project_name) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("storage"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.Quantity("fileSizeLimit", &out->file_size_limit));
  // Beyond the schema: FILE_SIZE_LIMIT is a number of bytes, so no sign and at most int64
  // (fractions round up, as Kubernetes rounds a quantity's value). The same QuantityBytes as
  // storage's render: what parses here renders there.
  if (!QuantityBytes(out->file_size_limit)) {
    return Invalid(f.Path("fileSizeLimit"),
                   "\"" + out->file_size_limit + "\" is not a byte quantity such as 50Mi");
  }
  std::string backend = std::string(StorageBackendName(out->backend));
  KUBABASE_RETURN_IF_ERROR(f.String("backend", &backend));
  out->backend = backend == StorageBackendName(StorageBackend::kS3) ? StorageBackend::kS3
                                                                     : StorageBackend::kFile;
  KUBABASE_RETURN_IF_ERROR(ParseVolume(f, "volume", &out->volume));
  return ParseS3(f, out->backend, project_name, &out->s3);
}

Status ParseIngressAndDatabase(const Fields& spec, ProjectSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields ingress, spec.Object("ingress"));
  KUBABASE_RETURN_IF_ERROR(ingress.String("className", &out->ingress.class_name));
  KUBABASE_RETURN_IF_ERROR(ingress.StringMap("annotations", &out->ingress.annotations));
  for (const auto& [key, value] : out->ingress.annotations) {
    if (DangerousIngressAnnotation(key)) {
      return InvalidArgumentError(std::string(kNoDangerousIngressAnnotations.message));
    }
  }
  KUBABASE_RETURN_IF_ERROR(ingress.String("tlsSecretName", &out->ingress.tls_secret_name));
  KUBABASE_ASSIGN_OR_RETURN(Fields database, spec.Object("database"));
  KUBABASE_RETURN_IF_ERROR(database.String("image", &out->database.image));
  KUBABASE_RETURN_IF_ERROR(ParseVolume(database, "storage", &out->database.storage));
  return ParseResources(database, &out->database.resources);
}

Status ParseSpec(const Fields& spec, const std::string& name, ProjectSpec* out) {
  KUBABASE_RETURN_IF_ERROR(spec.String("displayName", &out->display_name));
  KUBABASE_RETURN_IF_ERROR(spec.String("organization", &out->organization));
  KUBABASE_RETURN_IF_ERROR(spec.Bool("paused", &out->paused));
  std::string policy = std::string(DeletionPolicyName(out->deletion_policy));
  KUBABASE_RETURN_IF_ERROR(spec.String("deletionPolicy", &policy));  // the enum's rule checks it
  out->deletion_policy = policy == DeletionPolicyName(DeletionPolicy::kDelete)
                             ? DeletionPolicy::kDelete
                             : DeletionPolicy::kRetain;
  KUBABASE_RETURN_IF_ERROR(spec.String("host", &out->host));
  KUBABASE_RETURN_IF_ERROR(spec.String("plan", &out->plan));
  KUBABASE_RETURN_IF_ERROR(ParseIngressAndDatabase(spec, out));
  KUBABASE_RETURN_IF_ERROR(ParseRest(spec, &out->rest));
  KUBABASE_RETURN_IF_ERROR(ParseAuth(spec, &out->auth));
  KUBABASE_RETURN_IF_ERROR(ParseStorage(spec, &out->storage, name));
  for (const ComponentDef* def : Components()) {
    if (!def->basic_spec) continue;
    ComponentSpec component;
    component.enabled = def->basic_enabled_by_default;
    KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object(def->key));
    KUBABASE_RETURN_IF_ERROR(ParseComponent(f, &component));
    out->basic[std::string(def->key)] = std::move(component);
  }
  return Status();
}

Status ParseMetadata(const Fields& top, Project* project) {
  KUBABASE_ASSIGN_OR_RETURN(Fields metadata, top.Object("metadata"));
  KUBABASE_RETURN_IF_ERROR(metadata.String("name", &project->name));
  static const std::regex dns_label{std::string(kDnsLabelPattern)};
  if (project->name.size() > kMaxProjectNameLength || !std::regex_match(project->name, dns_label)) {
    return InvalidArgumentError(std::string(kNameIsShortDnsLabel.message));
  }
  KUBABASE_RETURN_IF_ERROR(metadata.String("uid", &project->uid));
  KUBABASE_RETURN_IF_ERROR(metadata.Integer("generation", 0, INT64_MAX, &project->generation));
  KUBABASE_RETURN_IF_ERROR(metadata.String("resourceVersion", &project->resource_version));
  project->deleting = metadata.Find("deletionTimestamp") != nullptr;
  return metadata.StringList("finalizers", &project->finalizers);
}

StatusOr<Project> ParseProjectUnsafe(const Json& object) {
  if (!object.is_object()) return InvalidArgumentError("a Project must be a JSON object");
  Fields top(&object, "");
  std::string kind;
  KUBABASE_RETURN_IF_ERROR(top.String("kind", &kind));
  if (!kind.empty() && kind != names::kKind) {
    return Invalid("kind", "must be Project, got \"" + kind + "\"");
  }
  Project project;
  KUBABASE_RETURN_IF_ERROR(ParseMetadata(top, &project));
  KUBABASE_ASSIGN_OR_RETURN(Fields spec, top.Object("spec"));
  KUBABASE_RETURN_IF_ERROR(ParseSpec(spec, project.name, &project.spec));
  if (const Json* status = top.Find("status")) {
    KUBABASE_ASSIGN_OR_RETURN(project.status, ParseProjectStatus(*status));
  }
  return project;
}

}  // namespace

StatusOr<Project> ParseProject(const Json& object) {
  try {
    return ParseProjectUnsafe(object);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("malformed Project: ") + e.what());
  }
}

}  // namespace kubabase::project
