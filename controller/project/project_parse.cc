// ParseProject: the Project JSON into a Project, with the CRD's defaults and checks (project.h).
#include <regex>
#include <utility>

#include "controller/project/components/component.h"
#include "controller/project/json_fields.h"
#include "controller/project/names.h"
#include "controller/project/project.h"

namespace kubabase::project {
namespace {

// The patterns crds/project.yaml uses, so both reject the same values.
const std::regex& Dns1123Label() {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
  return re;
}
const std::regex& Dns1123Subdomain() {
  static const std::regex re("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
  return re;
}
const std::regex& LabelValue() {
  static const std::regex re("^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$");
  return re;
}
const std::regex& SqlIdentifier() {
  static const std::regex re("^[A-Za-z_][A-Za-z0-9_]*$");
  return re;
}

Status ParseVolume(const Fields& parent, std::string_view key, VolumeSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, parent.Object(key));
  KUBABASE_RETURN_IF_ERROR(f.QuantityField("size", &out->size));
  return f.String("storageClassName", &out->storage_class_name);
}

Status ParseExtraEnv(const Fields& f, Json* out) {
  const Json* value = f.Find("extraEnv");
  if (value == nullptr) return Status();
  std::string path = f.Path("extraEnv");
  if (!value->is_array()) return Invalid(path, "must be a list of core/v1 EnvVar");
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& env = (*value)[i];
    std::string item = path + "[" + std::to_string(i) + "]";
    if (!env.is_object()) return Invalid(item, "must be an EnvVar object");
    auto name = env.find("name");
    if (name == env.end() || !name->is_string() || name->get<std::string>().empty()) {
      return Invalid(item + ".name", "must be a non-empty string");
    }
  }
  *out = *value;
  return Status();
}

Status ParseComponent(const Fields& f, ComponentSpec* out) {
  KUBABASE_RETURN_IF_ERROR(f.Bool("enabled", &out->enabled));
  KUBABASE_RETURN_IF_ERROR(f.Integer("replicas", 0, 100, &out->replicas));
  KUBABASE_RETURN_IF_ERROR(f.String("image", &out->image));
  KUBABASE_RETURN_IF_ERROR(f.RawObject("resources", &out->resources));
  return ParseExtraEnv(f, &out->extra_env);
}

Status ParseRest(const Fields& spec, RestSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("rest"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.StringList("schemas", &out->schemas));
  if (out->schemas.empty()) return Invalid(f.Path("schemas"), "must list at least one schema");
  for (const std::string& schema : out->schemas) {
    if (schema.size() > 63 || !std::regex_match(schema, SqlIdentifier())) {
      return Invalid(f.Path("schemas"), "\"" + schema + "\" is not a plain SQL identifier");
    }
  }
  return f.Integer("maxRows", 1, 1000000000, &out->max_rows);
}

Status ParseAuth(const Fields& spec, AuthSpec* out) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("auth"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.String("siteURL", &out->site_url));
  KUBABASE_RETURN_IF_ERROR(f.StringList("additionalRedirectURLs", &out->additional_redirect_urls));
  KUBABASE_RETURN_IF_ERROR(f.Bool("disableSignup", &out->disable_signup));
  KUBABASE_RETURN_IF_ERROR(f.Integer("jwtExpirySeconds", 30, 604800, &out->jwt_expiry_seconds));
  KUBABASE_ASSIGN_OR_RETURN(Fields smtp, f.Object("smtp"));
  SmtpSpec& s = out->smtp;
  KUBABASE_RETURN_IF_ERROR(smtp.String("host", &s.host));
  KUBABASE_RETURN_IF_ERROR(smtp.Integer("port", 1, 65535, &s.port));
  KUBABASE_RETURN_IF_ERROR(smtp.String("user", &s.user));
  KUBABASE_RETURN_IF_ERROR(smtp.String("adminEmail", &s.admin_email));
  KUBABASE_RETURN_IF_ERROR(smtp.String("senderName", &s.sender_name));
  KUBABASE_ASSIGN_OR_RETURN(Fields ref, smtp.Object("passwordSecretRef"));
  KUBABASE_RETURN_IF_ERROR(ref.String("namespace", &s.password_secret_ref.namespace_));
  KUBABASE_RETURN_IF_ERROR(ref.String("name", &s.password_secret_ref.name));
  KUBABASE_RETURN_IF_ERROR(ref.String("key", &s.password_secret_ref.key));
  const SecretKeyRef& r = s.password_secret_ref;
  if (!r.name.empty() || !r.namespace_.empty() || !r.key.empty()) {
    if (r.name.empty() || r.namespace_.empty() || r.key.empty()) {
      return Invalid(smtp.Path("passwordSecretRef"), "namespace, name and key are required together");
    }
    if (s.host.empty()) return Invalid(smtp.Path("host"), "is required when a password is given");
  }
  return Status();
}

Status ParseStorage(const Fields& spec, StorageSpec* out, std::string_view project_name) {
  KUBABASE_ASSIGN_OR_RETURN(Fields f, spec.Object("storage"));
  KUBABASE_RETURN_IF_ERROR(ParseComponent(f, out));
  KUBABASE_RETURN_IF_ERROR(f.QuantityField("fileSizeLimit", &out->file_size_limit));
  std::string backend = "file";
  KUBABASE_RETURN_IF_ERROR(f.String("backend", &backend));
  if (backend == "file") {
    out->backend = StorageBackend::kFile;
  } else if (backend == "s3") {
    out->backend = StorageBackend::kS3;
  } else {
    return Invalid(f.Path("backend"), "must be \"file\" or \"s3\", got \"" + backend + "\"");
  }
  KUBABASE_RETURN_IF_ERROR(ParseVolume(f, "volume", &out->volume));
  KUBABASE_ASSIGN_OR_RETURN(Fields s3, f.Object("s3"));
  S3Spec& s = out->s3;
  KUBABASE_RETURN_IF_ERROR(s3.String("endpoint", &s.endpoint));
  KUBABASE_RETURN_IF_ERROR(s3.String("bucket", &s.bucket));
  KUBABASE_RETURN_IF_ERROR(s3.String("region", &s.region));
  KUBABASE_RETURN_IF_ERROR(s3.Bool("forcePathStyle", &s.force_path_style));
  KUBABASE_ASSIGN_OR_RETURN(Fields ref, s3.Object("credentialsSecretRef"));
  KUBABASE_RETURN_IF_ERROR(ref.String("namespace", &s.credentials_secret_ref.namespace_));
  KUBABASE_RETURN_IF_ERROR(ref.String("name", &s.credentials_secret_ref.name));
  if (out->backend == StorageBackend::kS3) {
    if (s.endpoint.empty()) return Invalid(s3.Path("endpoint"), "is required when backend is s3");
    if (s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0) {
      return Invalid(s3.Path("endpoint"), "must start with http:// or https://");
    }
    if (s.credentials_secret_ref.name.empty() || s.credentials_secret_ref.namespace_.empty()) {
      return Invalid(ref.Path("name"),
                     "credentialsSecretRef namespace and name are required when backend is s3");
    }
    if (s.region.empty()) return Invalid(s3.Path("region"), "must not be empty");
  }
  std::string bucket = s.bucket.empty() ? std::string(project_name) : s.bucket;
  if (bucket.size() < 3 || bucket.size() > 63 || !std::regex_match(bucket, Dns1123Subdomain())) {
    return Invalid(s3.Path("bucket"), "must be a valid bucket name (3-63 of [a-z0-9.-])");
  }
  return Status();
}

Status ParseSpec(const Fields& spec, const std::string& name, ProjectSpec* out) {
  KUBABASE_RETURN_IF_ERROR(spec.String("displayName", &out->display_name));
  KUBABASE_RETURN_IF_ERROR(spec.String("organization", &out->organization));
  if (out->organization.size() > 63 || !std::regex_match(out->organization, LabelValue())) {
    return Invalid(spec.Path("organization"), "must be a valid label value (<= 63 characters)");
  }
  KUBABASE_RETURN_IF_ERROR(spec.Bool("paused", &out->paused));
  std::string policy = "Retain";
  KUBABASE_RETURN_IF_ERROR(spec.String("deletionPolicy", &policy));
  if (policy == "Retain") {
    out->deletion_policy = DeletionPolicy::kRetain;
  } else if (policy == "Delete") {
    out->deletion_policy = DeletionPolicy::kDelete;
  } else {
    return Invalid(spec.Path("deletionPolicy"), "must be Retain or Delete, got \"" + policy + "\"");
  }
  KUBABASE_RETURN_IF_ERROR(spec.String("host", &out->host));
  if (!out->host.empty() &&
      (out->host.size() > 253 || !std::regex_match(out->host, Dns1123Subdomain()))) {
    return Invalid(spec.Path("host"), "must be a lower-case DNS name such as api.example.com");
  }
  KUBABASE_ASSIGN_OR_RETURN(Fields ingress, spec.Object("ingress"));
  KUBABASE_RETURN_IF_ERROR(ingress.String("className", &out->ingress.class_name));
  KUBABASE_RETURN_IF_ERROR(ingress.StringMap("annotations", &out->ingress.annotations));
  KUBABASE_RETURN_IF_ERROR(ingress.String("tlsSecretName", &out->ingress.tls_secret_name));
  if (!out->ingress.tls_secret_name.empty() &&
      !std::regex_match(out->ingress.tls_secret_name, Dns1123Subdomain())) {
    return Invalid(ingress.Path("tlsSecretName"), "must be a Secret name");
  }
  KUBABASE_ASSIGN_OR_RETURN(Fields database, spec.Object("database"));
  KUBABASE_RETURN_IF_ERROR(database.String("image", &out->database.image));
  KUBABASE_RETURN_IF_ERROR(ParseVolume(database, "storage", &out->database.storage));
  KUBABASE_RETURN_IF_ERROR(database.RawObject("resources", &out->database.resources));
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

StatusOr<Project> ParseProjectUnsafe(const Json& object) {
  if (!object.is_object()) return InvalidArgumentError("a Project must be a JSON object");
  Fields top(&object, "");
  std::string kind;
  KUBABASE_RETURN_IF_ERROR(top.String("kind", &kind));
  if (!kind.empty() && kind != names::kKind) {
    return Invalid("kind", "must be Project, got \"" + kind + "\"");
  }
  Project project;
  KUBABASE_ASSIGN_OR_RETURN(Fields metadata, top.Object("metadata"));
  KUBABASE_RETURN_IF_ERROR(metadata.String("name", &project.name));
  if (project.name.empty() || project.name.size() > 40 ||
      !std::regex_match(project.name, Dns1123Label())) {
    return Invalid("metadata.name", "must be a DNS-1123 label of at most 40 characters");
  }
  KUBABASE_RETURN_IF_ERROR(metadata.String("uid", &project.uid));
  KUBABASE_RETURN_IF_ERROR(
      metadata.Integer("generation", 0, INT64_MAX, &project.generation));
  KUBABASE_RETURN_IF_ERROR(metadata.String("resourceVersion", &project.resource_version));
  project.deleting = metadata.Find("deletionTimestamp") != nullptr;
  KUBABASE_RETURN_IF_ERROR(metadata.StringList("finalizers", &project.finalizers));
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
