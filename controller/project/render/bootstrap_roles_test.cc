// The names bootstrap_sql.h exposes are stored state: db-credentials of existing projects are keyed
// by role, and rendered Jobs carry the env names. These tests pin them, and check that the SQL and
// the script use every one and carry no value. What the SQL does is proven against a real
// PostgreSQL 15 in tests/database/bootstrap_sql_test.cc.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/render/bootstrap_sql.h"

namespace kubabase::project {
namespace {

TEST(BootstrapRolesTest, LoginRolesAreTheFiveServiceAndAdminRolesInAFixedOrder) {
  EXPECT_EQ(LoginRoles(), (std::vector<std::string>{"postgres", "supabase_admin", "authenticator",
                                                    "supabase_auth_admin",
                                                    "supabase_storage_admin"}));
  ASSERT_EQ(LoginRoleSpecs().size(), LoginRoles().size());
  for (size_t i = 0; i < LoginRoles().size(); ++i) {
    EXPECT_EQ(LoginRoleSpecs()[i].role, LoginRoles()[i]);
  }
}

TEST(BootstrapRolesTest, EachRoleHasAnUpperCasePasswordEnvAndALowerCasePsqlVariable) {
  EXPECT_EQ(PasswordEnvVar("supabase_auth_admin"), "SUPABASE_AUTH_ADMIN_PASSWORD");
  EXPECT_EQ(PasswordEnvVar("postgres"), "POSTGRES_PASSWORD");
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) {
    EXPECT_EQ(spec.password_env, PasswordEnvVar(spec.role));
    EXPECT_EQ(spec.psql_variable, spec.role + "_password");
  }
}

TEST(BootstrapRolesTest, TheSqlSetsEveryPasswordFromItsVariableAndReadsItFromItsEnv) {
  const std::string sql = BootstrapSql();
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) {
    EXPECT_NE(sql.find("ALTER ROLE " + spec.role + " WITH PASSWORD :'" + spec.psql_variable + "';"),
              std::string::npos)
        << spec.role;
    EXPECT_NE(sql.find("\\getenv " + spec.psql_variable + " " + spec.password_env),
              std::string::npos)
        << spec.role;
  }
  EXPECT_NE(sql.find("\\getenv jwt_exp JWT_EXP"), std::string::npos);
}

TEST(BootstrapRolesTest, TheSqlHoldsNoPasswordLiteralAndNeverStoresTheJwtSecret) {
  const std::string sql = BootstrapSql();
  EXPECT_EQ(sql.find("PASSWORD '"), std::string::npos);
  EXPECT_EQ(sql.find("JWT_SECRET"), std::string::npos);
  EXPECT_EQ(sql.find(" SET \"app.settings.jwt_secret\""), std::string::npos);  // RESET is fine
  EXPECT_NE(sql.find("RESET \"app.settings.jwt_secret\""), std::string::npos);
}

TEST(BootstrapRolesTest, TheScriptRequiresEveryEnvAndKeepsPasswordsOffPsqlsCommandLine) {
  const std::string script = BootstrapScript();
  for (const LoginRoleSpec& spec : LoginRoleSpecs()) {
    EXPECT_NE(script.find(" " + spec.password_env), std::string::npos) << spec.password_env;
    EXPECT_EQ(script.find("$" + spec.password_env), std::string::npos) << spec.password_env;
    EXPECT_EQ(script.find("${" + spec.password_env), std::string::npos) << spec.password_env;
  }
  EXPECT_NE(script.find("psql -X -w -v ON_ERROR_STOP=1 -f \"$sql\""), std::string::npos);
  EXPECT_NE(script.find(std::string(kBootstrapMountPath) + "/" + std::string(kBootstrapSqlFile)),
            std::string::npos);
}

}  // namespace
}  // namespace kubabase::project
