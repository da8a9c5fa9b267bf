#include "controller/project/secret_refs.h"

#include <gtest/gtest.h>

#include "controller/project/names.h"

namespace kubabase::project {
namespace {

using kube::Json;

ProjectSpec SpecNaming(const std::string& smtp_ns, const std::string& smtp_name,
                       const std::string& s3_ns, const std::string& s3_name) {
  ProjectSpec spec;
  spec.auth.smtp.host = "smtp.example.test";
  spec.auth.smtp.password_secret_ref = {smtp_ns, smtp_name, "password"};
  spec.storage.backend = StorageBackend::kS3;
  spec.storage.s3.credentials_secret_ref = {s3_ns, s3_name};
  return spec;
}

Json SecretObject(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"namespace", ns}, {"name", name}}}};
}

TEST(UserSecretRefsTest, NamesTheSecretsTheReconcilerReads) {
  ProjectSpec spec = SpecNaming("shared", "smtp", "shared", "minio");
  // In registry order: auth (SMTP) before storage (S3).
  EXPECT_EQ(UserSecretRefs(spec),
            (std::vector<SecretName>{{"shared", "smtp"}, {"shared", "minio"}}));

  spec.storage.enabled = false;  // no storage: its credentials are not read
  spec.auth.smtp.host.clear();   // no SMTP host: the password is not read
  EXPECT_TRUE(UserSecretRefs(spec).empty());
}

TEST(UserSecretRefsTest, OneSecretNamedTwiceIsListedOnce) {
  EXPECT_EQ(UserSecretRefs(SpecNaming("shared", "all", "shared", "all")),
            (std::vector<SecretName>{{"shared", "all"}}));
}

TEST(SecretRefIndexTest, ProjectsNamingASecretAreFoundAndForgotten) {
  SecretRefIndex index;
  index.Set("shop", {{"shared", "smtp"}, {"shared", "minio"}});
  index.Set("blog", {{"shared", "smtp"}});
  EXPECT_EQ(index.ProjectsNaming("shared", "smtp"), (std::vector<std::string>{"blog", "shop"}));
  EXPECT_EQ(index.ProjectsNaming("shared", "minio"), (std::vector<std::string>{"shop"}));
  EXPECT_TRUE(index.ProjectsNaming("other", "smtp").empty()) << "the namespace matters";

  index.Set("shop", {{"shared", "minio"}});  // shop stopped naming smtp
  EXPECT_EQ(index.ProjectsNaming("shared", "smtp"), (std::vector<std::string>{"blog"}));
  index.Remove("blog");
  EXPECT_TRUE(index.ProjectsNaming("shared", "smtp").empty());
  EXPECT_EQ(index.ProjectsNaming("shared", "minio"), (std::vector<std::string>{"shop"}));
}

TEST(ReloadSecretsWatchTest, WatchesOnlyLabelledSecretsWithoutValuesAndMapsToTheirProjects) {
  SecretRefIndex index;
  index.Set("shop", {{"shared", "smtp"}});
  kube::WatchSpec spec = ReloadSecretsWatch(index);
  EXPECT_EQ(spec.resource.resource, "secrets");
  EXPECT_EQ(spec.label_selector, std::string(names::kReloadLabel) + "=true");
  EXPECT_TRUE(spec.namespace_name.empty()) << "a named Secret may be in a project namespace, made at run time";
  EXPECT_FALSE(spec.primary);

  Json secret = SecretObject("shared", "smtp");
  secret["data"] = {{"password", "c2VjcmV0"}};
  Json cached = secret;
  spec.transform(cached);
  EXPECT_FALSE(cached.contains("data")) << "the cache must hold no value, nor even the keys";
  EXPECT_EQ(cached["metadata"]["name"], "smtp");
  EXPECT_EQ(cached["metadata"]["namespace"], "shared") << "what the mapper reads";

  std::vector<kube::ObjectKey> keys = spec.mapper(SecretObject("shared", "smtp"));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name, "shop");
  EXPECT_TRUE(keys[0].namespace_name.empty());
  EXPECT_TRUE(spec.mapper(SecretObject("shared", "unnamed")).empty());

  index.Set("blog", {{"shared", "smtp"}});  // the mapper reads the index as it is now
  EXPECT_EQ(spec.mapper(SecretObject("shared", "smtp")).size(), 2u);
}

}  // namespace
}  // namespace kubabase::project
