// Subprocess: runs a program to completion with an explicit environment and captures its output,
// for tests that drive real binaries (initdb, pg_ctl, psql, sh).
//
//   Subprocess::Result r = Subprocess::Run({"psql", "-Atc", "SELECT 1"}, {{"PATH", "/usr/bin"}});
//   if (!r.error.empty() || r.exit_code != 0) FAIL() << r.Describe();
//
// The child gets exactly `env` (nothing is inherited), stdin from /dev/null, and runs in a
// process group of its own, which is killed with SIGKILL when `timeout` passes. Passwords belong in
// `env`, never in `argv`, as the bootstrap Job does it.
//
// Thread-compatible; Run() blocks the calling thread until the child exits or times out.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace kubabase::testing {

class Subprocess {
 public:
  struct Result {
    int exit_code = -1;   // the child's exit status; 128 + N when signal N ended it; -1 on error
    std::string out;      // everything it wrote to stdout
    std::string err;      // everything it wrote to stderr
    std::string error;    // non-empty when it could not be started or timed out

    bool ok() const { return error.empty() && exit_code == 0; }
    // "exit 3; stderr: ..." for failure messages (includes the child's output, so callers must
    // not use it for a child that may print a secret).
    std::string Describe() const;
  };

  using Env = std::map<std::string, std::string>;

  // Runs argv[0] (looked up in env's PATH when it has no '/') with `argv` and `env`.
  // Requires: argv is not empty.
  static Result Run(const std::vector<std::string>& argv, const Env& env,
                    std::chrono::seconds timeout = std::chrono::seconds(120));
};

}  // namespace kubabase::testing
