#include "controller/project/project.h"

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

Json Minimal() {
  return Json::parse(R"({"apiVersion": "kubabase.io/v1alpha1", "kind": "Project",
                         "metadata": {"name": "acme-shop", "uid": "u-1", "generation": 3,
                                      "resourceVersion": "42", "finalizers": ["kubabase.io/finalizer"]},
                         "spec": {}})");
}

// The spec with `patch` merged in (RFC 7386), parsed.
StatusOr<Project> ParseWith(const Json& patch) {
  Json object = Minimal();
  object["spec"].merge_patch(patch);
  return ParseProject(object);
}

// Expects InvalidArgument whose message starts with `field`.
void ExpectRejected(const Json& patch, const std::string& field) {
  StatusOr<Project> project = ParseWith(patch);
  ASSERT_FALSE(project.ok()) << patch.dump();
  EXPECT_EQ(project.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(project.status().message().rfind(field, 0), 0u)
      << "message \"" << project.status().message() << "\" should name " << field;
}

TEST(ParseProject, AppliesTheCrdDefaultsToAnEmptySpec) {
  StatusOr<Project> project = ParseProject(Minimal());
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  EXPECT_EQ(project->name, "acme-shop");
  EXPECT_EQ(project->uid, "u-1");
  EXPECT_EQ(project->generation, 3);
  EXPECT_EQ(project->resource_version, "42");
  EXPECT_EQ(project->finalizers, std::vector<std::string>{"kubabase.io/finalizer"});
  EXPECT_FALSE(project->deleting);
  const ProjectSpec& spec = project->spec;
  EXPECT_FALSE(spec.paused);
  EXPECT_EQ(spec.deletion_policy, DeletionPolicy::kRetain);
  EXPECT_EQ(spec.database.storage.size, "10Gi");
  EXPECT_TRUE(spec.rest.enabled);
  EXPECT_EQ(spec.rest.replicas, 1);
  EXPECT_EQ(spec.rest.schemas, (std::vector<std::string>{"public", "storage", "graphql_public"}));
  EXPECT_EQ(spec.rest.max_rows, 1000);
  EXPECT_EQ(spec.auth.jwt_expiry_seconds, 3600);
  EXPECT_EQ(spec.auth.smtp.port, 587);
  EXPECT_FALSE(spec.auth.smtp.configured());
  EXPECT_EQ(spec.storage.file_size_limit, "50Mi");
  EXPECT_EQ(spec.storage.backend, StorageBackend::kFile);
  EXPECT_EQ(spec.storage.volume.size, "10Gi");
  EXPECT_EQ(spec.storage.s3.region, "us-east-1");
  EXPECT_TRUE(spec.storage.s3.force_path_style);
  EXPECT_TRUE(spec.rest.extra_env.is_array());
  // A component whose spec is ComponentSpec alone gets its entry, with its declared default.
  ASSERT_EQ(spec.basic.count("meta"), 1u);
  EXPECT_FALSE(spec.basic.at("meta").enabled);
  EXPECT_EQ(spec.basic.at("meta").replicas, 1);
}

TEST(ParseProject, ReadsABasicComponentsSpecNamingItsFieldsInErrors) {
  Json object = Minimal();
  object["spec"]["meta"] = {{"enabled", true}, {"replicas", 2}, {"image", "meta:1"}};
  StatusOr<Project> project = ParseProject(object);
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  EXPECT_TRUE(project->spec.basic.at("meta").enabled);
  EXPECT_EQ(project->spec.basic.at("meta").replicas, 2);
  EXPECT_EQ(project->spec.basic.at("meta").image, "meta:1");
  object["spec"]["meta"]["replicas"] = 101;
  project = ParseProject(object);
  ASSERT_FALSE(project.ok());
  EXPECT_EQ(project.status().message().rfind("spec.meta.replicas", 0), 0u)
      << project.status().message();
}

TEST(ParseProject, ReadsEveryField) {
  StatusOr<Project> project = ParseWith(Json::parse(R"({
    "displayName": "Acme", "organization": "acme", "paused": true, "deletionPolicy": "Delete",
    "host": "api.acme.example", "plan": "medium",
    "ingress": {"className": "nginx", "annotations": {"a": "b"}, "tlsSecretName": "tls"},
    "database": {"image": "pg", "storage": {"size": 1000, "storageClassName": "ssd"},
                 "resources": {"limits": {"memory": "1Gi"}}},
    "rest": {"enabled": false, "replicas": 0, "schemas": ["api"], "maxRows": 5,
             "extraEnv": [{"name": "X", "value": "1"}]},
    "auth": {"siteURL": "https://a", "additionalRedirectURLs": ["https://b"], "disableSignup": true,
             "jwtExpirySeconds": 60,
             "smtp": {"host": "smtp", "port": 25, "user": "u", "adminEmail": "a@b", "senderName": "A",
                      "passwordSecretRef": {"namespace": "n", "name": "s", "key": "k"}}},
    "storage": {"backend": "s3", "fileSizeLimit": "1Gi",
                "s3": {"endpoint": "http://minio:9000", "bucket": "files", "region": "eu",
                       "forcePathStyle": false, "credentialsSecretRef": {"namespace": "n", "name": "c"}}}
  })"));
  ASSERT_TRUE(project.ok()) << project.status().ToString();
  const ProjectSpec& spec = project->spec;
  EXPECT_EQ(spec.display_name, "Acme");
  EXPECT_EQ(spec.organization, "acme");
  EXPECT_TRUE(spec.paused);
  EXPECT_EQ(spec.deletion_policy, DeletionPolicy::kDelete);
  EXPECT_EQ(spec.host, "api.acme.example");
  EXPECT_EQ(spec.plan, "medium");
  EXPECT_EQ(spec.ingress.annotations.at("a"), "b");
  EXPECT_EQ(spec.database.storage.size, "1000");
  EXPECT_EQ(spec.database.resources["limits"]["memory"], "1Gi");
  EXPECT_FALSE(spec.rest.enabled);
  EXPECT_EQ(spec.rest.replicas, 0);
  EXPECT_EQ(spec.rest.extra_env[0]["name"], "X");
  EXPECT_EQ(spec.auth.smtp.password_secret_ref.key, "k");
  EXPECT_TRUE(spec.auth.smtp.configured());
  EXPECT_EQ(spec.storage.backend, StorageBackend::kS3);
  EXPECT_EQ(spec.storage.s3.credentials_secret_ref.name, "c");
  EXPECT_FALSE(spec.storage.s3.force_path_style);
}

TEST(ParseProject, RejectsBadNames) {
  for (const char* name : {"", "Acme", "-acme", "acme-", "a_b",
                           "a-name-that-is-far-too-long-for-a-project-id"}) {
    Json object = Minimal();
    object["metadata"]["name"] = name;
    StatusOr<Project> project = ParseProject(object);
    ASSERT_FALSE(project.ok()) << name;
    EXPECT_EQ(project.status().message().rfind("metadata.name", 0), 0u);
  }
}

TEST(ParseProject, RejectsNonsenseNamingTheField) {
  ExpectRejected({{"paused", "yes"}}, "spec.paused");
  ExpectRejected({{"deletionPolicy", "Keep"}}, "spec.deletionPolicy");
  ExpectRejected({{"host", "Not A Host"}}, "spec.host");
  ExpectRejected({{"plan", "Large"}}, "spec.plan");
  ExpectRejected({{"plan", std::string(64, 'p')}}, "spec.plan");
  ExpectRejected({{"organization", "has spaces"}}, "spec.organization");
  ExpectRejected({{"rest", {{"replicas", -1}}}}, "spec.rest.replicas");
  ExpectRejected({{"auth", {{"replicas", 1000}}}}, "spec.auth.replicas");
  ExpectRejected({{"rest", {{"schemas", Json::array()}}}}, "spec.rest.schemas");
  ExpectRejected({{"rest", {{"schemas", {"public; drop table x"}}}}}, "spec.rest.schemas");
  ExpectRejected({{"rest", {{"extraEnv", {{{"value", "no name"}}}}}}}, "spec.rest.extraEnv[0].name");
  ExpectRejected({{"auth", {{"smtp", {{"port", 0}}}}}}, "spec.auth.smtp.port");
  ExpectRejected({{"auth", {{"smtp", {{"host", "h"}, {"passwordSecretRef", {{"name", "s"}}}}}}}},
                 "spec.auth.smtp.passwordSecretRef");
  ExpectRejected({{"database", {{"storage", {{"size", "ten gigs"}}}}}}, "spec.database.storage.size");
  ExpectRejected({{"storage", {{"fileSizeLimit", true}}}}, "spec.storage.fileSizeLimit");
  ExpectRejected({{"storage", {{"backend", "gcs"}}}}, "spec.storage.backend");
  ExpectRejected({{"storage", {{"backend", "s3"}}}}, "spec.storage.s3.endpoint");
  ExpectRejected({{"storage", {{"backend", "s3"}, {"s3", {{"endpoint", "http://m"}}}}}},
                 "spec.storage.s3.credentialsSecretRef");
  ExpectRejected({{"storage", {{"backend", "s3"}, {"s3", {{"endpoint", "minio:9000"}}}}}},
                 "spec.storage.s3.endpoint");
  ExpectRejected({{"storage", {{"s3", {{"bucket", "Bad_Bucket"}}}}}}, "spec.storage.s3.bucket");
  ExpectRejected({{"ingress", "nginx"}}, "spec.ingress");
}

TEST(ParseProject, SaysWhatProjectHPromises) {
  // The examples in project.h's comment on ParseProject, word for word.
  EXPECT_EQ(ParseWith({{"paused", "yes"}}).status().message(),
            "spec.paused: must be true or false");
  EXPECT_EQ(ParseWith({{"rest", {{"replicas", 101}}}}).status().message(),
            "spec.rest.replicas: must be between 0 and 100, got 101");
  EXPECT_EQ(ParseWith({{"host", "A"}}).status().message(),
            "spec.host: must be a lower-case DNS name such as api.example.com, got \"A\"");
  EXPECT_EQ(ParseWith({{"storage", {{"backend", "s3"}}}}).status().message(),
            "spec.storage.s3.endpoint is required when spec.storage.backend is s3");
}

TEST(ParseProject, RejectsWhatTheSchemaAllowsButCannotBeRendered) {
  // The CRD's quantity pattern admits these; FILE_SIZE_LIMIT needs a byte count in int64.
  for (const char* limit : {"-1Mi", "100Ei", "1e1.5"}) {
    ExpectRejected({{"storage", {{"fileSizeLimit", limit}}}}, "spec.storage.fileSizeLimit");
  }
  // A byte count however spelled; a fraction rounds up, as Kubernetes rounds a quantity.
  for (const char* limit : {"1e3", "100m", "0.5Ki"}) {
    EXPECT_TRUE(ParseWith({{"storage", {{"fileSizeLimit", limit}}}}).ok()) << limit;
  }
  Json s3 = Json::parse(R"({"endpoint": "http://m", "region": "",
                             "credentialsSecretRef": {"namespace": "n", "name": "c"}})");
  ExpectRejected({{"storage", {{"backend", "s3"}, {"s3", s3}}}}, "spec.storage.s3.region");
}

TEST(ParseProject, TheProjectNameIsTheDefaultBucketOnlyWithBackendS3) {
  Json object = Minimal();
  object["metadata"]["name"] = "ab";  // a valid name, too short for a bucket
  EXPECT_TRUE(ParseProject(object).ok());
  object["spec"]["storage"] = Json::parse(R"({"backend": "s3", "s3": {"endpoint": "http://m",
      "credentialsSecretRef": {"namespace": "n", "name": "c"}}})");
  StatusOr<Project> project = ParseProject(object);
  ASSERT_FALSE(project.ok());
  EXPECT_EQ(project.status().message().rfind("spec.storage.s3.bucket", 0), 0u);
  object["spec"]["storage"]["s3"]["bucket"] = "files";
  EXPECT_TRUE(ParseProject(object).ok());
}

TEST(ParseProject, RejectsWhatIsNotAProject) {
  EXPECT_FALSE(ParseProject(Json::array()).ok());
  Json object = Minimal();
  object["kind"] = "Pod";
  EXPECT_EQ(ParseProject(object).status().message().rfind("kind", 0), 0u);
}

TEST(ParseProject, SeesDeletionAndStatus) {
  Json object = Minimal();
  object["metadata"]["deletionTimestamp"] = "2026-11-28T09:00:00Z";
  object["status"] = {{"observedGeneration", 2}, {"phase", "Ready"}};
  StatusOr<Project> project = ParseProject(object);
  ASSERT_TRUE(project.ok());
  EXPECT_TRUE(project->deleting);
  EXPECT_EQ(project->status.phase, Phase::kReady);
  EXPECT_EQ(project->status.observed_generation, 2);
}

TEST(ProjectStatus, RoundTripsThroughJson) {
  ProjectStatus status;
  status.observed_generation = 4;
  status.phase = Phase::kDegraded;
  status.namespace_ = "project-acme-shop";
  status.endpoints = {{"api", "https://h"}, {"rest", "https://h/rest/v1"},
                      {"auth", "https://h/auth/v1"}, {"storage", "https://h/storage/v1"}};
  status.keys_secret = {"project-acme-shop", "api-keys"};
  status.components["database"] = {1, 1, "supabase/postgres:15.8.1.085"};
  status.components["rest"] = {2, 1, "postgrest/postgrest:v14.5"};
  status.conditions.push_back({"Ready", "False", "RestNotReady", "1 of 2 rest replicas ready", 4,
                               "2026-11-28T09:00:00Z"});
  Json json = ToJson(status);
  EXPECT_EQ(json["phase"], "Degraded");
  EXPECT_EQ(json["conditions"][0]["reason"], "RestNotReady");
  EXPECT_EQ(json["keysSecret"]["name"], "api-keys");
  StatusOr<ProjectStatus> back = ParseProjectStatus(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, status);
}

TEST(ProjectStatus, LeavesOutWhatIsEmptyAndRejectsUnknownPhases) {
  Json json = ToJson(ProjectStatus{});
  EXPECT_EQ(json, Json::parse(R"({"observedGeneration": 0, "phase": "Pending"})"));
  EXPECT_FALSE(ParseProjectStatus(Json{{"phase", "Sleeping"}}).ok());
}

TEST(Host, DefaultsToNameUnderTheBaseDomainAndSchemeFollowsTls) {
  Project project = *ParseProject(Minimal());
  Defaults defaults;
  EXPECT_EQ(Host(project, defaults), "acme-shop.kubabase.localhost");
  EXPECT_EQ(ApiUrl(project, defaults), "http://acme-shop.kubabase.localhost");
  project.spec.host = "api.acme.example";
  project.spec.ingress.tls_secret_name = "tls";
  EXPECT_EQ(ApiUrl(project, defaults), "https://api.acme.example");
  EXPECT_EQ(S3Bucket(project), "acme-shop");
}

}  // namespace
}  // namespace kubabase::project
