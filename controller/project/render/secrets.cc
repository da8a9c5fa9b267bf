// The Secrets: the two generated ones (db-credentials, api-keys) and the copies of user Secrets
// the spec names (S3 credentials, SMTP password).
#include "controller/project/keys.h"
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

// `data` (base64), not stringData: stringData is write-only, so an applied stringData could never
// be compared with what the apiserver returns, and every resync would look like drift.
Json SecretObject(const Context& ctx, std::string_view name, Component component, bool owned,
                  const std::map<std::string, std::string>& values) {
  Json object = Object(ctx, "v1", "Secret", name, component, owned);
  object["type"] = "Opaque";
  Json data = Json::object();
  for (const auto& [key, value] : values) data[key] = Base64Encode(value);
  object["data"] = data;
  return object;
}

}  // namespace

Status AppendSecrets(const Context& ctx, std::vector<Json>& out) {
  const ProjectSpec& spec = ctx.project.spec;
  // Keys are data: kept with the namespace under Retain, so a re-created Project adopts them.
  out.push_back(SecretObject(ctx, names::kDbCredentialsSecret, Component::kKeys, OwnsData(ctx),
                             ctx.keys.db_credentials));
  out.push_back(SecretObject(ctx, names::kApiKeysSecret, Component::kKeys, OwnsData(ctx),
                             ctx.keys.api_keys));
  if (spec.storage.enabled && spec.storage.backend == StorageBackend::kS3) {
    const SecretRef& ref = spec.storage.s3.credentials_secret_ref;
    std::map<std::string, std::string> values;
    for (std::string_view key : {names::kAwsAccessKeyIdKey, names::kAwsSecretAccessKeyKey}) {
      auto it = ctx.user_secrets.s3_credentials.find(std::string(key));
      if (it == ctx.user_secrets.s3_credentials.end() || it->second.empty()) {
        return FailedPreconditionError("spec.storage.s3.credentialsSecretRef: Secret " +
                                       ref.namespace_ + "/" + ref.name + " has no " +
                                       std::string(key));
      }
      values[std::string(key)] = it->second;
    }
    out.push_back(SecretObject(ctx, names::kS3CredentialsSecret, Component::kStorage, true, values));
  }
  const SmtpSpec& smtp = spec.auth.smtp;
  if (spec.auth.enabled && !smtp.password_secret_ref.empty()) {
    if (ctx.user_secrets.smtp_password.empty()) {
      return FailedPreconditionError("spec.auth.smtp.passwordSecretRef: Secret " +
                                     smtp.password_secret_ref.namespace_ + "/" +
                                     smtp.password_secret_ref.name + " has no " +
                                     smtp.password_secret_ref.key);
    }
    out.push_back(SecretObject(ctx, names::kSmtpCredentialsSecret, Component::kAuth, true,
                               {{std::string(names::kSmtpPasswordKey),
                                 ctx.user_secrets.smtp_password}}));
  }
  return Status();
}

}  // namespace kubabase::project::render_internal
