// The database bootstrap, exactly as the operator renders it (BootstrapSql(), BootstrapScript()),
// run by the Job's script against a real PostgreSQL 15 started for the test, twice, then checked
// from the catalog and by logging in as the services do.
//
// Run: ctest -L database (or the binary itself). Needs Debian's postgresql-15; see
// postgres_server.h for how the server is found and started (also as root).
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/render/bootstrap_sql.h"
#include "tests/database/postgres_server.h"
#include "tests/database/subprocess.h"

namespace kubabase::project {
namespace {

using kubabase::testing::PostgresServer;
using kubabase::testing::Subprocess;

// Passwords with the characters that break naive quoting: quotes, backslash, a psql-variable-like
// colon, shell metacharacters and spaces.
std::map<std::string, std::string> FirstPasswords() {
  return {{"postgres", "pg-super 'one' \\ :x $HOME ;--"},
          {"supabase_admin", "admin-one\"'`echo pwned`"},
          {"authenticator", "authn-one:'authenticator_password'"},
          {"supabase_auth_admin", "gotrue-one $(id) \\\\"},
          {"supabase_storage_admin", "storage-one %s %L"}};
}

// The second run rotates every password but the superuser's: the Job logs in with that one, so
// the server must already know it.
std::map<std::string, std::string> SecondPasswords(const std::string& superuser) {
  std::map<std::string, std::string> passwords = FirstPasswords();
  for (auto& [role, password] : passwords) {
    if (role != superuser) password = "rotated-" + role + "-'two'";
  }
  return passwords;
}

constexpr char kJwtExp[] = "3600";
// Present in the Job's environment as if api-keys were mounted by mistake; it must still never
// reach the database, its log or the Job's output.
constexpr char kJwtSecret[] = "jwt-secret-that-must-stay-out-of-the-database-0123456789";
// What an older setup may have stored; the bootstrap removes it.
constexpr char kStaleSecret[] = "stale-jwt-secret-left-by-an-older-setup";

constexpr char kUserId[] = "6f1c1e2a-7b4d-4c55-9a1e-0d8c2b7e9f10";

std::string WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path);
  out << content;
  return path;
}

// The Job's environment: connection as the server's superuser, one password per login role,
// JWT_EXP.
Subprocess::Env JobEnv(const PostgresServer& server, const std::map<std::string, std::string>& pw,
                       const std::string& sql_path) {
  Subprocess::Env env = server.BaseEnv();
  env["PGHOST"] = "127.0.0.1";
  env["PGPORT"] = std::to_string(server.port());
  env["PGUSER"] = server.superuser();
  env["PGDATABASE"] = "postgres";
  env["PGPASSWORD"] = pw.at(server.superuser());
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) env[spec.password_env] = pw.at(spec.role);
  env[std::string(kJwtExpEnv)] = kJwtExp;
  env["JWT_SECRET"] = kJwtSecret;
  env["BOOTSTRAP_SQL"] = sql_path;
  env["BOOTSTRAP_WAIT_SECONDS"] = "30";
  return env;
}

// `sh bootstrap.sh`, as the Job's container runs it.
Subprocess::Result RunJob(const std::string& script_path, const Subprocess::Env& env) {
  return Subprocess::Run({"/bin/sh", script_path}, env, std::chrono::seconds(120));
}

// Everything the bootstrap decides, one sorted line per fact (passwords excluded: pg_roles hides
// them), so two runs can be compared.
constexpr char kCatalogSnapshot[] = R"sql(
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
  SELECT format('role %s super=%s inherit=%s login=%s bypassrls=%s createrole=%s config=%s',
                rolname, rolsuper, rolinherit, rolcanlogin, rolbypassrls, rolcreaterole, rolconfig)
  FROM pg_roles WHERE rolname !~ '^pg_'
  UNION ALL
  SELECT format('member %s of %s admin=%s', member::regrole, roleid::regrole, admin_option)
  FROM pg_auth_members
  UNION ALL
  SELECT format('schema %s owner=%s acl=%s', nspname, nspowner::regrole, nspacl) FROM pg_namespace
  UNION ALL
  SELECT format('default acl for %s in %s on %s: %s', defaclrole::regrole,
                defaclnamespace::regnamespace, defaclobjtype, defaclacl) FROM pg_default_acl
  UNION ALL
  SELECT format('database %s acl=%s', datname, datacl) FROM pg_database
  UNION ALL
  SELECT format('setting db=%s role=%s %s', setdatabase, setrole, setconfig)
  FROM pg_db_role_setting
  UNION ALL
  SELECT format('function %s owner=%s acl=%s body=%s', oid::regprocedure, proowner::regrole,
                proacl, md5(prosrc))
  FROM pg_proc WHERE pronamespace = 'auth'::regnamespace
  UNION ALL
  SELECT format('extension %s in %s', extname, extnamespace::regnamespace) FROM pg_extension
) AS facts(line))sql";

// The ways the server can come, and what differs in the outcome.
//
// The operator's StatefulSet makes supabase_admin the bootstrap superuser (POSTGRES_USER, as the
// supabase/postgres image does), so plain Postgres then has no `postgres` role until the
// bootstrap creates it.
struct SupabaseAdminIsSuperuser {
  static constexpr char kSuperuser[] = "supabase_admin";
  static constexpr char kSeed[] = "";
  static constexpr char kPostgresAttributes[] = "login=t super=f bypassrls=t";
  static constexpr char kServiceAdminsWithCreateRole[] = "0";
  static constexpr char kExtensionsOwner[] = "supabase_admin";
};

// A stock install: `postgres` is the superuser.
struct PostgresIsSuperuser {
  static constexpr char kSuperuser[] = "postgres";
  static constexpr char kSeed[] = "";
  static constexpr char kPostgresAttributes[] = "login=t super=t bypassrls=t";
  static constexpr char kServiceAdminsWithCreateRole[] = "0";
  static constexpr char kExtensionsOwner[] = "supabase_admin";
};

// What the supabase/postgres image has created before the bootstrap first runs (its init scripts
// and migrations, restated from their effects rather than run: they need extensions plain
// Postgres lacks). As there, the init scripts run as postgres, a superuser demoted at the end, so
// their grants carry postgres as grantor. Includes the older states the bootstrap must repair:
// API roles still NOINHERIT, authenticator still a member of supabase_admin, legacy auth
// functions.
struct SupabaseImageState {
  static constexpr char kSuperuser[] = "supabase_admin";
  static constexpr char kSeed[] = R"sql(
CREATE ROLE postgres SUPERUSER LOGIN;
ALTER DATABASE postgres OWNER TO postgres;
SET ROLE postgres;
CREATE SCHEMA extensions;
CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions;
CREATE EXTENSION pgcrypto WITH SCHEMA extensions;
CREATE ROLE anon NOLOGIN NOINHERIT;
CREATE ROLE authenticated NOLOGIN NOINHERIT;
CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated, service_role, supabase_admin TO authenticator;
GRANT USAGE ON SCHEMA public, extensions TO postgres, anon, authenticated, service_role;
ALTER ROLE anon SET statement_timeout = '3s';
ALTER ROLE authenticated SET statement_timeout = '8s';
CREATE SCHEMA auth AUTHORIZATION supabase_admin;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text);
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claim.role', true), '')::text $$;
CREATE FUNCTION auth.email() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claim.email', true), '')::text $$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
CREATE ROLE supabase_auth_admin LOGIN NOINHERIT CREATEROLE NOREPLICATION;
GRANT ALL ON SCHEMA auth TO supabase_auth_admin;
ALTER ROLE supabase_auth_admin SET search_path = auth;
ALTER TABLE auth.users OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.role() OWNER TO supabase_auth_admin;
ALTER FUNCTION auth.email() OWNER TO supabase_auth_admin;
CREATE SCHEMA storage AUTHORIZATION supabase_admin;
CREATE TABLE storage.buckets (id text PRIMARY KEY);
CREATE ROLE supabase_storage_admin LOGIN NOINHERIT CREATEROLE NOREPLICATION;
GRANT ALL ON SCHEMA storage TO supabase_storage_admin;
ALTER ROLE supabase_storage_admin SET search_path = storage;
ALTER TABLE storage.buckets OWNER TO supabase_storage_admin;
CREATE SCHEMA graphql_public AUTHORIZATION supabase_admin;
RESET ROLE;
ALTER ROLE postgres NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS;
)sql";
  static constexpr char kPostgresAttributes[] = "login=t super=f bypassrls=t";
  static constexpr char kServiceAdminsWithCreateRole[] = "2";  // the image's, left as found
  static constexpr char kExtensionsOwner[] = "postgres";
};

// One server per variant: initdb and two bootstrap runs take a few seconds, and every check below
// reads the state they leave.
template <typename Variant>
class BootstrapSqlTest : public ::testing::Test {
 protected:
  struct Shared {
    PostgresServer server;
    std::string setup_error;
    Subprocess::Result first_run;
    Subprocess::Result second_run;
    std::string snapshot_after_first;
    std::string snapshot_after_second;
  };

  static void SetUpTestSuite() {
    shared_ = new Shared;
    Shared& s = *shared_;
    s.setup_error = s.server.Start(kSuperuser, FirstPasswords().at(kSuperuser));
    if (!s.setup_error.empty()) return;
    // Records every statement's text from now on (track_utility is on by default).
    if (Subprocess::Result stats = s.server.Psql("CREATE EXTENSION pg_stat_statements");
        !stats.ok()) {
      s.setup_error = "pg_stat_statements: " + stats.Describe();
      return;
    }
    if (*Variant::kSeed != '\0') {
      Subprocess::Result seeded = s.server.Psql(Variant::kSeed);
      if (!seeded.ok()) {
        s.setup_error = "seeding failed: " + seeded.Describe();
        return;
      }
    }
    std::string sql = WriteFile(s.server.dir() + "/bootstrap.sql", BootstrapSql());
    std::string script = WriteFile(s.server.dir() + "/bootstrap.sh", BootstrapScript());

    s.first_run = RunJob(script, JobEnv(s.server, FirstPasswords(), sql));
    s.snapshot_after_first = s.server.Query(kCatalogSnapshot);
    // As an older self-hosted jwt.sql did; the next run must take it away.
    s.server.Query(std::string("ALTER DATABASE postgres SET \"app.settings.jwt_secret\" TO '") +
                   kStaleSecret + "'");
    s.second_run = RunJob(script, JobEnv(s.server, SecondPasswords(kSuperuser), sql));
    s.snapshot_after_second = s.server.Query(kCatalogSnapshot);
  }

  static void TearDownTestSuite() {
    std::string error = shared_->server.Stop();
    EXPECT_EQ(error, "");
    EXPECT_FALSE(shared_->server.PostmasterAlive());
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(shared_->setup_error, "") << "the server did not start"; }

  static const PostgresServer& server() { return shared_->server; }
  static std::string Query(const std::string& sql) { return shared_->server.Query(sql); }
  static Subprocess::Result As(const std::string& role, const std::string& sql) {
    return shared_->server.PsqlAs(role, SecondPasswords(kSuperuser).at(role), sql);
  }

  static constexpr const char* kSuperuser = Variant::kSuperuser;
  static inline Shared* shared_ = nullptr;
};

using Variants =
    ::testing::Types<SupabaseAdminIsSuperuser, PostgresIsSuperuser, SupabaseImageState>;
TYPED_TEST_SUITE(BootstrapSqlTest, Variants);

TYPED_TEST(BootstrapSqlTest, RunsTwiceAndTheSecondRunChangesNothing) {
  // The Job's output is safe to show: the no-secret test below proves it holds no password.
  const auto& shared = *TestFixture::shared_;
  EXPECT_EQ(shared.first_run.exit_code, 0) << shared.first_run.Describe();
  EXPECT_EQ(shared.second_run.exit_code, 0) << shared.second_run.Describe();
  ASSERT_NE(shared.snapshot_after_first.find("role authenticator"), std::string::npos);
  EXPECT_EQ(shared.snapshot_after_second, shared.snapshot_after_first);
}

TYPED_TEST(BootstrapSqlTest, ApiRolesCannotLogInAndOnlyServiceRoleBypassesRls) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s login=%s inherit=%s bypassrls=%s super=%s', "
                        "rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper), ' | ' ORDER BY "
                        "rolname) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', "
                        "'service_role')"),
            "anon login=f inherit=t bypassrls=f super=f | "
            "authenticated login=f inherit=t bypassrls=f super=f | "
            "service_role login=f inherit=t bypassrls=t super=f");
}

TYPED_TEST(BootstrapSqlTest, LoginRolesHaveTheAttributesTheServicesNeed) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s login=%s inherit=%s bypassrls=%s super=%s', "
                        "rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper), ' | ' ORDER BY "
                        "rolname) FROM pg_roles WHERE rolname IN ('authenticator', "
                        "'supabase_auth_admin', 'supabase_storage_admin', 'supabase_admin')"),
            "authenticator login=t inherit=f bypassrls=f super=f | "
            "supabase_admin login=t inherit=t bypassrls=t super=t | "
            "supabase_auth_admin login=t inherit=f bypassrls=f super=f | "
            "supabase_storage_admin login=t inherit=f bypassrls=f super=f");
  // Plain Postgres: the service admins get no CREATEROLE (in 15 it can hand out pg_* roles);
  // the image's own grant of it is left as found.
  EXPECT_EQ(this->Query("SELECT count(*) FROM pg_roles WHERE rolcreaterole AND rolname IN "
                        "('authenticator', 'supabase_auth_admin', 'supabase_storage_admin')"),
            TypeParam::kServiceAdminsWithCreateRole);
  // postgres: the bootstrap superuser of a stock install, else created as the image has it (an
  // owner of user data that bypasses RLS, no superuser).
  EXPECT_EQ(this->Query("SELECT format('login=%s super=%s bypassrls=%s', rolcanlogin, "
                        "rolsuper, rolbypassrls) FROM pg_roles WHERE rolname = 'postgres'"),
            TypeParam::kPostgresAttributes);
}

TYPED_TEST(BootstrapSqlTest, AuthenticatorIsAMemberOfTheApiRolesAndOfNoAdmin) {
  EXPECT_EQ(this->Query("SELECT string_agg(roleid::regrole::text, ',' "
                        "ORDER BY roleid::regrole::text) "
                        "FROM pg_auth_members WHERE member = 'authenticator'::regrole"),
            "anon,authenticated,service_role");
  EXPECT_EQ(this->Query("SELECT string_agg(r, ',' ORDER BY r) FROM unnest(ARRAY['supabase_admin', "
                        "'postgres', 'supabase_auth_admin', 'supabase_storage_admin']) AS r "
                        "WHERE pg_has_role('authenticator', r, 'MEMBER')"),
            "");
  EXPECT_EQ(this->Query("SELECT string_agg(roleid::regrole::text, ',' "
                        "ORDER BY roleid::regrole::text) "
                        "FROM pg_auth_members WHERE member = 'supabase_storage_admin'::regrole"),
            "authenticator");
}

TYPED_TEST(BootstrapSqlTest, RoleSettingsCarryTheTimeoutsAndSearchPaths) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s %s', rolname, rolconfig), ' | ' "
                        "ORDER BY rolname) "
                        "FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'authenticator', "
                        "'supabase_auth_admin', 'supabase_storage_admin')"),
            "anon {statement_timeout=3s} | authenticated {statement_timeout=8s} | "
            "authenticator {statement_timeout=8s,lock_timeout=8s} | "
            "supabase_auth_admin {search_path=auth} | "
            "supabase_storage_admin {search_path=storage}");
  // And they take effect at login.
  Subprocess::Result authenticator = this->As("authenticator", "SHOW statement_timeout");
  EXPECT_EQ(authenticator.out, "8s\n") << authenticator.error;
  Subprocess::Result auth_admin = this->As("supabase_auth_admin", "SHOW search_path");
  EXPECT_EQ(auth_admin.out, "auth\n") << auth_admin.error;
}

TYPED_TEST(BootstrapSqlTest, SchemasExistWithTheirOwnersAndExtensionsLiveInExtensions) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s:%s', nspname, nspowner::regrole), ' ' "
                        "ORDER BY nspname) FROM pg_namespace "
                        "WHERE nspname IN ('extensions', 'auth', 'storage', 'graphql_public')"),
            std::string("auth:supabase_admin extensions:") + TypeParam::kExtensionsOwner +
                " graphql_public:supabase_admin storage:supabase_admin");
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s:%s', extname, "
                        "extnamespace::regnamespace), ' ' "
                        "ORDER BY extname) FROM pg_extension WHERE extname NOT IN "
                        "('plpgsql', 'pg_stat_statements')"),
            "pgcrypto:extensions uuid-ossp:extensions");
}

TYPED_TEST(BootstrapSqlTest, ServiceAdminsMayCreateInTheirOwnSchemaAndInTheDatabaseOnly) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s %s db=%s auth=%s storage=%s public=%s', r, "
                        "'create', has_database_privilege(r, current_database(), 'CREATE'), "
                        "has_schema_privilege(r, 'auth', 'CREATE'), "
                        "has_schema_privilege(r, 'storage', 'CREATE'), "
                        "has_schema_privilege(r, 'public', 'CREATE')), ' | ' ORDER BY r) "
                        "FROM unnest(ARRAY['supabase_auth_admin', 'supabase_storage_admin']) AS r"),
            "supabase_auth_admin create db=t auth=t storage=f public=f | "
            "supabase_storage_admin create db=t auth=f storage=t public=f");
}

TYPED_TEST(BootstrapSqlTest, ApiRolesMayUseTheApiSchemasButCreateNothing) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s usage=%s create=%s', r, "
                        "bool_and_usage, bool_or_create), ' | ' ORDER BY r) FROM ("
                        "  SELECT r,"
                        "         bool_and(has_schema_privilege(r, s, 'USAGE')) AS bool_and_usage,"
                        "         bool_or(has_schema_privilege(r, s, 'CREATE')) AS bool_or_create"
                        "  FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r,"
                        "       unnest(ARRAY['public', 'extensions', 'auth', 'storage', "
                        "'graphql_public']) AS s GROUP BY r) AS p"),
            "anon usage=t create=f | authenticated usage=t create=f | "
            "service_role usage=t create=f");
}

TYPED_TEST(BootstrapSqlTest, TablesThatPostgresOrSupabaseAdminCreateAreGrantedToTheApiRoles) {
  this->Query(
      "SET ROLE postgres; CREATE TABLE public.kubabase_todos_by_postgres (id serial PRIMARY KEY)");
  this->Query("SET ROLE supabase_admin; CREATE TABLE public.kubabase_todos_by_admin (id int)");
  this->Query("SET ROLE postgres; CREATE TABLE storage.kubabase_objects_by_postgres (id int)");
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s %s %s', t, r, "
                        "has_table_privilege(r, t, 'SELECT,INSERT,UPDATE,DELETE')), ' | ' "
                        "ORDER BY t, r) "
                        "FROM unnest(ARRAY['public.kubabase_todos_by_postgres', "
                        "'public.kubabase_todos_by_admin', "
                        "'storage.kubabase_objects_by_postgres']) AS t,"
                        " unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r"),
            "public.kubabase_todos_by_admin anon t | "
            "public.kubabase_todos_by_admin authenticated t | "
            "public.kubabase_todos_by_admin service_role t | "
            "public.kubabase_todos_by_postgres anon t | "
            "public.kubabase_todos_by_postgres authenticated t | "
            "public.kubabase_todos_by_postgres service_role t | "
            "storage.kubabase_objects_by_postgres anon t | "
            "storage.kubabase_objects_by_postgres authenticated t | "
            "storage.kubabase_objects_by_postgres service_role t");
  EXPECT_EQ(this->Query("SELECT has_sequence_privilege('anon', "
                        "'public.kubabase_todos_by_postgres_id_seq', 'USAGE')"),
            "t");
  // A table created by someone else (here the auth admin in its schema) is not granted.
  EXPECT_EQ(this->Query("SET ROLE supabase_auth_admin; "
                        "CREATE TABLE auth.kubabase_private (id int); "
                        "RESET ROLE; SELECT has_table_privilege('anon', 'auth.kubabase_private', "
                        "'SELECT')"),
            "f");
  this->Query("DROP TABLE public.kubabase_todos_by_postgres, public.kubabase_todos_by_admin, "
              "storage.kubabase_objects_by_postgres, auth.kubabase_private");
}

TYPED_TEST(BootstrapSqlTest, AuthenticatorLogsInOverTcpAndSwitchesToEachApiRole) {
  Subprocess::Result result =
      this->As("authenticator",
               "SELECT current_user; SET ROLE anon; SELECT current_user; SET ROLE authenticated; "
               "SELECT current_user; SET ROLE service_role; SELECT current_user");
  EXPECT_EQ(result.exit_code, 0) << result.error << result.err;
  EXPECT_EQ(result.out, "authenticator\nanon\nauthenticated\nservice_role\n");
}

TYPED_TEST(BootstrapSqlTest, AuthenticatorCannotBecomeAnAdmin) {
  for (const char* admin : {"supabase_admin", "postgres", "supabase_auth_admin",
                            "supabase_storage_admin"}) {
    Subprocess::Result result = this->As("authenticator", std::string("SET ROLE ") + admin);
    EXPECT_NE(result.exit_code, 0) << admin;
    EXPECT_NE(result.err.find("permission denied to set role"), std::string::npos)
        << admin << ": " << result.err;
  }
}

TYPED_TEST(BootstrapSqlTest, EveryRunSetsEveryLoginRolesPassword) {
  for (const std::string& role : LoginRoles()) {
    Subprocess::Result current = this->As(role, "SELECT current_user");
    EXPECT_EQ(current.out, role + "\n") << role << ": " << current.error << current.err;
    if (role == TestFixture::kSuperuser) continue;  // not rotated: the Job logs in with it
    Subprocess::Result old =
        this->server().PsqlAs(role, FirstPasswords().at(role), "SELECT current_user");
    EXPECT_NE(old.exit_code, 0) << role << " still accepts the first run's password";
    EXPECT_NE(old.err.find("password authentication failed"), std::string::npos) << old.err;
  }
}

TYPED_TEST(BootstrapSqlTest, StorageAdminSwitchesToTheApiRolesThroughAuthenticator) {
  Subprocess::Result result =
      this->As("supabase_storage_admin",
               "SET ROLE service_role; SELECT current_user; SET ROLE anon; SELECT current_user");
  EXPECT_EQ(result.out, "service_role\nanon\n") << result.error << result.err;
}

TYPED_TEST(BootstrapSqlTest, AuthUidRoleAndEmailReadTheRequestJwtClaims) {
  Subprocess::Result result = this->As(
      "authenticator",
      std::string("BEGIN; SET LOCAL ROLE authenticated; "
                  "SELECT set_config('request.jwt.claims', '{\"sub\":\"") +
          kUserId +
          "\",\"role\":\"authenticated\",\"email\":\"ada@example.com\"}', true) <> '' AS set; "
          "SELECT auth.uid(), auth.role(), auth.email(); COMMIT");
  EXPECT_EQ(result.out, std::string("t\n") + kUserId + "|authenticated|ada@example.com\n")
      << result.error << result.err;

  // The per-claim settings of PostgREST < 9 still work.
  Subprocess::Result legacy =
      this->As("authenticator", std::string("BEGIN; SET LOCAL ROLE anon; SELECT set_config("
               "'request.jwt.claim.sub', '") +
                              kUserId + "', true) <> ''; SELECT auth.uid(); COMMIT");
  EXPECT_EQ(legacy.out, std::string("t\n") + kUserId + "\n") << legacy.error << legacy.err;

  // No JWT, no user.
  Subprocess::Result anonymous =
      this->As("authenticator", "SET ROLE anon; SELECT auth.uid() IS NULL");
  EXPECT_EQ(anonymous.out, "t\n") << anonymous.error << anonymous.err;
}

TYPED_TEST(BootstrapSqlTest, AuthFunctionsBelongToTheAuthAdminSoGoTrueMayReplaceThem) {
  EXPECT_EQ(this->Query("SELECT string_agg(format('%s:%s', proname, proowner::regrole), ' ' "
                        "ORDER BY "
                        "proname) FROM pg_proc WHERE pronamespace = 'auth'::regnamespace"),
            "email:supabase_auth_admin role:supabase_auth_admin uid:supabase_auth_admin");
  // What GoTrue's migrations do at start (rolled back: other tests read the original).
  Subprocess::Result replace =
      this->As("supabase_auth_admin",
               "BEGIN; CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS "
               "$$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$; "
               "ROLLBACK");
  EXPECT_EQ(replace.exit_code, 0) << replace.error << replace.err;
}

TYPED_TEST(BootstrapSqlTest, JwtExpIsSetAndNoJwtSecretIsStored) {
  EXPECT_EQ(this->Query("SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting "
                        "WHERE setdatabase = "
                        "(SELECT oid FROM pg_database WHERE datname = 'postgres') "
                        "AND setrole = 0"),
            std::string("app.settings.jwt_exp=") + kJwtExp);
  Subprocess::Result seen =
      this->As("authenticator",
               "SELECT current_setting('app.settings.jwt_exp'), "
               "coalesce(current_setting('app.settings.jwt_secret', true), '')");
  EXPECT_EQ(seen.out, std::string(kJwtExp) + "|\n") << seen.error << seen.err;
  // Every database and role setting; compared here, not in SQL, so the test itself never sends
  // the secret to the server (whose log another test searches for it).
  std::string settings = this->Query("SELECT string_agg(c, E'\\n') FROM pg_db_role_setting, "
                                     "unnest(setconfig) AS c");
  EXPECT_NE(settings.find("app.settings.jwt_exp"), std::string::npos) << settings;
  EXPECT_EQ(settings.find("secret"), std::string::npos) << settings;
  EXPECT_EQ(settings.find(kJwtSecret), std::string::npos);
  EXPECT_EQ(settings.find(kStaleSecret), std::string::npos);
}

TYPED_TEST(BootstrapSqlTest, NoSecretReachesTheServerLogOrTheJobOutput) {
  std::string log = this->server().ServerLog();
  std::string statements = this->Query("SELECT string_agg(query, E'\\n') FROM pg_stat_statements");
  ASSERT_NE(statements.find("CREATE SCHEMA IF NOT EXISTS auth"), std::string::npos)
      << "pg_stat_statements records nothing; this test would prove nothing";
  // The server logs every statement, so a password sent in the clear would be found here.
  ASSERT_NE(log.find("CREATE SCHEMA IF NOT EXISTS auth"), std::string::npos)
      << "statement logging is off; this test would prove nothing";
  std::vector<std::string> secrets = {kJwtSecret};
  for (const auto& [role, password] : FirstPasswords()) secrets.push_back(password);
  for (const auto& [role, password] : SecondPasswords(TestFixture::kSuperuser)) {
    secrets.push_back(password);
  }
  for (const std::string& secret : secrets) {
    size_t at = log.find(secret);
    EXPECT_EQ(at, std::string::npos)
        << "the server log holds a secret near: "
        << log.substr(at == std::string::npos ? 0 : (at > 200 ? at - 200 : 0), 200);
    EXPECT_EQ(statements.find(secret), std::string::npos) << "pg_stat_statements holds a secret";
    for (const Subprocess::Result* run :
         {&TestFixture::shared_->first_run, &TestFixture::shared_->second_run}) {
      EXPECT_EQ(run->out.find(secret), std::string::npos) << "the Job's stdout holds a secret";
      EXPECT_EQ(run->err.find(secret), std::string::npos) << "the Job's stderr holds a secret";
    }
  }
  EXPECT_EQ(BootstrapSql().find("rotated-"), std::string::npos);
}

// Failures: each run must exit non-zero and leave the database as it was. A server of their own,
// since a wrongly committed run would otherwise pollute the suite above.
class BootstrapFailureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new PostgresServer;
    // As the operator renders it: supabase_admin is the server's superuser and the Job's PGUSER.
    setup_error_ = new std::string(
        server_->Start("supabase_admin", FirstPasswords().at("supabase_admin")));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), "");
    EXPECT_FALSE(server_->PostmasterAlive());
    delete server_;
    delete setup_error_;
  }
  void SetUp() override { ASSERT_EQ(*setup_error_, "") << "the server did not start"; }

  // Nothing of the bootstrap is in the database.
  static void ExpectUntouched() {
    EXPECT_EQ(server_->Query("SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', "
                             "'authenticator', 'postgres', 'supabase_auth_admin')"),
              "0");
    EXPECT_EQ(server_->Query("SELECT count(*) FROM pg_namespace WHERE nspname IN ('auth', "
                             "'storage', 'extensions')"),
              "0");
  }

  static PostgresServer* server_;
  static std::string* setup_error_;
};

PostgresServer* BootstrapFailureTest::server_ = nullptr;
std::string* BootstrapFailureTest::setup_error_ = nullptr;

TEST_F(BootstrapFailureTest, ABrokenStatementFailsTheRunAndRollsEverythingBack) {
  std::string sql = BootstrapSql();
  size_t commit = sql.rfind("COMMIT;");
  ASSERT_NE(commit, std::string::npos);
  sql.insert(commit, "SELECT kubabase_no_such_function();\n");
  std::string sql_path = WriteFile(server_->dir() + "/broken.sql", sql);
  std::string script = WriteFile(server_->dir() + "/bootstrap.sh", BootstrapScript());

  Subprocess::Result run = RunJob(script, JobEnv(*server_, FirstPasswords(), sql_path));
  EXPECT_EQ(run.exit_code, 3) << "psql's exit code for a failed statement";
  EXPECT_NE(run.err.find("kubabase_no_such_function"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("bootstrap: done"), std::string::npos);
  ExpectUntouched();
}

TEST_F(BootstrapFailureTest, AMissingPasswordStopsTheScriptBeforeItConnects) {
  std::string sql_path = WriteFile(server_->dir() + "/bootstrap.sql", BootstrapSql());
  std::string script = WriteFile(server_->dir() + "/bootstrap.sh", BootstrapScript());
  Subprocess::Env env = JobEnv(*server_, FirstPasswords(), sql_path);
  env.erase("AUTHENTICATOR_PASSWORD");
  env["SUPABASE_AUTH_ADMIN_PASSWORD"] = "";

  Subprocess::Result run = RunJob(script, env);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("AUTHENTICATOR_PASSWORD SUPABASE_AUTH_ADMIN_PASSWORD"),
            std::string::npos)
      << run.err;
  ExpectUntouched();
}

TEST_F(BootstrapFailureTest, AnEmptyPsqlVariableFailsTheRunAndShowsOnlyItsName) {
  // Run psql on the SQL directly (without the script's checks), one variable given empty.
  std::string sql_path = WriteFile(server_->dir() + "/bootstrap.sql", BootstrapSql());
  Subprocess::Env env = JobEnv(*server_, FirstPasswords(), sql_path);
  Subprocess::Result run =
      Subprocess::Run({"psql", "-X", "-w", "-v", "ON_ERROR_STOP=1", "-v",
                       "supabase_storage_admin_password=", "-f", sql_path},
                      env);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_NE(run.err.find("supabase_storage_admin_password"), std::string::npos) << run.err;
  for (const auto& [role, password] : FirstPasswords()) {
    EXPECT_EQ(run.err.find(password), std::string::npos) << "stderr shows " << role << "'s";
  }
  ExpectUntouched();
}

TEST_F(BootstrapFailureTest, ANonNumericJwtExpIsRejected) {
  std::string sql_path = WriteFile(server_->dir() + "/bootstrap.sql", BootstrapSql());
  std::string script = WriteFile(server_->dir() + "/bootstrap.sh", BootstrapScript());
  Subprocess::Env env = JobEnv(*server_, FirstPasswords(), sql_path);
  env["JWT_EXP"] = "1h";
  Subprocess::Result run = RunJob(script, env);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("JWT_EXP"), std::string::npos) << run.err;
  ExpectUntouched();
}

TEST_F(BootstrapFailureTest, TheScriptGivesUpWhenNoServerAnswers) {
  std::string sql_path = WriteFile(server_->dir() + "/bootstrap.sql", BootstrapSql());
  std::string script = WriteFile(server_->dir() + "/bootstrap.sh", BootstrapScript());
  Subprocess::Env env = JobEnv(*server_, FirstPasswords(), sql_path);
  env["PGPORT"] = "1";  // privileged and unused: connection refused at once
  env["BOOTSTRAP_WAIT_SECONDS"] = "2";
  Subprocess::Result run = RunJob(script, env);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("not ready after 2s"), std::string::npos) << run.err;
}

TEST(PostgresServerTest, StopLeavesNoProcessAndNoFilesBehind) {
  PostgresServer server;
  ASSERT_EQ(server.Start("postgres", "pw"), "");
  std::string dir = server.dir();
  ASSERT_TRUE(server.PostmasterAlive());
  EXPECT_EQ(server.Stop(), "");
  EXPECT_FALSE(server.PostmasterAlive());
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace kubabase::project
