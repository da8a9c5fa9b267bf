// The database bootstrap: the SQL and the shell script the bootstrap Job runs against a project's
// Postgres, and the names of the login roles whose passwords live in the Secret db-credentials.
//
//   ConfigMap data:  {kBootstrapSqlFile: BootstrapSql(), kBootstrapScriptFile: BootstrapScript()}
//   Job container:   command ["/bin/sh", "/bootstrap/bootstrap.sh"], the ConfigMap mounted at
//                    kBootstrapMountPath, env PGHOST/PGPORT/PGUSER/PGDATABASE, PGPASSWORD and one
//                    env var per LoginRoleSpecs() entry taken from db-credentials, JWT_EXP.
//
// What the SQL guarantees, on plain PostgreSQL 15 and on the supabase/postgres image alike (where
// most of it already exists), every run, idempotently, in one transaction:
//   roles     anon, authenticated (NOLOGIN INHERIT; statement_timeout 3s / 8s), service_role
//             (NOLOGIN INHERIT BYPASSRLS); authenticator (LOGIN NOINHERIT, member of those three,
//             statement_timeout and lock_timeout 8s; memberships in supabase_admin or postgres are
//             revoked and any other path to a superuser fails the run); supabase_auth_admin and
//             supabase_storage_admin (LOGIN NOINHERIT, search_path auth / storage, CREATE on the
//             database; the storage admin is a member of authenticator so that Storage can switch
//             to the API roles); supabase_admin (created SUPERUSER LOGIN if missing); postgres
//             (created if missing -- the operator's StatefulSet makes supabase_admin the server's
//             superuser, as the supabase/postgres image does -- as the image has it: LOGIN
//             BYPASSRLS, no superuser, owner of the database; ALL on public either way; member of
//             the API and service admin roles; search_path includes extensions). Attributes not
//             stated here (the image's CREATEROLE on its admins) are left as found; on plain
//             Postgres the admins get no CREATEROLE (in 15 it can hand out pg_* roles).
//   passwords ALTER ROLE ... PASSWORD for every login role on every run, from psql variables
//   schemas   extensions (uuid-ossp, pgcrypto when the server ships them), auth, storage,
//             graphql_public, all created owned by supabase_admin (as on the image); ALL on auth to
//             supabase_auth_admin and on storage to supabase_storage_admin; USAGE on them and on
//             public to the API roles; default privileges on tables, functions and sequences that
//             postgres and supabase_admin create in public (and postgres in storage)
//   functions auth.uid(), auth.role(), auth.email() from request.jwt.claims (legacy
//             request.jwt.claim.* first, as GoTrue writes them), owned by supabase_auth_admin so
//             that GoTrue's migrations may replace them; created only when missing or legacy-only
//   settings  ALTER DATABASE <current> SET "app.settings.jwt_exp". The JWT secret is never stored,
//             and an app.settings.jwt_secret an older setup left on the database is removed.
//
// Secrets never appear in the SQL, the script or any command line: psql reads each password from
// the environment with \getenv (psql >= 15) unless it was given with -v, and the SQL quotes it
// with :'variable'. The password statements run with statement logging, pgaudit and
// pg_stat_statements off and with terse errors, so they reach neither the server log, nor
// pg_stat_statements, nor the Job log. Every statement runs under ON_ERROR_STOP=1
// (the SQL sets it itself too), so any failure makes the Job fail and leaves nothing half done.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kubabase::project {

// One database login role whose password the operator generates and keeps in db-credentials.
struct LoginRoleSpec {
  std::string role;           // the Postgres role, e.g. "authenticator"
  std::string password_env;   // env var the Job reads its password from, "AUTHENTICATOR_PASSWORD"
  std::string psql_variable;  // psql variable the SQL uses, "authenticator_password"
};

// Every login role the bootstrap sets a password for: those the components declare
// (AllLoginRoles(), registry order): postgres, supabase_admin, authenticator,
// supabase_auth_admin, supabase_storage_admin.
const std::vector<LoginRoleSpec>& LoginRoleSpecs();

// The role names of LoginRoleSpecs(), same order. keys.h generates one password per entry.
const std::vector<std::string>& LoginRoles();

// The env var name carrying `role`'s password: upper case + "_PASSWORD",
// e.g. "supabase_auth_admin" -> "SUPABASE_AUTH_ADMIN_PASSWORD".
std::string PasswordEnvVar(std::string_view role);

// Env var (a decimal number of seconds) that becomes app.settings.jwt_exp.
inline constexpr std::string_view kJwtExpEnv = "JWT_EXP";
// psql variable holding it.
inline constexpr std::string_view kJwtExpPsqlVariable = "jwt_exp";

// Where the Job mounts the ConfigMap, and the file (= ConfigMap key) names inside it.
inline constexpr std::string_view kBootstrapMountPath = "/bootstrap";
inline constexpr std::string_view kBootstrapSqlFile = "bootstrap.sql";
inline constexpr std::string_view kBootstrapScriptFile = "bootstrap.sh";

// The bootstrap SQL, to be run by psql (it uses psql variables and \gexec) with ON_ERROR_STOP=1
// and every variable of LoginRoleSpecs() plus kJwtExpPsqlVariable set. Contains no secret.
std::string BootstrapSql();

// The POSIX sh script the Job container runs (`sh /bootstrap/bootstrap.sh`). It expects:
//   PGHOST, PGPORT (default 5432), PGDATABASE (default postgres), PGUSER (a superuser: postgres on
//   plain Postgres, supabase_admin on the supabase/postgres image), PGPASSWORD,
//   POSTGRES_PASSWORD, SUPABASE_ADMIN_PASSWORD, AUTHENTICATOR_PASSWORD,
//   SUPABASE_AUTH_ADMIN_PASSWORD, SUPABASE_STORAGE_ADMIN_PASSWORD, JWT_EXP,
//   optionally BOOTSTRAP_SQL (default /bootstrap/bootstrap.sql) and BOOTSTRAP_WAIT_SECONDS
//   (default 300).
// PGPASSWORD must come from the same db-credentials key as PGUSER's own *_PASSWORD variable: the
// run sets that role's password too, and the next run logs in with it. The db StatefulSet must
// therefore initialise its superuser with that same key.
// It fails fast (exit 2) naming a missing variable (never printing a value), waits for the server
// with pg_isready (exit 1 after BOOTSTRAP_WAIT_SECONDS), then runs
// `psql -X -w -v ON_ERROR_STOP=1 -f $BOOTSTRAP_SQL` once; its exit code is psql's (3: a statement
// failed). Passwords are not on psql's command line: the SQL reads them with \getenv.
std::string BootstrapScript();

}  // namespace kubabase::project
