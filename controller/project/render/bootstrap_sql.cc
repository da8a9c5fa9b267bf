// How the bootstrap is built: one psql script in a single transaction: the variables and password
// statements built here, and between them each component's fragment (components/sql/<key>.sql,
// embedded at build time), in which every statement
// is either naturally idempotent (GRANT, ALTER ROLE ... SET, ALTER DEFAULT PRIVILEGES, CREATE ...
// IF NOT EXISTS) or guarded by a catalog lookup in a DO block. Facts about the supabase/postgres
// image come from its migrations/db (init-scripts and migrations); the password and jwt_exp
// statements follow supabase/supabase docker/volumes/db/roles.sql and jwt.sql.
#include "controller/project/render/bootstrap_sql.h"

#include <cctype>

#include "controller/project/components/components.h"
#include "controller/project/render/bootstrap.sh.h"

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
  // What each component needs, in registry order (the database's roles first). None depends on
  // a variable; the supabase/postgres image has most of it already, and every statement
  // tolerates that.
  for (const ComponentDef* def : Components()) {
    if (def->bootstrap_sql.empty()) continue;
    sql += "\n";
    sql += def->bootstrap_sql;
  }
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
  std::string required = "PGHOST PGUSER PGPASSWORD";
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) required += " " + spec.password_env;
  required += " ";
  required += kJwtExpEnv;
  std::string sql_path(kBootstrapMountPath);
  sql_path += "/";
  sql_path += kBootstrapSqlFile;
  // render/bootstrap.sh, with its two placeholders filled.
  std::string script(embedded::bootstrap_sh);
  for (const auto& [placeholder, value] :
       {std::pair<std::string_view, std::string_view>{"@REQUIRED_ENV@", required},
        {"@BOOTSTRAP_SQL@", sql_path}}) {
    const size_t at = script.find(placeholder);
    if (at != std::string::npos) script.replace(at, placeholder.size(), value);
  }
  return script;
}

}  // namespace kubabase::project
