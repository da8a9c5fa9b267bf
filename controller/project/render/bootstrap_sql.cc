// How the bootstrap is built: one psql script in a single transaction, in which every statement
// is either naturally idempotent (GRANT, ALTER ROLE ... SET, ALTER DEFAULT PRIVILEGES, CREATE ...
// IF NOT EXISTS) or guarded by a catalog lookup in a DO block. Facts about the supabase/postgres
// image come from its migrations/db (init-scripts and migrations); the password and jwt_exp
// statements follow supabase/supabase docker/volumes/db/roles.sql and jwt.sql.
#include "controller/project/render/bootstrap_sql.h"

#include <cctype>

#include "controller/project/components/component.h"

namespace kubabase::project {

namespace {

LoginRoleSpec MakeSpec(std::string role) {
  LoginRoleSpec spec;
  spec.password_env = PasswordEnvVar(role);
  spec.psql_variable = role + "_password";
  spec.role = std::move(role);
  return spec;
}

// psql meta-commands that fill each variable from its env var unless `-v` already set it.
// Nothing reaches the server here. \getenv needs psql >= 15.
std::string VariableSection() {
  std::string out =
      "-- Variables: given with psql -v, else read from the environment here (never from argv,\n"
      "-- where every process in the pod could read them). Checked in the transaction below.\n";
  auto add = [&out](std::string_view variable, std::string_view env) {
    std::string v(variable);
    out += "\\if :{?" + v + "}\n\\else\n\\getenv " + v + " " + std::string(env) + "\n\\endif\n";
    out += "\\if :{?" + v + "}\n\\else\n\\set " + v + " ''\n\\endif\n";
  };
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) add(spec.psql_variable, spec.password_env);
  add(kJwtExpPsqlVariable, kJwtExpEnv);
  return out;
}

std::string PasswordSection() {
  std::string out =
      "-- Passwords, every run, so a rotated Secret takes effect. Keep them out of the server log\n"
      "-- (statement, duration and pgaudit logging are off for the rest of this transaction), out\n"
      "-- of pg_stat_statements (which keeps utility statements' text verbatim in 15) and out of\n"
      "-- psql's error output (terse errors print no query text).\n"
      "SET LOCAL log_statement = 'none';\n"
      "SET LOCAL log_min_duration_statement = -1;\n"
      "SET LOCAL log_min_error_statement = 'panic';\n"
      "SET LOCAL pgaudit.log = 'none';\n"
      "SET LOCAL pg_stat_statements.track = 'none';\n"
      "SET LOCAL pg_stat_statements.track_utility = off;\n"
      "\\set VERBOSITY terse\n"
      "-- An empty password would silently clear the role's password; refuse it. Only names show.\n"
      "SELECT string_agg(name, ', ') AS bootstrap_invalid FROM (VALUES\n";
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) {
    out += "  ('" + spec.psql_variable + "', length(:'" + spec.psql_variable + "') = 0),\n";
  }
  std::string jwt_exp(kJwtExpPsqlVariable);
  out += "  ('" + jwt_exp + "', :'" + jwt_exp + "' !~ '^[0-9]+$')\n";
  out +=
      ") AS v(name, bad) WHERE bad \\gset\n"
      "\\if :{?bootstrap_invalid}\n"
      "\\warn 'kubabase bootstrap: missing, empty or invalid psql variables:' :bootstrap_invalid\n"
      "DO $$ BEGIN RAISE EXCEPTION 'kubabase bootstrap: missing, empty or invalid psql variables'; "
      "END $$;\n"
      "\\endif\n";
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) {
    out += "ALTER ROLE " + spec.role + " WITH PASSWORD :'" + spec.psql_variable + "';\n";
  }
  out += "\\set VERBOSITY default\n";
  return out;
}

// Everything that does not depend on a variable. The supabase/postgres image has most of it
// already; every statement tolerates that.
constexpr std::string_view kSchemaSection = R"sql(
-- Only a superuser can create roles with BYPASSRLS, change other superusers or revoke memberships.
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'kubabase bootstrap: PGUSER % is not a superuser (use postgres on plain '
                    'PostgreSQL, supabase_admin on the supabase/postgres image)', current_user;
  END IF;
END $$;

-- Roles. Existing roles keep attributes we do not state (the image gives its admins CREATEROLE;
-- we do not grant it on plain Postgres: in 15 it allows granting pg_* roles).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN
    -- As the supabase/postgres image demotes it: an owner of user data, not a superuser. Like
    -- the image's migrate.sh, it owns the database, hence (PG 15) the public schema.
    CREATE ROLE postgres LOGIN CREATEDB CREATEROLE REPLICATION BYPASSRLS;
    EXECUTE format('ALTER DATABASE %I OWNER TO postgres', current_database());
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_admin') THEN
    CREATE ROLE supabase_admin LOGIN SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN INHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN INHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN INHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
    CREATE ROLE authenticator LOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_auth_admin') THEN
    CREATE ROLE supabase_auth_admin LOGIN NOINHERIT NOREPLICATION;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supabase_storage_admin') THEN
    CREATE ROLE supabase_storage_admin LOGIN NOINHERIT NOREPLICATION;
  END IF;
END $$;

-- The attributes the services rely on, restated every run (the image created the API roles
-- NOINHERIT and switched them to INHERIT in a later migration).
ALTER ROLE postgres LOGIN;
ALTER ROLE supabase_admin LOGIN;
ALTER ROLE anon NOLOGIN INHERIT;
ALTER ROLE authenticated NOLOGIN INHERIT;
ALTER ROLE service_role NOLOGIN INHERIT BYPASSRLS;
ALTER ROLE authenticator LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS;
ALTER ROLE supabase_auth_admin LOGIN NOINHERIT NOSUPERUSER;
ALTER ROLE supabase_storage_admin LOGIN NOINHERIT NOSUPERUSER;

-- PostgREST switches from authenticator to the JWT's role; it must never reach a superuser (the
-- image's first migration made it a member of supabase_admin, a later one revoked that).
GRANT anon, authenticated, service_role TO authenticator;
DO $$
DECLARE
  admin text;
BEGIN
  FOR admin IN SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
               WHERE m.member = 'authenticator'::regrole
                 AND r.rolname IN ('supabase_admin', 'postgres') LOOP
    EXECUTE format('REVOKE %I FROM authenticator', admin);
  END LOOP;
  SELECT string_agg(r.rolname, ', ') INTO admin FROM pg_roles r
  WHERE r.rolsuper AND pg_has_role('authenticator', r.oid, 'MEMBER');
  IF admin IS NOT NULL THEN
    RAISE EXCEPTION 'kubabase bootstrap: authenticator can still become superuser %', admin;
  END IF;
END $$;
-- Storage switches roles the same way, through authenticator.
GRANT authenticator TO supabase_storage_admin;
-- postgres manages auth triggers and storage policies, and may act as the API roles.
GRANT anon, authenticated, service_role, supabase_auth_admin, supabase_storage_admin TO postgres;

ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
ALTER ROLE authenticator SET statement_timeout = '8s';
ALTER ROLE authenticator SET lock_timeout = '8s';
-- GoTrue and Storage run unqualified migrations (schema_migrations, migrations) in their schema.
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER ROLE supabase_storage_admin SET search_path = storage;
ALTER ROLE postgres SET search_path = "$user", public, extensions;

SELECT format('GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO postgres, supabase_auth_admin, '
              'supabase_storage_admin', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO authenticator', current_database()) \gexec

-- Schemas. Owners as on the image: supabase_admin, with the service admins holding ALL.
CREATE SCHEMA IF NOT EXISTS extensions AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS storage AUTHORIZATION supabase_admin;
CREATE SCHEMA IF NOT EXISTS graphql_public AUTHORIZATION supabase_admin;

GRANT USAGE ON SCHEMA public, extensions, auth, storage, graphql_public
  TO postgres, anon, authenticated, service_role;
-- Users' tables are created by postgres (dashboard, migrations), whoever owns public.
GRANT ALL ON SCHEMA public, extensions, auth, storage, graphql_public TO postgres;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;

-- Extensions where the server ships them (Debian's postgresql-15 does; a slim build may not).
DO $$
DECLARE
  ext text;
BEGIN
  FOREACH ext IN ARRAY ARRAY['uuid-ossp', 'pgcrypto'] LOOP
    IF EXISTS (SELECT FROM pg_available_extensions a WHERE a.name = ext) THEN
      EXECUTE format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA extensions', ext);
    END IF;
  END LOOP;
END $$;

-- Tables, functions and sequences that postgres or supabase_admin create in public (the
-- dashboard's and migrations' roles), or postgres in storage, are usable by the API roles; RLS
-- decides the rows.
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public
  GRANT ALL ON SEQUENCES TO postgres, anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA storage
  GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;

-- auth.uid(), auth.role(), auth.email(): the claims PostgREST (>= 9) puts in request.jwt.claims,
-- else the legacy per-claim settings. Created when missing or still legacy-only; GoTrue later
-- replaces them with CREATE OR REPLACE, which only the owner may do, hence supabase_auth_admin.
DO $do$
DECLARE
  fn record;
BEGIN
  FOR fn IN SELECT * FROM (VALUES ('uid', 'uuid', 'sub'), ('role', 'text', 'role'),
                                  ('email', 'text', 'email')) AS f(name, type, claim) LOOP
    IF NOT EXISTS (
        SELECT FROM pg_proc p
        WHERE p.pronamespace = 'auth'::regnamespace AND p.proname = fn.name AND p.pronargs = 0
          AND p.prosrc LIKE '%request.jwt.claims%') THEN
      EXECUTE format(
          $f$CREATE OR REPLACE FUNCTION auth.%I() RETURNS %s LANGUAGE sql STABLE AS $body$
               SELECT coalesce(
                 nullif(current_setting('request.jwt.claim.%s', true), ''),
                 nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> %L
               )::%s
             $body$$f$,
          fn.name, fn.type, fn.claim, fn.claim, fn.type);
    END IF;
    IF (SELECT p.proowner FROM pg_proc p
        WHERE p.pronamespace = 'auth'::regnamespace AND p.proname = fn.name AND p.pronargs = 0)
       <> 'supabase_auth_admin'::regrole THEN
      EXECUTE format('ALTER FUNCTION auth.%I() OWNER TO supabase_auth_admin', fn.name);
    END IF;
  END LOOP;
END $do$;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email()
  TO postgres, anon, authenticated, service_role;
)sql";

}  // namespace

const std::vector<LoginRoleSpec>& LoginRoleSpecs() {
  // The roles the components declare (components/component.h login_roles).
  static const std::vector<LoginRoleSpec>* const kSpecs = [] {
    auto* specs = new std::vector<LoginRoleSpec>;
    for (const std::string& role : AllLoginRoles()) specs->push_back(MakeSpec(role));
    return specs;
  }();
  return *kSpecs;
}

const std::vector<std::string>& LoginRoles() { return AllLoginRoles(); }

std::string PasswordEnvVar(std::string_view role) {
  std::string env;
  env.reserve(role.size() + 9);
  for (char c : role) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  env += "_PASSWORD";
  return env;
}

std::string BootstrapSql() {
  std::string sql =
      "-- kubabase database bootstrap. Rendered by the operator; run by the bootstrap Job as a\n"
      "-- superuser with psql >= 15. Idempotent: every run converges to the same state. Contains\n"
      "-- no secret: passwords arrive as psql variables at run time.\n"
      "\\set ON_ERROR_STOP 1\n"
      "\\set QUIET 1\n";
  sql += VariableSection();
  // One transaction: a failed run leaves the database as it was.
  sql += "BEGIN;\n";
  // Re-runs would otherwise print a NOTICE per existing object and membership.
  sql += "SET LOCAL client_min_messages = warning;\n";
  sql += kSchemaSection;
  sql += "\n";
  sql += PasswordSection();
  sql +=
      "\n-- Session lifetime for SQL that reads it; GoTrue has its own setting.\n"
      "SELECT format('ALTER DATABASE %I SET \"app.settings.jwt_exp\" TO %L', current_database(),\n"
      "              :'" + std::string(kJwtExpPsqlVariable) + "') \\gexec\n"
      "-- Never store the JWT secret in the database; drop one an older setup left behind.\n"
      "SELECT format('ALTER DATABASE %I RESET \"app.settings.jwt_secret\"', current_database())"
      " \\gexec\n"
      "COMMIT;\n";
  return sql;
}

std::string BootstrapScript() {
  std::string required;
  for (const char* name : {"PGHOST", "PGUSER", "PGPASSWORD"}) {
    required += ' ';
    required += name;
  }
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) required += ' ' + spec.password_env;
  required += ' ';
  required += kJwtExpEnv;

  std::string script =
      "#!/bin/sh\n"
      "# kubabase database bootstrap: waits for Postgres, then runs the bootstrap SQL once.\n"
      "# Env: PGHOST, PGPORT (5432), PGDATABASE (postgres), PGUSER (a superuser), PGPASSWORD,\n"
      "#      one <ROLE>_PASSWORD per login role, JWT_EXP (seconds); optional BOOTSTRAP_SQL\n"
      "#      (the SQL file) and BOOTSTRAP_WAIT_SECONDS (how long to wait for the server).\n"
      "# Passwords stay in the environment: psql reads them with \\getenv, so they never appear\n"
      "# in a command line. Exit: 0 done, 1 server not ready, 2 bad environment, else psql's.\n"
      "set -eu\n"
      "export PGPORT=\"${PGPORT:-5432}\"\n"
      "export PGDATABASE=\"${PGDATABASE:-postgres}\"\n"
      "export PGCONNECT_TIMEOUT=\"${PGCONNECT_TIMEOUT:-10}\"\n"
      "sql=\"${BOOTSTRAP_SQL:-";
  script += kBootstrapMountPath;
  script += '/';
  script += kBootstrapSqlFile;
  script +=
      "}\"\n"
      "wait_seconds=\"${BOOTSTRAP_WAIT_SECONDS:-300}\"\n"
      "missing=\"\"\n"
      "for name in";
  script += required;
  script +=
      "; do\n"
      "  eval \"value=\\${$name:-}\"\n"
      "  [ -n \"$value\" ] || missing=\"$missing $name\"\n"
      "done\n"
      "value=\"\"\n"
      "if [ -n \"$missing\" ]; then\n"
      "  echo \"bootstrap: missing or empty environment variables:$missing\" >&2\n"
      "  exit 2\n"
      "fi\n"
      "case \"$JWT_EXP\" in\n"
      "  *[!0-9]*) echo \"bootstrap: JWT_EXP must be a whole number of seconds\" >&2; exit 2 ;;\n"
      "esac\n"
      "case \"$wait_seconds\" in\n"
      "  ''|*[!0-9]*)\n"
      "    echo \"bootstrap: BOOTSTRAP_WAIT_SECONDS must be a whole number\" >&2\n"
      "    exit 2 ;;\n"
      "esac\n"
      "if [ ! -r \"$sql\" ]; then\n"
      "  echo \"bootstrap: cannot read $sql\" >&2\n"
      "  exit 2\n"
      "fi\n"
      "ready() {\n"
      "  if command -v pg_isready >/dev/null 2>&1; then\n"
      "    pg_isready -q -t 2\n"
      "  else\n"
      "    psql -X -q -w -c 'SELECT 1' >/dev/null 2>&1\n"
      "  fi\n"
      "}\n"
      "waited=0\n"
      "until ready; do\n"
      "  if [ \"$waited\" -ge \"$wait_seconds\" ]; then\n"
      "    echo \"bootstrap: $PGHOST:$PGPORT not ready after ${wait_seconds}s\" >&2\n"
      "    exit 1\n"
      "  fi\n"
      "  sleep 1\n"
      "  waited=$((waited + 1))\n"
      "done\n"
      "echo \"bootstrap: $PGHOST:$PGPORT is ready; running $sql as $PGUSER\"\n"
      "psql -X -w -v ON_ERROR_STOP=1 -f \"$sql\"\n"
      "echo \"bootstrap: done\"\n";
  return script;
}

}  // namespace kubabase::project
