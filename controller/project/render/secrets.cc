// The Secrets: the two generated ones (db-credentials, api-keys) and the copies of the user
// Secrets the enabled components need (UserSecretNeeds(): S3 credentials, SMTP password).
#include "controller/project/keys.h"
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {
namespace {

// `data` (base64), not stringData: stringData is write-only, so an applied stringData could never
// be compared with what the apiserver returns, and every resync would look like drift.
Json SecretObject(const Context& ctx, std::string_view name, std::string_view component,
                  bool owned, const std::map<std::string, std::string>& values) {
  Json object = Object(ctx, "v1", "Secret", name, component, owned);
  object["type"] = "Opaque";
  Json data = Json::object();
  for (const auto& [key, value] : values) data[key] = Base64Encode(value);
  object["data"] = data;
  return object;
}

}  // namespace

Status AppendSecrets(const Context& ctx, std::vector<Json>& out) {
  // Keys are data: kept with the namespace under Retain, so a re-created Project adopts them.
  out.push_back(SecretObject(ctx, names::kDbCredentialsSecret, names::kKeysComponent,
                             OwnsData(ctx), ctx.keys.db_credentials));
  out.push_back(SecretObject(ctx, names::kApiKeysSecret, names::kKeysComponent, OwnsData(ctx),
                             ctx.keys.api_keys));
  for (const ComponentPlan& plan : ctx.plans) {
    if (plan.def->user_secrets == nullptr) continue;
    for (const UserSecretNeed& need : plan.def->user_secrets(ctx.project.spec)) {
      const std::map<std::string, std::string>& values = UserSecretValues(ctx, need.copy);
      for (const auto& [source_key, copy_key] : need.keys) {
        auto it = values.find(copy_key);
        if (it == values.end() || it->second.empty()) {
          return FailedPreconditionError(need.field + ": Secret " + need.source_namespace + "/" +
                                         need.source_name + " has no " + source_key);
        }
      }
      // A copy is owned under either policy: the user's Secret is the original.
      out.push_back(SecretObject(ctx, need.copy, plan.def->label, true, values));
    }
  }
  return Status();
}

}  // namespace kubabase::project::render_internal
