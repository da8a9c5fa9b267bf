// PostgresServer: a throwaway PostgreSQL 15 server for tests, from Debian's postgresql-15 binaries,
// in a temp dir of its own, listening on 127.0.0.1:<free port> and on a Unix socket in that dir.
//
//   PostgresServer server;
//   std::string error = server.Start("supabase_admin", "superuser-password");
//   if (!error.empty()) FAIL() << error;
//   std::string count = server.Query("SELECT count(*) FROM pg_roles");  // as superuser, via socket
//   server.Stop();                                                         // also done by ~
//
// The superuser (initdb -U; `postgres` on a stock install, `supabase_admin` where the operator's
// StatefulSet sets POSTGRES_USER) is trusted over the Unix socket (for the test's own queries);
// every role needs its password (SCRAM) over TCP (for everything that must log in as a client
// would). Statement logging is on (log_statement=all) and pg_stat_statements is loaded, as on
// the supabase/postgres image, so that tests can prove a secret reaches neither.
//
// Binaries: $KUBABASE_PG_BINDIR if set, else /usr/lib/postgresql/15/bin; Start() fails with a
// message saying to install postgresql-15 (scripts/install-deps.sh) when they are missing or not
// version 15. initdb refuses to run as root: as root, initdb and pg_ctl run as the `postgres`
// system user (runuser, else setpriv) and the temp dir is handed to it.
//
// Stop() (and the destructor) stop the server with pg_ctl, SIGKILL the postmaster if that fails,
// and delete the temp dir. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "tests/database/subprocess.h"

namespace kubabase::testing {

class PostgresServer {
 public:
  PostgresServer() = default;
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // Creates the cluster with `superuser` as its bootstrap superuser and starts it. Returns "" on
  // success, else what went wrong.
  std::string Start(const std::string& superuser, const std::string& superuser_password);

  // Stops the server and removes its files. Returns "" on success, else what went wrong (the
  // postmaster is SIGKILLed and the files removed in any case). Idempotent.
  std::string Stop();

  // Whether the postmaster process still exists.
  bool PostmasterAlive() const;

  // Runs `sql` as the superuser over the Unix socket with psql -X -At -v ON_ERROR_STOP=1.
  Subprocess::Result Psql(const std::string& sql, const std::string& database = "postgres") const;

  // Psql(), returning stdout without its trailing newline; records a test failure on error.
  std::string Query(const std::string& sql) const;

  // Runs `sql` logged in as `user` with `password` over TCP (as a service would log in).
  Subprocess::Result PsqlAs(const std::string& user, const std::string& password,
                            const std::string& sql) const;

  // The environment a client needs: PATH with the server's bindir first, LANG=C.UTF-8.
  Subprocess::Env BaseEnv() const;

  const std::string& bindir() const { return bindir_; }
  const std::string& superuser() const { return superuser_; }
  const std::string& dir() const { return dir_; }
  const std::string& socket_dir() const { return dir_; }
  int port() const { return port_; }
  // The server log (stderr of the postmaster), read now.
  std::string ServerLog() const;

 private:
  // Prefixes `argv` to run as the postgres system user when we are root.
  std::vector<std::string> AsServerUser(std::vector<std::string> argv) const;

  std::string bindir_;
  std::string superuser_;
  std::string dir_;  // the temp dir; data in dir_/data, socket in dir_, log in dir_/server.log
  int port_ = 0;
  int postmaster_pid_ = 0;
  bool run_as_postgres_user_ = false;
};

}  // namespace kubabase::testing
