#include "controller/plugin/plugin.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <utility>

#include "controller/base/shell_quote.h"
#include "controller/project/components/component.h"
#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "controller/project/resources.h"

namespace kubabase::plugin {
namespace {

using kube::Json;

// The field at `path` as display text; "-" when absent or not a scalar.
std::string Text(const Json& object, std::initializer_list<const char*> path) {
  const Json* at = &object;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return "-";
    at = &(*at)[key];
  }
  if (at->is_string()) return at->get<std::string>().empty() ? "-" : at->get<std::string>();
  if (at->is_number_integer()) return std::to_string(at->get<long long>());
  if (at->is_boolean()) return at->get<bool>() ? "true" : "false";
  return "-";
}

StatusOr<std::string> SecretValue(const Json& secret, std::string_view key) {
  const Json& data = secret.contains("data") ? secret["data"] : Json::object();
  if (!data.is_object() || !data.contains(std::string(key)) || !data[std::string(key)].is_string()) {
    return FailedPreconditionError(fmt::format(
        "the keys Secret has no {} yet (the operator fills it in while provisioning)", key));
  }
  StatusOr<std::string> decoded = project::Base64Decode(data[std::string(key)].get<std::string>());
  if (!decoded.ok()) {
    return FailedPreconditionError(fmt::format("the keys Secret's {} is not base64", key));
  }
  return decoded;
}

StatusOr<Json> GetProject(kube::ApiClient& client, const std::string& name) {
  StatusOr<Json> project = client.Get(project::ProjectsResource(), "", name);
  if (!project.ok() && project.status().IsNotFound()) {
    return NotFoundError(fmt::format("Project {} not found (kubectl get proj lists them)", name));
  }
  return project;
}

}  // namespace

std::string Usage() {
  return R"usage(kubectl kubabase: inspect and control kubabase Projects (self-hosted Supabase backends).

Usage:
  kubectl kubabase status <project>       phase, conditions, endpoints, components
  kubectl kubabase keys <project> [-o env|dotenv|json] [--service-role]
                                          SUPABASE_URL and SUPABASE_ANON_KEY (and, only when
                                          asked, SUPABASE_SERVICE_ROLE_KEY: it bypasses RLS)
  kubectl kubabase pause <project>        scale every workload to zero; data and keys are kept
  kubectl kubabase resume <project>       bring a paused project back

Flags:
  --kubeconfig PATH   kubeconfig (default $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context
  -o, --output FMT    keys: env (export lines, default), dotenv (a .env file), json
  --service-role      keys: also print the service_role key
  -h, --help          this text

Examples:
  kubectl kubabase keys acme-shop -o dotenv > .env
  eval "$(kubectl kubabase keys acme-shop)"
)usage";
}

StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args) {
  Invocation invocation;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value_of = [&](std::string_view flag) -> StatusOr<std::string> {
      const std::string prefix = std::string(flag) + "=";
      if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
      if (i + 1 >= args.size()) return InvalidArgumentError(fmt::format("{} needs a value", flag));
      return args[++i];
    };
    auto is_flag = [&](std::string_view flag) {
      return arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0;
    };
    if (arg == "-h" || arg == "--help") {
      invocation.command = Command::kHelp;
      return invocation;
    } else if (arg == "--service-role") {
      invocation.service_role = true;
    } else if (is_flag("--kubeconfig")) {
      KUBABASE_ASSIGN_OR_RETURN(invocation.kubeconfig, value_of("--kubeconfig"));
    } else if (is_flag("--context")) {
      KUBABASE_ASSIGN_OR_RETURN(invocation.context, value_of("--context"));
    } else if (is_flag("-o") || is_flag("--output")) {
      KUBABASE_ASSIGN_OR_RETURN(std::string format, value_of(is_flag("-o") ? "-o" : "--output"));
      if (format == "env") {
        invocation.format = KeysFormat::kEnv;
      } else if (format == "dotenv") {
        invocation.format = KeysFormat::kDotenv;
      } else if (format == "json") {
        invocation.format = KeysFormat::kJson;
      } else {
        return InvalidArgumentError(
            fmt::format("unknown output format \"{}\" (env, dotenv or json)", format));
      }
    } else if (!arg.empty() && arg[0] == '-') {
      return InvalidArgumentError(fmt::format("unknown flag {}", arg));
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.empty()) return InvalidArgumentError("missing command");
  const std::string& command = positional[0];
  if (command == "status") {
    invocation.command = Command::kStatus;
  } else if (command == "keys") {
    invocation.command = Command::kKeys;
  } else if (command == "pause") {
    invocation.command = Command::kPause;
  } else if (command == "resume") {
    invocation.command = Command::kResume;
  } else if (command == "help") {
    invocation.command = Command::kHelp;
    return invocation;
  } else {
    return InvalidArgumentError(fmt::format("unknown command \"{}\"", command));
  }
  if (positional.size() != 2) {
    return InvalidArgumentError(fmt::format("{} takes exactly one project name", command));
  }
  invocation.project = positional[1];
  return invocation;
}

std::string FormatStatus(const Json& project) {
  std::ostringstream out;
  const Json status = project.contains("status") ? project["status"] : Json::object();
  const bool paused = project.contains("spec") && project["spec"].is_object() &&
                      project["spec"].value("paused", false);
  out << fmt::format("Project:     {}\n", Text(project, {"metadata", "name"}));
  out << fmt::format("Phase:       {}{}\n", Text(status, {"phase"}), paused ? " (spec.paused)" : "");
  const std::string generation = Text(project, {"metadata", "generation"});
  const std::string observed = Text(status, {"observedGeneration"});
  out << fmt::format("Generation:  {} (observed {}{})\n", generation, observed,
                     observed == generation ? "" : ", the operator has not caught up yet");
  out << fmt::format("Namespace:   {}\n", Text(status, {"namespace"}));
  out << fmt::format("Keys:        Secret {}/{} (kubectl kubabase keys {})\n",
                     Text(status, {"keysSecret", "namespace"}), Text(status, {"keysSecret", "name"}),
                     Text(project, {"metadata", "name"}));

  out << "\nEndpoints:\n";
  // The project URL, then each component with a public route (components/), in registry order.
  std::vector<std::string> endpoints = {"api"};
  for (const project::ComponentDef* def : project::Components()) {
    if (!def->routes.empty()) endpoints.emplace_back(def->key);
  }
  for (const std::string& name : endpoints) {
    out << fmt::format("  {:<9}{}\n", name, Text(status, {"endpoints", name.c_str()}));
  }

  out << "\nComponents:\n";
  const Json components = status.value("components", Json::object());
  if (!components.is_object() || components.empty()) {
    out << "  -\n";
  } else {
    out << fmt::format("  {:<10}{:<8}{}\n", "NAME", "READY", "IMAGE");
    for (const auto& [name, component] : components.items()) {
      out << fmt::format("  {:<10}{:<8}{}\n", name,
                         fmt::format("{}/{}", Text(component, {"ready"}), Text(component, {"desired"})),
                         Text(component, {"image"}));
    }
  }

  out << "\nConditions:\n";
  const Json conditions = status.value("conditions", Json::array());
  if (!conditions.is_array() || conditions.empty()) {
    out << "  -\n";
  } else {
    out << fmt::format("  {:<14}{:<9}{:<24}{}\n", "TYPE", "STATUS", "REASON", "MESSAGE");
    for (const Json& condition : conditions) {
      out << fmt::format("  {:<14}{:<9}{:<24}{}\n", Text(condition, {"type"}),
                         Text(condition, {"status"}), Text(condition, {"reason"}),
                         Text(condition, {"message"}));
    }
  }
  return out.str();
}

StatusOr<std::string> FormatKeys(const Json& secret, KeysFormat format, bool service_role) {
  std::vector<std::pair<std::string, std::string>> keys;
  KUBABASE_ASSIGN_OR_RETURN(std::string url, SecretValue(secret, project::names::kSupabaseUrlKey));
  keys.emplace_back("SUPABASE_URL", std::move(url));
  KUBABASE_ASSIGN_OR_RETURN(std::string anon, SecretValue(secret, project::names::kAnonKeyKey));
  keys.emplace_back("SUPABASE_ANON_KEY", std::move(anon));
  if (service_role) {
    KUBABASE_ASSIGN_OR_RETURN(std::string service, SecretValue(secret, project::names::kServiceRoleKeyKey));
    keys.emplace_back("SUPABASE_SERVICE_ROLE_KEY", std::move(service));
  }
  std::string out;
  switch (format) {
    case KeysFormat::kEnv:
      for (const auto& [name, value] : keys) out += fmt::format("export {}={}\n", name, ShellQuote(value));
      break;
    case KeysFormat::kDotenv:
      // URLs and JWTs hold no spaces, quotes or newlines; quote anyway so odd values stay one line.
      for (const auto& [name, value] : keys) out += fmt::format("{}={}\n", name, Json(value).dump());
      break;
    case KeysFormat::kJson: {
      Json object = Json::object();
      for (const auto& [name, value] : keys) object[name] = value;
      out = object.dump(2) + "\n";
      break;
    }
  }
  return out;
}

int RunPlugin(const Invocation& invocation, kube::ApiClient& client, std::ostream& out,
              std::ostream& err) {
  auto report = [&](const Status& status) {
    err << "error: " << status.message() << "\n";
    return 1;
  };
  switch (invocation.command) {
    case Command::kHelp:
      out << Usage();
      return 0;
    case Command::kStatus: {
      StatusOr<Json> project = GetProject(client, invocation.project);
      if (!project.ok()) return report(project.status());
      out << FormatStatus(*project);
      return 0;
    }
    case Command::kKeys: {
      StatusOr<Json> project = GetProject(client, invocation.project);
      if (!project.ok()) return report(project.status());
      const std::string ns = Text(*project, {"status", "keysSecret", "namespace"});
      const std::string name = Text(*project, {"status", "keysSecret", "name"});
      if (ns == "-" || name == "-") {
        return report(FailedPreconditionError(fmt::format(
            "Project {} reports no keys Secret yet (status.keysSecret); see kubectl kubabase status {}",
            invocation.project, invocation.project)));
      }
      StatusOr<Json> secret = client.Get(kube::Resource::Secrets(), ns, name);
      if (!secret.ok()) {
        return report(Status(secret.status().code(),
                             fmt::format("reading Secret {}/{}: {}", ns, name,
                                         secret.status().message())));
      }
      StatusOr<std::string> text = FormatKeys(*secret, invocation.format, invocation.service_role);
      if (!text.ok()) return report(text.status());
      out << *text;
      return 0;
    }
    case Command::kPause:
    case Command::kResume: {
      const bool pause = invocation.command == Command::kPause;
      StatusOr<Json> project = GetProject(client, invocation.project);
      if (!project.ok()) return report(project.status());
      // A merge patch of the one field: other spec fields, and their owners, are untouched.
      StatusOr<Json> patched = client.MergePatch(project::ProjectsResource(), "", invocation.project,
                                                 Json{{"spec", {{"paused", pause}}}});
      if (!patched.ok()) return report(patched.status());
      out << fmt::format("project.kubabase.io/{} {}\n", invocation.project,
                         pause ? "paused" : "resumed");
      return 0;
    }
  }
  return 1;
}

}  // namespace kubabase::plugin
