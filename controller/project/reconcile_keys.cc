// Steps: the key Secrets and the user Secrets the spec names, read with GET (never from the
// cache, which holds no Secret values: project_reconciler.h), then render.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "controller/project/names.h"
#include "controller/project/policy.h"
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

// nullopt unless the Project may use the Secret `need` names: a namespace SecretSourceOf refuses
// is not even read; outside the project's namespace the Secret must consent. Missing, refused
// and not consenting look the same to the caller, so nothing tells whether a Secret exists.
StatusOr<std::optional<Json>> ProjectReconciler::ReadUserSecret(const Pass& pass,
                                                                const UserSecretNeed& need) {
  const kube::ObjectPtr cached_ns =
      cache_.get(kube::Resource::Namespaces(), "", need.source_namespace);
  const SecretSource source =
      SecretSourceOf(need.source_namespace, pass.ns, options_.defaults, cached_ns.get());
  if (source == SecretSource::kRefused) return std::optional<Json>();
  KUBABASE_ASSIGN_OR_RETURN(
      std::optional<Json> secret,
      GetOptional(kube::Resource::Secrets(), need.source_namespace, need.source_name));
  if (secret && source == SecretSource::kConsenting &&
      !SecretAllowsProject(*secret, pass.project.name)) {
    secret.reset();  // its values are dropped here, unread
  }
  return secret;
}

Status ProjectReconciler::ReadUserSecrets(Pass& pass) {
  if (pass.problem) return Status::Ok();
  for (const UserSecretNeed& need : UserSecretNeeds(pass.project.spec)) {
    KUBABASE_ASSIGN_OR_RETURN(std::optional<Json> secret, ReadUserSecret(pass, need));
    if (!secret) {
      pass.problem = SecretRefNotAllowed(need.field, need.source_namespace, need.source_name,
                                         pass.project.name, pass.ns, options_.defaults);
      return Status::Ok();
    }
    // Past this point the Project may use the Secret, so saying what is wrong with it tells
    // nothing it may not know.
    const std::string named = need.source_namespace + "/" + need.source_name;
    StatusOr<std::map<std::string, std::string>> values = SecretValues(*secret);
    if (!values.ok()) {
      pass.problem = Problem{
          "InvalidSecret", values.status().Annotate(named + " named by " + need.field).message()};
      return Status::Ok();
    }
    std::vector<std::string> missing;
    std::map<std::string, std::string>& copy = pass.user_secrets.copies[need.copy];
    for (const auto& [source_key, copy_key] : need.keys) {
      auto it = values->find(source_key);
      if (it == values->end() || it->second.empty()) {
        missing.push_back(source_key);
      } else {
        copy[copy_key] = it->second;
      }
    }
    if (!missing.empty()) {
      pass.problem = Problem{
          "SecretKeyMissing",
          fmt::format("{}: Secret {} lacks {} (or {} empty); add {}", need.field, named,
                      fmt::join(missing, ", "), missing.size() == 1 ? "it is" : "they are",
                      missing.size() == 1 ? "that key" : "those keys")};
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
