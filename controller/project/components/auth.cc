// GoTrue (Supabase Auth): Deployment and Service "auth" (port 9999, health /health), routed at
// /auth/v1; with SMTP, the password Secret the spec names is copied in as smtp-credentials.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/project/components/components.h"
#include "controller/project/components/sql/auth.sql.h"
#include "controller/project/render/builders.h"

namespace kubabase::project {
namespace {

using namespace render_internal;  // NOLINT: a component file is a render builder

bool UsesSmtpPassword(const ProjectSpec& spec) {
  return spec.auth.smtp.configured() && !spec.auth.smtp.password_secret_ref.empty();
}

std::vector<UserSecretNeed> SecretsNeeded(const ProjectSpec& spec) {
  if (!UsesSmtpPassword(spec)) return {};
  const SecretKeyRef& ref = spec.auth.smtp.password_secret_ref;
  return {{.field = "spec.auth.smtp.passwordSecretRef",
           .source_namespace = ref.namespace_,
           .source_name = ref.name,
           .copy = std::string(names::kSmtpCredentialsSecret),
           .keys = {{ref.key, std::string(names::kSmtpPasswordKey)}}}};
}

// GoTrue's environment: its API, database, JWT, mailer and SMTP settings, then extraEnv.
Json AuthEnv(const Context& ctx) {
  const AuthSpec& auth = ctx.project.spec.auth;
  const std::string auth_url = ctx.url + "/auth/v1";
  const std::string allow_list = fmt::format("{}", fmt::join(auth.additional_redirect_urls, ","));
  const bool smtp = auth.smtp.configured();
  Json env = Json::array(
      {Env("GOTRUE_API_HOST", "0.0.0.0"),
       Env("GOTRUE_API_PORT", std::to_string(names::kAuthPort)),
       Env("API_EXTERNAL_URL", auth_url),
       Env("GOTRUE_DB_DRIVER", "postgres"),
       EnvFromSecret("DB_PASSWORD", names::kDbCredentialsSecret, names::kRoleAuthAdmin),
       Env("GOTRUE_DB_DATABASE_URL", DatabaseUri(names::kRoleAuthAdmin)),
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
    if (UsesSmtpPassword(ctx.project.spec)) {
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
  return env;
}

Status Render(const Context& ctx, const ComponentPlan& plan, std::vector<Json>& out) {
  KUBABASE_ASSIGN_OR_RETURN(std::string password, DbPassword(ctx, names::kRoleAuthAdmin));
  KUBABASE_ASSIGN_OR_RETURN(std::string jwt_secret, ApiKey(ctx, names::kJwtSecretKey));
  Json env = AuthEnv(ctx);
  std::vector<std::pair<std::string, std::string>> hashed = {{"supabase_auth_admin", password},
                                                             {"JWT_SECRET", jwt_secret}};
  // Only what the pod consumes: an unused value must not roll it.
  if (UsesSmtpPassword(ctx.project.spec)) {
    const auto& copy = UserSecretValues(ctx, names::kSmtpCredentialsSecret);
    auto it = copy.find(std::string(names::kSmtpPasswordKey));
    hashed.emplace_back("smtp_password", it == copy.end() ? "" : it->second);
  }

  Workload workload{
      .port = names::kAuthPort,
      .env = env,
      .probes = {{"readinessProbe", HttpProbe("/health", names::kAuthPort, 5, 3)},
                 {"livenessProbe", HttpProbe("/health", names::kAuthPort, 10, 6)}},
      .config_hash = HashOf(hashed),
  };
  AddServedWorkload(ctx, plan, std::move(workload), out);
  return Status();
}

}  // namespace

const ComponentDef& AuthComponent() {
  static const ComponentDef* const kDef = new ComponentDef{
      .key = "auth",
      .label = "auth",
      .condition = "AuthReady",
      .workload_resource = &kube::Resource::Deployments(),
      .workload = names::kAuth,
      .enabled = EnabledIn<&ProjectSpec::auth>,
      .replicas = ReplicasIn<&ProjectSpec::auth>,
      .image = ImageIn<&ProjectSpec::auth, &Images::gotrue>,
      .resources = {.requests = {{"cpu", "50m"}, {"memory", "64Mi"}},
                    .limits = {{"cpu", "500m"}, {"memory", "256Mi"}}},
      .spec_resources = ResourcesIn<&ProjectSpec::auth>,
      .login_roles = {names::kRoleAuthAdmin},
      .bootstrap_sql = embedded::auth_sql,
      .routes = {{.prefix = "/auth/v1", .service = names::kAuth, .port = names::kAuthPort}},
      .user_secrets = SecretsNeeded,
      .render = Render,
  };
  return *kDef;
}

}  // namespace kubabase::project
