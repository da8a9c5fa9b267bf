// The rules of render.h, one test each: ownership per deletion policy, secrets never outside
// Secrets, enabled: false, paused, file vs s3, config-hash and Job-name sensitivity, extraEnv.
#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "controller/project/render/render.h"
#include "controller/project/render/render_testing.h"

namespace kubabase::project {
namespace {

using testing::EnvOf;
using testing::FixedKeys;
using testing::FixedUserSecrets;
using testing::Find;
using testing::Fixture;

std::vector<Json> Render(const Project& project, const Keys& keys = FixedKeys(),
                         const UserSecrets& secrets = FixedUserSecrets()) {
  StatusOr<Rendered> rendered = DesiredState(project, Defaults(), keys, secrets);
  EXPECT_TRUE(rendered.ok()) << rendered.status().ToString();
  return rendered.ok() ? rendered->objects : std::vector<Json>{};
}

std::string ConfigHash(const std::vector<Json>& objects, std::string_view deployment) {
  Json d = Find(objects, "Deployment", deployment);
  return d["spec"]["template"]["metadata"]["annotations"]["kubabase.io/config-hash"];
}

std::string JobName(const std::vector<Json>& objects) {
  return Find(objects, "Job", "db-bootstrap-")["metadata"]["name"];
}

bool HasOwner(const Json& object) { return object["metadata"].contains("ownerReferences"); }

TEST(Render, IsDeterministic) {
  Project project = Fixture("full");
  EXPECT_EQ(Json(Render(project)).dump(), Json(Render(project)).dump());
}

TEST(Render, EveryObjectHasKindLabelsAndANamespaceButTheNamespace) {
  for (const char* fixture : {"minimal", "full"}) {
    Project project = Fixture(fixture);
    for (const Json& object : Render(project)) {
      SCOPED_TRACE(object["kind"].get<std::string>() + "/" + object["metadata"]["name"].get<std::string>());
      EXPECT_TRUE(object["apiVersion"].is_string());
      const Json& labels = object["metadata"]["labels"];
      EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "kubabase");
      EXPECT_EQ(labels["kubabase.io/project"], project.name);
      EXPECT_TRUE(labels["kubabase.io/component"].is_string());
      if (object["kind"] == "Namespace") {
        EXPECT_FALSE(object["metadata"].contains("namespace"));
      } else {
        EXPECT_EQ(object["metadata"]["namespace"], "project-" + project.name);
      }
    }
  }
}

TEST(Render, WritesNoEmptyStringBecauseTheApiserverDropsThemAndThatReadsAsDrift) {
  std::function<void(const Json&, const std::string&)> walk = [&](const Json& v,
                                                                  const std::string& path) {
    if (v.is_string()) {
      EXPECT_NE(v.get<std::string>(), "") << path;
    } else if (v.is_object()) {
      for (const auto& [k, c] : v.items()) walk(c, path + "." + k);
    } else if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) walk(v[i], path + "[" + std::to_string(i) + "]");
    }
  };
  for (const char* fixture : {"minimal", "full"}) {
    for (const Json& object : Render(Fixture(fixture))) walk(object, object["kind"]);
  }
}

TEST(Render, DeletePolicyOwnsEverything) {
  Project project = Fixture("minimal");
  project.spec.deletion_policy = DeletionPolicy::kDelete;
  for (const Json& object : Render(project)) {
    ASSERT_TRUE(HasOwner(object)) << object["kind"] << "/" << object["metadata"]["name"];
    const Json& owner = object["metadata"]["ownerReferences"][0];
    EXPECT_EQ(owner["apiVersion"], "kubabase.io/v1alpha1");
    EXPECT_EQ(owner["kind"], "Project");
    EXPECT_EQ(owner["name"], "minimal");
    EXPECT_EQ(owner["uid"], project.uid);
    EXPECT_EQ(owner["controller"], true);
    EXPECT_EQ(owner["blockOwnerDeletion"], true);
  }
}

TEST(Render, RetainPolicyLeavesNamespaceKeysAndFilesUnowned) {
  std::vector<Json> objects = Render(Fixture("minimal"));  // Retain is the default
  const std::set<std::pair<std::string, std::string>> kept = {
      {"Namespace", "project-minimal"},
      {"Secret", "db-credentials"},
      {"Secret", "api-keys"},
      {"PersistentVolumeClaim", "storage-data"}};
  for (const Json& object : objects) {
    std::pair<std::string, std::string> id = {object["kind"], object["metadata"]["name"]};
    EXPECT_EQ(HasOwner(object), !kept.contains(id)) << id.first << "/" << id.second;
  }
}

TEST(Render, NoSecretValueAppearsOutsideSecretData) {
  Project project = Fixture("full");
  for (const Json& object : Render(project)) {
    if (object["kind"] == "Secret") continue;
    std::string text = object.dump();
    for (const std::string& value : testing::AllSecretValues()) {
      EXPECT_EQ(text.find(value), std::string::npos)
          << object["kind"] << "/" << object["metadata"]["name"] << " contains a secret";
    }
  }
}

TEST(Render, SecretsCarryExactlyTheKeysBase64Encoded) {
  std::vector<Json> objects = Render(Fixture("minimal"));
  StatusOr<std::map<std::string, std::string>> db = SecretValues(Find(objects, "Secret", "db-credentials"));
  StatusOr<std::map<std::string, std::string>> api = SecretValues(Find(objects, "Secret", "api-keys"));
  ASSERT_TRUE(db.ok() && api.ok());
  EXPECT_EQ(*db, FixedKeys().db_credentials);
  EXPECT_EQ(*api, FixedKeys().api_keys);
}

TEST(Render, MissingKeysAreAFailedPreconditionNamingTheKeyNotAValue) {
  Keys keys = FixedKeys();
  keys.db_credentials.erase("authenticator");
  StatusOr<Rendered> objects = DesiredState(Fixture("minimal"), Defaults(), keys);
  EXPECT_EQ(objects.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(objects.status().message().find("authenticator"), std::string::npos);
}

TEST(Render, DisabledComponentsRenderNothingOfTheirOwn) {
  Project project = Fixture("minimal");
  project.spec.rest.enabled = false;
  project.spec.storage.enabled = false;
  std::vector<Json> objects = Render(project);
  EXPECT_TRUE(Find(objects, "Deployment", "rest").is_null());
  EXPECT_TRUE(Find(objects, "Service", "rest").is_null());
  EXPECT_TRUE(Find(objects, "Deployment", "storage").is_null());
  EXPECT_TRUE(Find(objects, "PersistentVolumeClaim", "storage-data").is_null());
  EXPECT_TRUE(Find(objects, "Ingress", "storage").is_null());
  Json api = Find(objects, "Ingress", "api");
  ASSERT_FALSE(api.is_null());
  ASSERT_EQ(api["spec"]["rules"][0]["http"]["paths"].size(), 1u);
  EXPECT_EQ(api["spec"]["rules"][0]["http"]["paths"][0]["path"], "/auth/v1(/|$)(.*)");
  EXPECT_FALSE(Find(objects, "Deployment", "auth").is_null());

  project.spec.auth.enabled = false;
  EXPECT_TRUE(Find(Render(project), "Ingress", "api").is_null());
}

TEST(Render, PausedScalesEveryWorkloadToZeroAndKeepsData) {
  Project project = Fixture("minimal");
  project.spec.paused = true;
  std::vector<Json> objects = Render(project);
  int workloads = 0;
  for (const Json& object : objects) {
    if (object["kind"] == "Deployment" || object["kind"] == "StatefulSet") {
      EXPECT_EQ(object["spec"]["replicas"], 0) << object["metadata"]["name"];
      ++workloads;
    }
  }
  EXPECT_EQ(workloads, 4);
  EXPECT_TRUE(Find(objects, "Job", "db-bootstrap-").is_null());
  EXPECT_FALSE(Find(objects, "PersistentVolumeClaim", "storage-data").is_null());
  EXPECT_FALSE(Find(objects, "Secret", "db-credentials").is_null());
}

TEST(Render, FileBackendUsesAPvcAndRecreate) {
  std::vector<Json> objects = Render(Fixture("minimal"));
  Json storage = Find(objects, "Deployment", "storage");
  EXPECT_EQ(EnvOf(storage, "STORAGE_BACKEND")["value"], "file");
  EXPECT_EQ(EnvOf(storage, "STORAGE_FILE_BACKEND_PATH")["value"], "/var/lib/storage");
  EXPECT_EQ(EnvOf(storage, "GLOBAL_S3_BUCKET")["value"], "minimal");
  EXPECT_EQ(storage["spec"]["strategy"]["type"], "Recreate");
  EXPECT_FALSE(Find(objects, "PersistentVolumeClaim", "storage-data").is_null());
  EXPECT_TRUE(Find(objects, "Secret", "s3-credentials").is_null());
}

TEST(Render, S3BackendCopiesCredentialsAndHasNoPvc) {
  std::vector<Json> objects = Render(Fixture("full"));
  Json storage = Find(objects, "Deployment", "storage");
  EXPECT_EQ(EnvOf(storage, "STORAGE_BACKEND")["value"], "s3");
  EXPECT_EQ(EnvOf(storage, "GLOBAL_S3_ENDPOINT")["value"], "https://minio.storage.svc:9000");
  EXPECT_EQ(EnvOf(storage, "GLOBAL_S3_BUCKET")["value"], "acme-shop");  // defaulted to the name
  EXPECT_EQ(EnvOf(storage, "AWS_SECRET_ACCESS_KEY")["valueFrom"]["secretKeyRef"]["name"],
            "s3-credentials");
  EXPECT_TRUE(EnvOf(storage, "STORAGE_FILE_BACKEND_PATH").is_null());
  EXPECT_FALSE(storage["spec"].contains("strategy"));
  EXPECT_TRUE(Find(objects, "PersistentVolumeClaim", "storage-data").is_null());
  EXPECT_EQ(*SecretValues(Find(objects, "Secret", "s3-credentials")),
            FixedUserSecrets().copies.at("s3-credentials"));
}

TEST(Render, S3WithoutCredentialsNamesTheSecretButNoValue) {
  UserSecrets secrets = FixedUserSecrets();
  secrets.copies.at("s3-credentials").erase("AWS_SECRET_ACCESS_KEY");
  StatusOr<Rendered> objects = DesiredState(Fixture("full"), Defaults(), FixedKeys(), secrets);
  EXPECT_EQ(objects.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(objects.status().message().find("storage/minio-acme"), std::string::npos);
  EXPECT_EQ(objects.status().message().find("s3-access-key-id"), std::string::npos);
}

TEST(Render, ConfigHashFollowsOnlyTheSecretsAComponentConsumes) {
  Project project = Fixture("minimal");
  std::vector<Json> before = Render(project);
  Keys keys = FixedKeys();
  keys.db_credentials["authenticator"] = "a-new-password-for-authenticator";
  std::vector<Json> after = Render(project, keys);
  EXPECT_NE(ConfigHash(before, "rest"), ConfigHash(after, "rest"));
  EXPECT_EQ(ConfigHash(before, "auth"), ConfigHash(after, "auth"));
  EXPECT_EQ(ConfigHash(before, "storage"), ConfigHash(after, "storage"));
  EXPECT_NE(JobName(before), JobName(after)) << "the bootstrap must run again to set it";

  keys = FixedKeys();
  keys.api_keys["JWT_SECRET"] = std::string(64, 'j');
  after = Render(project, keys);
  for (const char* d : {"rest", "auth", "storage"}) EXPECT_NE(ConfigHash(before, d), ConfigHash(after, d));
  EXPECT_EQ(JobName(before), JobName(after)) << "the JWT secret is not a bootstrap input";
}

TEST(Render, BootstrapJobNameFollowsJwtExpiryAndImage) {
  Project project = Fixture("minimal");
  std::string name = JobName(Render(project));
  EXPECT_EQ(name.size(), std::string("db-bootstrap-").size() + 10);
  EXPECT_EQ(JobName(Render(project)), name);
  project.spec.auth.jwt_expiry_seconds = 7200;
  EXPECT_NE(JobName(Render(project)), name);
  project = Fixture("minimal");
  project.spec.database.image = "postgres:15";
  EXPECT_NE(JobName(Render(project)), name);
}

TEST(Render, BootstrapConfigMapHoldsTheSqlAndScriptVerbatim) {
  Json config_map = Find(Render(Fixture("minimal")), "ConfigMap", "db-bootstrap");
  EXPECT_EQ(config_map["data"][std::string(kBootstrapSqlFile)], BootstrapSql());
  EXPECT_EQ(config_map["data"][std::string(kBootstrapScriptFile)], BootstrapScript());
}

TEST(Render, BootstrapJobGetsEveryPasswordFromTheSecret) {
  Json job = Find(Render(Fixture("minimal")), "Job", "db-bootstrap-");
  for (const LoginRoleSpec& role : LoginRoleSpecs()) {
    Json env = EnvOf(job, role.password_env);
    EXPECT_EQ(env["valueFrom"]["secretKeyRef"]["name"], "db-credentials") << role.role;
    EXPECT_EQ(env["valueFrom"]["secretKeyRef"]["key"], role.role);
  }
  EXPECT_EQ(EnvOf(job, "PGUSER")["value"], "supabase_admin");
  EXPECT_EQ(EnvOf(job, "PGPASSWORD")["valueFrom"]["secretKeyRef"]["key"], "supabase_admin");
}

TEST(Render, ExtraEnvComesLastSoItOverrides) {
  Project project = Fixture("minimal");
  project.spec.rest.extra_env = Json::array({{{"name", "PGRST_DB_MAX_ROWS"}, {"value", "5"}}});
  Json env = Find(Render(project), "Deployment", "rest")["spec"]["template"]["spec"]["containers"][0]["env"];
  EXPECT_EQ(env.back()["name"], "PGRST_DB_MAX_ROWS");
  EXPECT_EQ(env.back()["value"], "5");
}

TEST(Render, PodsMeetPodSecurityRestricted) {
  for (const Json& object : Render(Fixture("full"))) {
    if (!object.contains("spec") || !object["spec"].contains("template")) continue;
    const Json& pod = object["spec"]["template"]["spec"];
    SCOPED_TRACE(object["metadata"]["name"].get<std::string>());
    EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
    EXPECT_GT(pod["securityContext"]["runAsUser"].get<int>(), 0);
    EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    for (const Json& container : pod["containers"]) {
      EXPECT_EQ(container["securityContext"]["allowPrivilegeEscalation"], false);
      EXPECT_EQ(container["securityContext"]["capabilities"]["drop"], Json::array({"ALL"}));
    }
  }
}

TEST(Render, UserIngressAnnotationsAreKeptButCannotBreakTheRewrite) {
  Json api = Find(Render(Fixture("full")), "Ingress", "api");
  const Json& annotations = api["metadata"]["annotations"];
  EXPECT_EQ(annotations["cert-manager.io/cluster-issuer"], "letsencrypt");
  EXPECT_EQ(annotations["nginx.ingress.kubernetes.io/rewrite-target"], "/$2");
  EXPECT_EQ(api["spec"]["tls"][0]["secretName"], "acme-shop-tls");
}

TEST(Render, DatabaseIsReachableOnlyFromItsNamespace) {
  std::vector<Json> objects = Render(Fixture("minimal"));
  Json db = Find(objects, "NetworkPolicy", "db-same-namespace-only");
  EXPECT_EQ(db["spec"]["ingress"], Json::parse(R"([{"from": [{"podSelector": {}}],
                                                     "ports": [{"protocol": "TCP", "port": 5432}]}])"));
  Json apps = Find(objects, "NetworkPolicy", "allow-same-namespace");
  EXPECT_EQ(apps["spec"]["podSelector"]["matchExpressions"][0]["operator"], "NotIn");
  EXPECT_EQ(apps["spec"]["ingress"], Json::parse(R"([{"from": [{"podSelector": {}}]}])"));
}

// Every NetworkPolicy rule that admits the ingress controller's namespace.
std::vector<Json> IngressControllerPolicies(const std::vector<Json>& objects) {
  std::vector<Json> out;
  for (const Json& object : objects) {
    if (object["kind"] != "NetworkPolicy" || !object["spec"].contains("ingress")) continue;
    if (object["spec"]["ingress"].dump().find("ingress-nginx") != std::string::npos) {
      out.push_back(object);
    }
  }
  return out;
}

TEST(Render, TheIngressControllerReachesOnlyEachRoutedComponentsPublicPort) {
  // full enables meta, which has no route, and rest, whose admin port serves /ready and /live.
  std::vector<Json> objects = Render(Fixture("full"));
  std::map<std::string, Json> by_name;
  for (const Json& policy : IngressControllerPolicies(objects)) {
    by_name[policy["metadata"]["name"]] = policy["spec"];
  }
  auto spec = [](std::string_view component, int port) {
    return Json{
        {"podSelector", {{"matchLabels", {{"kubabase.io/component", component}}}}},
        {"policyTypes", {"Ingress"}},
        {"ingress",
         Json::array({{{"from", Json::array({{{"namespaceSelector",
                                               {{"matchLabels",
                                                 {{"kubernetes.io/metadata.name",
                                                   "ingress-nginx"}}}}}}})},
                       {"ports", Json::array({{{"protocol", "TCP"}, {"port", port}}})}}})}};
  };
  EXPECT_EQ(by_name, (std::map<std::string, Json>{
                         {"allow-ingress-controller-rest", spec("rest", 3000)},
                         {"allow-ingress-controller-auth", spec("auth", 9999)},
                         {"allow-ingress-controller-storage", spec("storage", 5000)}}));

  // Without an ingress namespace, nothing admits another namespace.
  Defaults defaults;
  defaults.ingress_namespace = "";
  StatusOr<Rendered> none = DesiredState(Fixture("full"), defaults, FixedKeys(), FixedUserSecrets());
  ASSERT_TRUE(none.ok());
  for (const Json& object : none->objects) {
    if (object["kind"] != "NetworkPolicy") continue;
    EXPECT_EQ(object["spec"].dump().find("namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/"
                                         "metadata.name\":\"ingress"),
              std::string::npos);
    EXPECT_FALSE(std::string(object["metadata"]["name"]).starts_with("allow-ingress-controller-"));
  }
}

TEST(Render, ADisabledComponentAdmitsNoIngressController) {
  Project project = Fixture("minimal");
  project.spec.storage.enabled = false;
  std::vector<Json> objects = Render(project);
  EXPECT_TRUE(Find(objects, "NetworkPolicy", "allow-ingress-controller-storage").is_null());
  EXPECT_FALSE(Find(objects, "NetworkPolicy", "allow-ingress-controller-rest").is_null());
}

TEST(Render, EgressAllowsDnsTheNamespaceAndTheInternetButNotPrivateOrMetadataRanges) {
  Json egress = Find(Render(Fixture("minimal")), "NetworkPolicy", "default-egress");
  ASSERT_FALSE(egress.is_null());
  EXPECT_EQ(egress["spec"], Json::parse(R"({
    "podSelector": {},
    "policyTypes": ["Egress"],
    "egress": [
      {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
               "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
       "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
      {"to": [{"podSelector": {}}]},
      {"to": [{"ipBlock": {"cidr": "0.0.0.0/0",
                           "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                      "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"]}},
              {"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10", "::1/128"]}}]}
    ]})"));
}

TEST(Render, EgressTakesTheAdminsCidrsAndDnsSettings) {
  Defaults defaults;
  defaults.egress.dns_namespace = "";
  defaults.egress.denied_cidrs = {{"10.0.0.0/8", false, 8}};
  defaults.egress.allowed_cidrs = {{"10.96.0.25/32", false, 32}, {"fd00:1::/64", true, 64}};
  StatusOr<Rendered> rendered =
      DesiredState(Fixture("minimal"), defaults, FixedKeys(), FixedUserSecrets());
  ASSERT_TRUE(rendered.ok());
  Json egress = Find(rendered->objects, "NetworkPolicy", "default-egress");
  EXPECT_EQ(egress["spec"]["egress"], Json::parse(R"([
      {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
      {"to": [{"podSelector": {}}]},
      {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}},
              {"ipBlock": {"cidr": "::/0"}}]},
      {"to": [{"ipBlock": {"cidr": "10.96.0.25/32"}}, {"ipBlock": {"cidr": "fd00:1::/64"}}]}
    ])"));
}

TEST(Render, NetworkPoliciesComeBeforeAnyPod) {
  std::vector<Json> objects = Render(Fixture("full"));
  size_t last_policy = 0;
  size_t first_workload = objects.size();
  for (size_t i = 0; i < objects.size(); ++i) {
    const Json& kind = objects[i]["kind"];
    if (kind == "NetworkPolicy") last_policy = i;
    if ((kind == "StatefulSet" || kind == "Deployment" || kind == "Job") && first_workload > i) {
      first_workload = i;
    }
  }
  EXPECT_LT(last_policy, first_workload);
}

}  // namespace
}  // namespace kubabase::project
