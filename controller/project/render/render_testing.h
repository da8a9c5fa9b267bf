// Test-only helpers shared by render/*_test.cc: fixed keys, fixture loading, and lookups in a
// rendered object list. Header-only so that each test executable stays one .cc file.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/project.h"
#include "controller/project/render/bootstrap_sql.h"
#include "controller/project/render/render.h"

namespace kubabase::project::testing {

// Fixed, recognisable values: a test can search rendered output for them.
inline Keys FixedKeys() {
  Keys keys;
  for (const std::string& role : LoginRoles()) keys.db_credentials[role] = "pw-" + role + "-0123456789";
  keys.api_keys["JWT_SECRET"] = "jwt-secret-0123456789-0123456789-0123456789-0123456789";
  keys.api_keys["ANON_KEY"] = "anon-key-jwt";
  keys.api_keys["SERVICE_ROLE_KEY"] = "service-role-key-jwt";
  keys.api_keys["SUPABASE_URL"] = "http://example.invalid";
  return keys;
}

inline UserSecrets FixedUserSecrets() {
  UserSecrets secrets;
  secrets.copies["s3-credentials"] = {{"AWS_ACCESS_KEY_ID", "s3-access-key-id"},
                                      {"AWS_SECRET_ACCESS_KEY", "s3-secret-access-key"}};
  secrets.copies["smtp-credentials"] = {{"password", "smtp-password-value"}};
  return secrets;
}

// Every secret value FixedKeys()/FixedUserSecrets() hold.
inline std::vector<std::string> AllSecretValues() {
  std::vector<std::string> values;
  Keys keys = FixedKeys();
  for (const auto& [k, v] : keys.db_credentials) values.push_back(v);
  for (const char* k : {"JWT_SECRET", "ANON_KEY", "SERVICE_ROLE_KEY"}) values.push_back(keys.api_keys[k]);
  for (const auto& [copy, secret] : FixedUserSecrets().copies) {
    for (const auto& [k, v] : secret) values.push_back(v);
  }
  return values;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline const char* kTestdata = "controller/project/render/testdata/";

// A fixture Project from testdata/<name>.project.json, parsed. Fails the test if it does not parse.
inline Project Fixture(const std::string& name) {
  Json object = Json::parse(ReadFile(std::string(kTestdata) + name + ".project.json"));
  StatusOr<Project> project = ParseProject(object);
  EXPECT_TRUE(project.ok()) << project.status().ToString();
  return project.ok() ? *project : Project{};
}

// The object of `kind` named `name` (a "db-bootstrap-" prefix matches the hashed Job name), or
// null.
inline Json Find(const std::vector<Json>& objects, std::string_view kind, std::string_view name) {
  for (const Json& object : objects) {
    const std::string& object_name = object["metadata"]["name"].get_ref<const std::string&>();
    bool name_matches = object_name == name ||
                        (name.ends_with('-') && object_name.starts_with(name));
    if (object["kind"] == kind && name_matches) return object;
  }
  return nullptr;
}

// The env entry `name` of the first container, or null.
inline Json EnvOf(const Json& workload, std::string_view name) {
  for (const Json& env : workload["spec"]["template"]["spec"]["containers"][0]["env"]) {
    if (env["name"] == name) return env;
  }
  return nullptr;
}

}  // namespace kubabase::project::testing
