// GoTrue (Supabase Auth): Deployment and Service "auth" (port 9999, health /health).
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {

Status AppendAuth(const Context& ctx, std::vector<Json>& out) {
  const AuthSpec& auth = ctx.project.spec.auth;
  if (!auth.enabled) return Status();
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleAuthAdmin));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));
  const std::string auth_url = ctx.url + "/auth/v1";
  std::string allow_list;
  for (const std::string& url : auth.additional_redirect_urls) {
    if (!allow_list.empty()) allow_list += ",";
    allow_list += url;
  }
  const bool smtp = auth.smtp.configured();

  Json env = Json::array(
      {Env("GOTRUE_API_HOST", "0.0.0.0"),
       Env("GOTRUE_API_PORT", std::to_string(names::kAuthPort)),
       Env("API_EXTERNAL_URL", auth_url),
       Env("GOTRUE_DB_DRIVER", "postgres"),
       EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleAuthAdmin),
       Env("GOTRUE_DB_DATABASE_URL", "postgres://" + std::string(names::kRoleAuthAdmin) +
                                         ":$(DB_PASSWORD)@" + std::string(names::kDatabase) +
                                         ":" + std::to_string(names::kDatabasePort) + "/" +
                                         std::string(names::kDatabaseName)),
       Env("GOTRUE_SITE_URL", auth.site_url.empty() ? ctx.url : auth.site_url),
       Env("GOTRUE_DISABLE_SIGNUP", auth.disable_signup ? "true" : "false"),
       EnvFromSecret("GOTRUE_JWT_SECRET", names::kApiKeysSecret, names::kJwtSecretKey),
       Env("GOTRUE_JWT_EXP", std::to_string(auth.jwt_expiry_seconds)),
       Env("GOTRUE_JWT_AUD", "authenticated"),
       Env("GOTRUE_JWT_DEFAULT_GROUP_NAME", "authenticated"),
       Env("GOTRUE_JWT_ADMIN_ROLES", "service_role"),
       Env("GOTRUE_JWT_ISSUER", auth_url),
       Env("GOTRUE_EXTERNAL_EMAIL_ENABLED", "true"),
       Env("GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED", "false"),
       // Without SMTP nobody could ever confirm an address: confirm on sign-up instead.
       Env("GOTRUE_MAILER_AUTOCONFIRM", smtp ? "false" : "true"),
       Env("GOTRUE_EXTERNAL_PHONE_ENABLED", "false"),
       Env("GOTRUE_SMS_AUTOCONFIRM", "false"),
       // Links in mails must go through the Ingress prefix.
       Env("GOTRUE_MAILER_URLPATHS_INVITE", "/auth/v1/verify"),
       Env("GOTRUE_MAILER_URLPATHS_CONFIRMATION", "/auth/v1/verify"),
       Env("GOTRUE_MAILER_URLPATHS_RECOVERY", "/auth/v1/verify"),
       Env("GOTRUE_MAILER_URLPATHS_EMAIL_CHANGE", "/auth/v1/verify")});
  // The apiserver drops empty env values, so an empty one would read back as drift forever.
  if (!allow_list.empty()) env.push_back(Env("GOTRUE_URI_ALLOW_LIST", allow_list));
  if (smtp) {
    env.push_back(Env("GOTRUE_SMTP_HOST", auth.smtp.host));
    env.push_back(Env("GOTRUE_SMTP_PORT", std::to_string(auth.smtp.port)));
    if (!auth.smtp.user.empty()) env.push_back(Env("GOTRUE_SMTP_USER", auth.smtp.user));
    if (!auth.smtp.password_secret_ref.empty()) {
      env.push_back(EnvFromSecret("GOTRUE_SMTP_PASS", names::kSmtpCredentialsSecret,
                                  names::kSmtpPasswordKey));
    }
    if (!auth.smtp.admin_email.empty()) {
      env.push_back(Env("GOTRUE_SMTP_ADMIN_EMAIL", auth.smtp.admin_email));
    }
    if (!auth.smtp.sender_name.empty()) {
      env.push_back(Env("GOTRUE_SMTP_SENDER_NAME", auth.smtp.sender_name));
    }
  }
  AppendExtraEnv(env, auth.extra_env);
  std::vector<std::pair<std::string, std::string>> hashed = {{"supabase_auth_admin", password},
                                                             {"JWT_SECRET", jwt_secret}};
  // Only what the pod consumes: an unused value must not roll it.
  if (smtp && !auth.smtp.password_secret_ref.empty()) {
    hashed.emplace_back("smtp_password", ctx.user_secrets.smtp_password);
  }

  Workload workload{
      .component = Component::kAuth,
      .name = std::string(names::kAuth),
      .image = auth.image.empty() ? ctx.defaults.images.gotrue : auth.image,
      .port = names::kAuthPort,
      .env = env,
      .probes = {{"readinessProbe", HttpProbe("/health", names::kAuthPort, 5, 3)},
                 {"livenessProbe", HttpProbe("/health", names::kAuthPort, 10, 6)}},
      .resources = auth.resources,
      .config_hash = HashOf(hashed),
      .replicas = ctx.project.spec.paused ? 0 : auth.replicas,
  };
  out.push_back(ClusterIpService(ctx, Component::kAuth, names::kAuth, names::kAuthPort));
  out.push_back(Deployment(ctx, workload));
  return Status();
}

}  // namespace kubabase::project::render_internal
