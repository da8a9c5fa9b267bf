#include "controller/project/options.h"

#include <cctype>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "controller/kube/logging.h"
#include "controller/project/cidr.h"
#include "controller/project/components/component.h"
#include "controller/project/plans.h"

extern char** environ;

namespace kubabase::project {
namespace {

struct Flag {
  std::string name;         // without "--"
  std::string placeholder;  // "" for booleans
  std::string help;
  std::string default_text;
  std::function<Status(Options&, const std::string&)> set;
};

StatusOr<int64_t> ParseInt(const std::string& text) {
  static const std::regex re("^-?[0-9]{1,12}$");
  if (!std::regex_match(text, re)) return InvalidArgumentError("\"" + text + "\" is not an integer");
  return std::stoll(text);
}

StatusOr<bool> ParseBool(const std::string& text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return InvalidArgumentError("\"" + text + "\" is not true or false");
}

Flag String(std::string name, std::string placeholder, std::string help, std::string def,
            std::string Options::*field) {
  return {std::move(name), std::move(placeholder), std::move(help), std::move(def),
          [field](Options& o, const std::string& v) {
            o.*field = v;
            return Status::Ok();
          }};
}

Flag DefaultsString(std::string name, std::string placeholder, std::string help,
                    std::string def, std::function<std::string&(Options&)> field) {
  return {std::move(name), std::move(placeholder), std::move(help), std::move(def),
          [field](Options& o, const std::string& v) {
            field(o) = v;
            return Status::Ok();
          }};
}

// "a,b,,c" -> {a, b, c}; "" -> {}.
std::vector<std::string> CommaList(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "a,b" of CIDRs, each checked (cidr.h).
std::string CidrListText(const std::vector<Cidr>& cidrs) {
  std::string out;
  for (const Cidr& cidr : cidrs) out += (out.empty() ? "" : ",") + cidr.text;
  return out;
}

// "k=v,k2=v2" -> labels; each key and value as a label selector admits them.
StatusOr<std::map<std::string, std::string>> LabelList(const std::string& text) {
  static const std::regex key(
      "^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$");
  static const std::regex value("^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$");
  std::map<std::string, std::string> out;
  for (const std::string& pair : CommaList(text)) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || !std::regex_match(pair.substr(0, eq), key) ||
        !std::regex_match(pair.substr(eq + 1), value)) {
      return InvalidArgumentError(fmt::format(
          "\"{}\" is not a label key=value (such as k8s-app=kube-dns)", pair));
    }
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

// How the operator connects, elects, logs and paces itself.
std::vector<Flag> RuntimeFlags() {
  return {
      String("kubeconfig", "PATH", "kubeconfig file; default $KUBECONFIG, ~/.kube/config, then "
             "in-cluster when KUBERNETES_SERVICE_HOST is set", "", &Options::kubeconfig),
      String("context", "NAME", "kubeconfig context; default its current-context", "",
             &Options::context),
      {"leader-elect", "", "elect one active replica through a Lease", "true",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(o.leader_elect, ParseBool(v));
         return Status::Ok();
       }},
      String("leader-election-namespace", "NS",
             "namespace of the Lease; default the pod's namespace, else kubabase-system", "",
             &Options::leader_election_namespace),
      String("leader-election-id", "NAME", "name of the Lease", "kubabase",
             &Options::leader_election_id),
      String("metrics-bind-address", "ADDR", "serves /metrics, /healthz, /readyz; \"0\" disables",
             ":8080", &Options::metrics_bind_address),
      {"log-level", "LEVEL", "debug|info|warn|error", "info",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_RETURN_IF_ERROR(kube::ParseLogLevel(v).status());
         o.log_level = v;
         return Status::Ok();
       }},
      {"log-format", "FORMAT", "text|json", "text",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_RETURN_IF_ERROR(kube::ParseLogFormat(v).status());
         o.log_format = v;
         return Status::Ok();
       }},
      {"workers", "N", "concurrent reconciles", "4",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
         if (n < 1 || n > 1000) return InvalidArgumentError("must be between 1 and 1000");
         o.workers = static_cast<int>(n);
         return Status::Ok();
       }},
      {"qps", "N", "API requests per second (client-side limit)", "20",
       [](Options& o, const std::string& v) -> Status {
         static const std::regex re("^[0-9]+(\\.[0-9]+)?$");
         if (!std::regex_match(v, re) || std::stod(v) <= 0) {
           return InvalidArgumentError("\"" + v + "\" is not a positive number");
         }
         o.qps = std::stod(v);
         return Status::Ok();
       }},
      {"burst", "N", "API request burst above qps", "40",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(int64_t n, ParseInt(v));
         if (n < 1) return InvalidArgumentError("must be at least 1");
         o.burst = static_cast<int>(n);
         return Status::Ok();
       }},
      {"resync-period", "DURATION", "every Project is reconciled again this often", "10m",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(o.resync_period, ParseDuration(v));
         return Status::Ok();
       }},
  };
}

// What every Project gets unless its spec says otherwise, and what its author may ask for.
std::vector<Flag> ProjectFlags() {
  std::vector<Flag> flags = {
      DefaultsString("base-domain", "DOMAIN", "a Project's host is <name>.<base-domain>",
                     "kubabase.localhost", [](Options& o) -> std::string& {
                       return o.defaults.base_domain;
                     }),
      {"namespace-prefix", "PREFIX", "a Project's namespace is <prefix><name>", "project-",
       [](Options& o, const std::string& v) -> Status {
         // <prefix><name> must be a DNS label (63 at most) for every name the CRD admits (40);
         // 22, as the chart's values schema allows, keeps one character spare.
         static const std::regex re("^[a-z0-9][-a-z0-9]{0,21}$");
         if (!std::regex_match(v, re)) {
           return InvalidArgumentError(
               "\"" + v + "\" must be 1 to 22 lower-case letters, digits or '-', starting "
               "with a letter or digit, so that <prefix><name> is a valid namespace name");
         }
         o.defaults.namespace_prefix = v;
         return Status::Ok();
       }},
      DefaultsString("ingress-class", "NAME", "ingressClassName; \"\" the cluster default", "",
                     [](Options& o) -> std::string& { return o.defaults.ingress_class; }),
      DefaultsString("ingress-namespace", "NS",
                     "namespace of the ingress controller, admitted by NetworkPolicies",
                     "ingress-nginx",
                     [](Options& o) -> std::string& { return o.defaults.ingress_namespace; }),
      {"allowed-ingress-annotations", "KEYS",
       "comma-separated spec.ingress.annotations keys a Project may set, a trailing * matching "
       "any rest; others are refused (AnnotationNotAllowed)",
       "cert-manager.io/*",
       [](Options& o, const std::string& v) -> Status {
         o.defaults.allowed_ingress_annotations = CommaList(v);
         return Status::Ok();
       }},
      DefaultsString("shared-secrets-namespace", "NS",
                     "namespace whose Secrets Projects may reference when the Secret's "
                     "kubabase.io/allowed-projects annotation names them; \"\" none",
                     "kubabase-shared", [](Options& o) -> std::string& {
                       return o.defaults.shared_secrets_namespace;
                     }),
      {"allowed-secret-namespaces", "NS,...",
       "comma-separated further namespaces whose consenting Secrets Projects may reference "
       "(never a project's namespace)",
       "",
       [](Options& o, const std::string& v) -> Status {
         o.defaults.allowed_secret_namespaces = CommaList(v);
         return Status::Ok();
       }},
      DefaultsString("egress-dns-namespace", "NS",
                     "namespace of the DNS pods project pods may query (UDP/TCP 53); \"\" allows "
                     "port 53 to any address",
                     "kube-system",
                     [](Options& o) -> std::string& { return o.defaults.egress.dns_namespace; }),
      {"egress-dns-labels", "LABELS",
       "comma-separated key=value labels of those DNS pods; \"\" means every pod of the namespace",
       "k8s-app=kube-dns",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(o.defaults.egress.dns_labels, LabelList(v));
         return Status::Ok();
       }},
      {"egress-denied-cidrs", "CIDRS",
       "comma-separated IPv4/IPv6 CIDRs project pods may not reach (beside DNS, their own "
       "namespace and --egress-allowed-cidrs); each narrower than /0",
       CidrListText(Egress{}.denied_cidrs),
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(std::vector<Cidr> cidrs, ParseCidrList(v));
         for (const Cidr& cidr : cidrs) {
           if (cidr.prefix == 0) {
             return InvalidArgumentError(fmt::format(
                 "\"{}\" would deny every address; a denied CIDR must be narrower than /0",
                 cidr.text));
           }
         }
         o.defaults.egress.denied_cidrs = std::move(cidrs);
         return Status::Ok();
       }},
      {"egress-allowed-cidrs", "CIDRS",
       "comma-separated IPv4/IPv6 CIDRs project pods may reach on any port even inside a denied "
       "one (in-cluster S3, SMTP)",
       "",
       [](Options& o, const std::string& v) -> Status {
         KUBABASE_ASSIGN_OR_RETURN(o.defaults.egress.allowed_cidrs, ParseCidrList(v));
         return Status::Ok();
       }},
      {"allowed-host-suffixes", "DOMAINS",
       "comma-separated domains spec.host must lie in (the domain or a subdomain); \"\" the "
       "base domain alone; others are refused (HostNotAllowed)",
       "",
       [](Options& o, const std::string& v) -> Status {
         std::vector<std::string> suffixes;
         for (std::string suffix : CommaList(v)) {
           if (!suffix.empty() && suffix.front() == '.') suffix.erase(0, 1);
           if (suffix.empty() || suffix.find_first_of("*/: ") != std::string::npos) {
             return InvalidArgumentError("\"" + v +
                                         "\" must be DNS domains, e.g. apps.example.com");
           }
           suffixes.push_back(suffix);
         }
         o.defaults.allowed_host_suffixes = std::move(suffixes);
         return Status::Ok();
       }},
      String("plans-file", "PATH",
             "YAML file of the plans a Project may pick with spec.plan (quota, limitRange, "
             "maxReplicas, maxVolumeSize); \"\" the built-in small, medium and large",
             "", &Options::plans_file),
      DefaultsString("default-plan", "NAME", "the plan of a Project without spec.plan", "small",
                     [](Options& o) -> std::string& { return o.defaults.default_plan; }),
      String("events-namespace", "NS", "where Events about (cluster-scoped) Projects go",
             "default", &Options::events_namespace),
      DefaultsString("image-postgres", "IMAGE", "default database image", kDefaultPostgresImage,
                     [](Options& o) -> std::string& { return o.defaults.images.postgres; }),
      DefaultsString("image-postgrest", "IMAGE", "default PostgREST image", kDefaultPostgrestImage,
                     [](Options& o) -> std::string& { return o.defaults.images.postgrest; }),
      DefaultsString("image-gotrue", "IMAGE", "default GoTrue image", kDefaultGotrueImage,
                     [](Options& o) -> std::string& { return o.defaults.images.gotrue; }),
      DefaultsString("image-storage", "IMAGE", "default Storage API image", kDefaultStorageImage,
                     [](Options& o) -> std::string& { return o.defaults.images.storage; }),
  };
  // One --image-<key> per component that declares its default image (components/).
  for (const ComponentDef* def : Components()) {
    if (def->default_image.empty()) continue;
    const std::string key(def->key);
    flags.push_back(DefaultsString(
        "image-" + key, "IMAGE", "default " + key + " image", std::string(def->default_image),
        [key](Options& o) -> std::string& { return o.defaults.images.components[key]; }));
  }
  return flags;
}

const std::vector<Flag>& Flags() {
  static const std::vector<Flag>* const kFlags = [] {
    auto* flags = new std::vector<Flag>(RuntimeFlags());
    for (Flag& flag : ProjectFlags()) flags->push_back(std::move(flag));
    return flags;
  }();
  return *kFlags;
}

std::string EnvName(const std::string& flag) {
  std::string out = "KUBABASE_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

const Flag* FindFlag(const std::string& name) {
  for (const Flag& flag : Flags()) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// The namespaces Secret references may reach besides a project's own must be namespace names,
// and none may be a project's: <prefix><name> is every Project's own (policy.h SecretSourceOf
// refuses those at reconcile time too; refusing them here says so at start).
Status CheckSecretNamespaces(const Defaults& defaults) {
  static const std::regex label("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  std::vector<std::pair<std::string, std::string>> named;  // flag, namespace
  if (!defaults.shared_secrets_namespace.empty()) {
    named.emplace_back("shared-secrets-namespace", defaults.shared_secrets_namespace);
  }
  for (const std::string& ns : defaults.allowed_secret_namespaces) {
    named.emplace_back("allowed-secret-namespaces", ns);
  }
  for (const auto& [flag, ns] : named) {
    if (!std::regex_match(ns, label)) {
      return InvalidArgumentError(fmt::format("--{}: \"{}\" is not a namespace name", flag, ns));
    }
    if (ns.rfind(defaults.namespace_prefix, 0) == 0) {
      return InvalidArgumentError(fmt::format(
          "--{}: \"{}\" starts with --namespace-prefix \"{}\", so it is (or could become) a "
          "project's namespace",
          flag, ns, defaults.namespace_prefix));
    }
  }
  return Status::Ok();
}

// Reads --plans-file into defaults.plans and checks that --default-plan is one of them.
Status LoadPlans(Options& options) {
  if (!options.plans_file.empty()) {
    const std::string source = "--plans-file " + options.plans_file;
    std::ifstream in(options.plans_file);
    if (!in) return InvalidArgumentError(source + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    KUBABASE_ASSIGN_OR_RETURN(options.defaults.plans, ParsePlans(text.str(), source));
  }
  if (options.defaults.plans.count(options.defaults.default_plan) == 0) {
    std::string names;
    for (const auto& [name, plan] : options.defaults.plans) {
      if (!names.empty()) names += ", ";
      names += name;
    }
    return InvalidArgumentError("--default-plan: \"" + options.defaults.default_plan +
                                "\" is not one of the plans (" + names + ")");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::chrono::seconds> ParseDuration(const std::string& text) {
  static const std::regex plain("^[0-9]{1,9}$");
  static const std::regex part("([0-9]{1,9})(h|m|s)");
  if (std::regex_match(text, plain)) return std::chrono::seconds(std::stoll(text));
  static const std::regex whole("^(([0-9]{1,9})(h|m|s))+$");
  if (!std::regex_match(text, whole)) {
    return InvalidArgumentError("\"" + text + "\" is not a duration such as 90s, 10m or 1h30m");
  }
  int64_t seconds = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), part); it != std::sregex_iterator();
       ++it) {
    int64_t n = std::stoll((*it)[1].str());
    char unit = (*it)[2].str()[0];
    seconds += unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n;
  }
  return std::chrono::seconds(seconds);
}

StatusOr<Options> ParseOptions(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env) {
  Options options;
  // Environment first, so that flags override it.
  for (const Flag& flag : Flags()) {
    auto it = env.find(EnvName(flag.name));
    if (it == env.end()) continue;
    Status set = flag.set(options, it->second);
    if (!set.ok()) return InvalidArgumentError(EnvName(flag.name) + ": " + set.message());
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      return InvalidArgumentError("unexpected argument \"" + arg + "\"; flags start with --");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag* flag = FindFlag(name);
    if (flag == nullptr) return InvalidArgumentError("unknown flag --" + name + " (see --help)");
    if (!value) {
      if (flag->placeholder.empty()) {
        value = "true";  // a boolean flag alone
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return InvalidArgumentError("--" + name + " needs a value (" + flag->placeholder + ")");
      }
    }
    Status set = flag->set(options, *value);
    if (!set.ok()) return InvalidArgumentError("--" + name + ": " + set.message());
  }
  KUBABASE_RETURN_IF_ERROR(CheckSecretNamespaces(options.defaults));
  KUBABASE_RETURN_IF_ERROR(LoadPlans(options));
  return options;
}

std::string HelpText() {
  std::string out =
      "Usage: kubabase [flags]\n"
      "Runs the kubabase operator: one Supabase backend per Project (kubabase.io/v1alpha1).\n"
      "Each flag is also read from KUBABASE_<UPPER_SNAKE> (e.g. KUBABASE_LEADER_ELECT); the flag "
      "wins.\n\nFlags:\n";
  for (const Flag& flag : Flags()) {
    std::string left = "  --" + flag.name +
                       (flag.placeholder.empty() ? "=true|false" : " " + flag.placeholder);
    if (left.size() < 36) left.resize(36, ' ');
    out += left + " " + flag.help + " (default \"" + flag.default_text + "\")\n";
  }
  out += "  --help                             print this help\n"
         "\nExit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 startup or configuration error, "
         "2 leadership lost.\n";
  return out;
}

std::map<std::string, std::string> EnvironmentMap() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    size_t eq = entry.find('=');
    if (eq != std::string::npos) out[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return out;
}

}  // namespace kubabase::project
