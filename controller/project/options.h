// Options: the operator's command line (notes/flags.md), parsed into values main.cc wires up.
//
//   StatusOr<Options> options = ParseOptions(args, EnvironmentMap());
//   if (!options.ok()) { std::cerr << options.status().message() << "\n" << HelpText(); return 1; }
//   if (options->help) { std::cout << HelpText(); return 0; }
//
// Every flag is also settable by the environment variable KUBABASE_<UPPER_SNAKE> (--leader-elect
// -> KUBABASE_LEADER_ELECT); the flag wins. Forms: `--flag value`, `--flag=value`; a boolean flag
// alone means true. Errors: kInvalidArgument naming the flag (or variable) and what it accepts:
// an unknown flag, a missing value, a malformed number, duration or boolean, workers < 1,
// qps <= 0, burst < 1, a log level or format we do not know, a malformed CIDR or label, a
// --plans-file that cannot be read or parsed (plans.h ParsePlans), a --default-plan that is not
// one of the plans. Reads the --plans-file, nothing else; thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/project/defaults.h"

namespace kubabase::project {

struct Options {
  std::string kubeconfig;  // "": $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;
  bool leader_elect = true;
  std::string leader_election_namespace;  // "": the pod's namespace in-cluster, else kubabase-system
  std::string leader_election_id = "kubabase";
  std::string metrics_bind_address = ":8080";  // "0": no metrics/health server
  std::string log_level = "info";
  std::string log_format = "text";
  int workers = 4;
  double qps = 20;
  int burst = 40;
  std::chrono::seconds resync_period{600};
  std::string events_namespace = "default";
  Defaults defaults;  // --base-domain, --namespace-prefix, --ingress-class, --ingress-namespace,
                      // --egress-*, --image-*, --plans-file (read into defaults.plans),
                      // --default-plan
  std::string plans_file;  // "": the built-in plans
  bool help = false;  // --help / -h: print HelpText() and exit 0
};

// `args` excludes argv[0]. `env` maps variable names to values (EnvironmentMap() in main).
StatusOr<Options> ParseOptions(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env);

// Every flag with its default, one per line, for --help.
std::string HelpText();

// "90s", "10m", "1h30m", "2h", or plain seconds "600". Errors: kInvalidArgument.
StatusOr<std::chrono::seconds> ParseDuration(const std::string& text);

// The process environment as a map (environ).
std::map<std::string, std::string> EnvironmentMap();

}  // namespace kubabase::project
