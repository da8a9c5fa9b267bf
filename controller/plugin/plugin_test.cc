#include "controller/plugin/plugin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/project/keys.h"

namespace kubabase::plugin {
namespace {

using kube::Json;
using ::testing::HasSubstr;
using ::testing::Not;

Json KeysSecret(bool with_service_role = true) {
  Json data = {{"SUPABASE_URL", project::Base64Encode("https://demo.example.com")},
               {"ANON_KEY", project::Base64Encode("anon.jwt.sig")},
               {"JWT_SECRET", project::Base64Encode("super-secret-jwt-secret-of-forty-characters")}};
  if (with_service_role) data["SERVICE_ROLE_KEY"] = project::Base64Encode("service.jwt.sig");
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"data", data}};
}

TEST(ParseArgsTest, ReadsCommandProjectAndFlagsInAnyOrder) {
  StatusOr<Invocation> got =
      ParseArgs({"--context", "kind-a", "keys", "shop", "-o", "json", "--service-role",
                 "--kubeconfig=/tmp/kc"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->command, Command::kKeys);
  EXPECT_EQ(got->project, "shop");
  EXPECT_EQ(got->format, KeysFormat::kJson);
  EXPECT_TRUE(got->service_role);
  EXPECT_EQ(got->kubeconfig, "/tmp/kc");
  EXPECT_EQ(got->context, "kind-a");
}

TEST(ParseArgsTest, DefaultsToEnvOutputWithoutTheServiceRoleKey) {
  StatusOr<Invocation> got = ParseArgs({"keys", "shop"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->format, KeysFormat::kEnv);
  EXPECT_FALSE(got->service_role);
}

TEST(ParseArgsTest, AcceptsEachCommand) {
  EXPECT_EQ(ParseArgs({"status", "p"})->command, Command::kStatus);
  EXPECT_EQ(ParseArgs({"pause", "p"})->command, Command::kPause);
  EXPECT_EQ(ParseArgs({"resume", "p"})->command, Command::kResume);
  EXPECT_EQ(ParseArgs({"--help"})->command, Command::kHelp);
  EXPECT_EQ(ParseArgs({"status", "-h"})->command, Command::kHelp);
}

TEST(ParseArgsTest, RejectsNonsenseNamingTheWord) {
  EXPECT_THAT(ParseArgs({}).status().message(), HasSubstr("missing command"));
  EXPECT_THAT(ParseArgs({"delete", "p"}).status().message(), HasSubstr("\"delete\""));
  EXPECT_THAT(ParseArgs({"status"}).status().message(), HasSubstr("exactly one project"));
  EXPECT_THAT(ParseArgs({"status", "a", "b"}).status().message(), HasSubstr("exactly one project"));
  EXPECT_THAT(ParseArgs({"keys", "p", "-o", "yaml"}).status().message(), HasSubstr("\"yaml\""));
  EXPECT_THAT(ParseArgs({"keys", "p", "--verbose"}).status().message(), HasSubstr("--verbose"));
  EXPECT_THAT(ParseArgs({"keys", "p", "--context"}).status().message(), HasSubstr("needs a value"));
}

TEST(FormatKeysTest, EnvOutputIsShellQuotedExportsWithoutTheServiceRoleKey) {
  StatusOr<std::string> got = FormatKeys(KeysSecret(), KeysFormat::kEnv, false);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got,
            "export SUPABASE_URL='https://demo.example.com'\n"
            "export SUPABASE_ANON_KEY='anon.jwt.sig'\n");
}

TEST(FormatKeysTest, DotenvOutputCarriesTheServiceRoleKeyOnlyWhenAsked) {
  StatusOr<std::string> got = FormatKeys(KeysSecret(), KeysFormat::kDotenv, true);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got,
            "SUPABASE_URL=\"https://demo.example.com\"\n"
            "SUPABASE_ANON_KEY=\"anon.jwt.sig\"\n"
            "SUPABASE_SERVICE_ROLE_KEY=\"service.jwt.sig\"\n");
}

TEST(FormatKeysTest, JsonOutputIsAnObjectOfTheKeys) {
  StatusOr<std::string> got = FormatKeys(KeysSecret(), KeysFormat::kJson, false);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(Json::parse(*got),
            (Json{{"SUPABASE_URL", "https://demo.example.com"}, {"SUPABASE_ANON_KEY", "anon.jwt.sig"}}));
}

TEST(FormatKeysTest, NeverPrintsTheJwtSecret) {
  for (KeysFormat format : {KeysFormat::kEnv, KeysFormat::kDotenv, KeysFormat::kJson}) {
    EXPECT_THAT(*FormatKeys(KeysSecret(), format, true), Not(HasSubstr("super-secret")));
  }
}

TEST(FormatKeysTest, QuotesASingleQuoteSoEvalCannotBreakOut) {
  Json secret = KeysSecret();
  secret["data"]["SUPABASE_URL"] = project::Base64Encode("https://x/'; rm -rf /; '");
  EXPECT_THAT(*FormatKeys(secret, KeysFormat::kEnv, false),
              HasSubstr("export SUPABASE_URL='https://x/'\\''; rm -rf /; '\\'''\n"));
}

TEST(FormatKeysTest, AMissingKeyIsAPreconditionNamingTheKey) {
  StatusOr<std::string> got = FormatKeys(KeysSecret(false), KeysFormat::kEnv, true);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), HasSubstr("SERVICE_ROLE_KEY"));
  EXPECT_FALSE(FormatKeys(Json{{"data", Json::object()}}, KeysFormat::kEnv, false).ok());
  EXPECT_FALSE(FormatKeys(Json::object(), KeysFormat::kEnv, false).ok());
}

TEST(FormatKeysTest, ABadValueIsReportedWithoutTheValue) {
  Json secret = KeysSecret();
  secret["data"]["ANON_KEY"] = "not base64 at all!";
  StatusOr<std::string> got = FormatKeys(secret, KeysFormat::kEnv, false);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("ANON_KEY"));
  EXPECT_THAT(got.status().message(), Not(HasSubstr("not base64 at all")));
}

TEST(FormatStatusTest, ShowsPhaseEndpointsComponentsAndConditions) {
  Json project = {
      {"metadata", {{"name", "shop"}, {"generation", 3}}},
      {"spec", {{"paused", false}}},
      {"status",
       {{"observedGeneration", 3},
        {"phase", "Ready"},
        {"namespace", "project-shop"},
        {"keysSecret", {{"namespace", "project-shop"}, {"name", "api-keys"}}},
        {"endpoints", {{"api", "https://shop.example.com"}, {"rest", "https://shop.example.com/rest/v1"}}},
        {"components", {{"database", {{"desired", 1}, {"ready", 1}, {"image", "supabase/postgres:15"}}}}},
        {"conditions",
         Json::array({{{"type", "Ready"}, {"status", "True"}, {"reason", "AllComponentsReady"},
                       {"message", "all ready"}}})}}}};
  std::string text = FormatStatus(project);
  EXPECT_THAT(text, HasSubstr("Phase:       Ready\n"));
  EXPECT_THAT(text, HasSubstr("Generation:  3 (observed 3)\n"));
  EXPECT_THAT(text, HasSubstr("Secret project-shop/api-keys"));
  EXPECT_THAT(text, HasSubstr("api      https://shop.example.com\n"));
  EXPECT_THAT(text, HasSubstr("auth     -\n"));
  EXPECT_THAT(text, HasSubstr("database  1/1     supabase/postgres:15\n"));
  EXPECT_THAT(text, HasSubstr("Ready         True     AllComponentsReady      all ready\n"));
}

TEST(FormatStatusTest, AProjectWithoutStatusPrintsDashesAndSaysTheOperatorLags) {
  std::string text =
      FormatStatus(Json{{"metadata", {{"name", "new"}, {"generation", 1}}}, {"spec", {{"paused", true}}}});
  EXPECT_THAT(text, HasSubstr("Phase:       - (spec.paused)\n"));
  EXPECT_THAT(text, HasSubstr("not caught up"));
  EXPECT_THAT(text, HasSubstr("Conditions:\n  -\n"));
}

}  // namespace
}  // namespace kubabase::plugin
