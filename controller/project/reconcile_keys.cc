// Steps: the key Secrets and the user Secrets the spec names, read with GET (never from the
// cache, which holds no Secret values: project_reconciler.h), then render.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/project/names.h"
#include "controller/project/project_reconciler.h"
#include "controller/project/reconcile_pass.h"

namespace kubabase::project {

using kube::Json;

namespace {

// A problem only a human can fix, rather than one to retry.
bool NeedsAHuman(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ||
         status.code() == StatusCode::kFailedPrecondition;
}

}  // namespace

Status ProjectReconciler::ReadKeys(Pass& pass) {
  for (std::string_view name : {names::kDbCredentialsSecret, names::kApiKeysSecret}) {
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret,
                              GetOptional(kube::Resource::Secrets(), pass.ns, std::string(name)));
    if (!secret) continue;
    StatusOr<std::map<std::string, std::string>> values = SecretValues(*secret);
    if (!values.ok()) {
      // Name the Secret: the message is what the user has to go and fix.
      if (!pass.problem) {
        pass.problem = Problem{
            "InvalidSecret", values.status().Annotate(pass.ns + "/" + std::string(name)).message()};
      }
      continue;
    }
    (name == names::kDbCredentialsSecret ? pass.existing.db_credentials
                                         : pass.existing.api_keys) = *values;
    pass.secrets[std::string(name)] = std::move(*secret);
  }
  return Status::Ok();
}

Status ProjectReconciler::ReadUserSecrets(Pass& pass) {
  if (pass.problem) return Status::Ok();
  for (const UserSecretNeed& need : UserSecretNeeds(pass.project.spec)) {
    KUBABASE_ASSIGN_OR_RETURN(
        std::optional<Json> secret,
        GetOptional(kube::Resource::Secrets(), need.source_namespace, need.source_name));
    std::map<std::string, std::string> values;
    if (secret) {
      StatusOr<std::map<std::string, std::string>> decoded = SecretValues(*secret);
      if (!decoded.ok()) {
        pass.problem = Problem{"InvalidSecret",
                               decoded.status()
                                   .Annotate(need.source_namespace + "/" + need.source_name +
                                             " named by " + need.field)
                                   .message()};
        return Status::Ok();
      }
      values = std::move(*decoded);
    }
    std::vector<std::string> missing;
    std::map<std::string, std::string>& copy = pass.user_secrets.copies[need.copy];
    for (const auto& [source_key, copy_key] : need.keys) {
      auto it = values.find(source_key);
      if (it == values.end() || it->second.empty()) {
        missing.push_back(source_key);
      } else {
        copy[copy_key] = it->second;
      }
    }
    if (!missing.empty()) {
      // The same message whether the Secret or a key is missing.
      pass.problem = Problem{
          "SecretNotFound",
          fmt::format("Secret {}/{} named by {} does not exist or lacks {}; create it with {}",
                      need.source_namespace, need.source_name, need.field,
                      fmt::join(missing, ", "), missing.size() == 1 ? "that key" : "those keys")};
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status ProjectReconciler::Render(Pass& pass) {
  if (pass.problem) return Status::Ok();
  StatusOr<Keys> keys =
      EnsureKeys(pass.existing, pass.project, options_.defaults, clock_.WallNow(), random_);
  if (!keys.ok()) {
    if (!NeedsAHuman(keys.status())) return keys.status();
    pass.problem = Problem{"InvalidKeys", keys.status().message()};
    return Status::Ok();
  }
  StatusOr<Rendered> rendered =
      DesiredState(pass.project, options_.defaults, *keys, pass.user_secrets);
  if (!rendered.ok()) {
    if (!NeedsAHuman(rendered.status())) return rendered.status();
    pass.problem = Problem{"InvalidSpec", rendered.status().message()};
    return Status::Ok();
  }
  pass.rendered = std::move(*rendered);
  return Status::Ok();
}

}  // namespace kubabase::project
