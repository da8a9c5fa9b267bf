// The `kubectl kubabase` plugin: what a person asks about a Project, answered from the apiserver.
//
//   kubectl kubabase status acme-shop            phase, conditions, endpoints, components
//   kubectl kubabase keys acme-shop -o dotenv    SUPABASE_URL and SUPABASE_ANON_KEY for a .env
//   kubectl kubabase keys acme-shop --service-role -o json
//   kubectl kubabase pause acme-shop / resume acme-shop
//
// Modelled on `supabase status` (URL and keys, ready for supabase-js) and CloudNativePG's
// `kubectl cnpg status`. The plugin only reads Projects and the keys Secret the Project's status
// names, and `pause`/`resume` merge-patch spec.paused: the one spec write, made by the user.
//
// Secrets: keys are printed only by `keys`, only to stdout, and SERVICE_ROLE_KEY only with
// --service-role (it bypasses row-level security). Errors never carry a key.
//
// Layout: the pure parts (argument parsing, formatting) are free functions tested without a
// cluster (plugin_test.cc); RunPlugin does the I/O through an ApiClient and is proven against the
// real apiserver by tests/install/plugin_test.sh.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/api_client.h"

namespace kubabase::plugin {

enum class Command { kStatus, kKeys, kPause, kResume, kHelp };
enum class KeysFormat { kEnv, kDotenv, kJson };

struct Invocation {
  Command command = Command::kHelp;
  std::string project;           // Requires (all but kHelp): not empty
  KeysFormat format = KeysFormat::kEnv;
  bool service_role = false;     // keys: include SERVICE_ROLE_KEY
  std::string kubeconfig;        // --kubeconfig; "" means $KUBECONFIG or ~/.kube/config
  std::string context;           // --context
};

// Parses argv[1..] (the words after `kubectl kubabase`). Flags may come before or after the
// command: --kubeconfig PATH, --context NAME, -o/--output env|dotenv|json, --service-role,
// -h/--help. Errors: kInvalidArgument naming the word that is wrong.
StatusOr<Invocation> ParseArgs(const std::vector<std::string>& args);

// The usage text printed by --help and after an argument error.
std::string Usage();

// `status`: a human summary of a Project object (as the apiserver returns it). Never fails:
// missing status fields print as "-" (a Project the operator has not seen yet).
std::string FormatStatus(const kube::Json& project);

// `keys`: the keys from the project's keys Secret (its data, base64 as the apiserver returns
// it). env:    export SUPABASE_URL=...  (shell-quoted; `eval "$(kubectl kubabase keys p)"`)
//       dotenv: SUPABASE_URL=...         (for a .env file read by supabase-js tooling)
//       json:   {"SUPABASE_URL": ..., "SUPABASE_ANON_KEY": ...}
// Names: SUPABASE_URL, SUPABASE_ANON_KEY, and SUPABASE_SERVICE_ROLE_KEY when `service_role`.
// Errors: kFailedPrecondition when the Secret lacks SUPABASE_URL or ANON_KEY (or
// SERVICE_ROLE_KEY when asked), or a value is not base64; the message names the key, not
// its value.
StatusOr<std::string> FormatKeys(const kube::Json& secret, KeysFormat format, bool service_role);

// Runs an invocation against `client`, writing results to `out` and errors to `err`. Returns the
// process exit code: 0 done, 1 the API or the Project said no (not found, no keys yet, ...).
int RunPlugin(const Invocation& invocation, kube::ApiClient& client, std::ostream& out,
              std::ostream& err);

}  // namespace kubabase::plugin
