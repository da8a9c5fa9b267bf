// End to end, a Project's life: created -> every child and Ready=True, keys that verify, a
// deleted or edited child restored, spec edits rolled out, pause and resume. The kubabase binary
// runs as a process against the local control plane (real kube-apiserver, controller-manager,
// scheduler; kwok simulates pods); see project_fixture.h.
//
// What is proven here and nowhere else: that a Project becomes a working set of children and a
// Ready status through the real API (server-side apply, watches, the status subresource,
// finalizers), and that the operator restores what others change.
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

// ---------------------------------------------------------------------------------------------
// Create -> every child -> pods Ready -> Ready=True.

TEST_F(ProjectE2eTest, ACreatedProjectGetsEveryChildAndBecomesReady) {
  const std::string name = NewProjectName("create");
  const std::string ns = ProjectNamespace(name);
  StatusOr<Json> created = CreateProject(name, {{"displayName", "e2e create"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string uid = StringAt(*created, "/metadata/uid");

  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> project = GetProject(name);
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(StringAt(*project, "/status/phase"), "Ready") << Diagnostics(name);
  EXPECT_EQ(StringAt(*project, "/status/namespace"), ns);
  EXPECT_EQ(StringAt(*project, "/status/keysSecret/namespace"), ns);
  EXPECT_EQ(StringAt(*project, "/status/keysSecret/name"), "api-keys");
  EXPECT_NE(StringAt(*project, "/status/endpoints/api").find(name), std::string::npos)
      << Diagnostics(name);
  for (const char* type : {"DatabaseReady", "RestReady", "AuthReady", "StorageReady", "Routed"}) {
    EXPECT_TRUE(ConditionIs(*project, type, "True")) << type << "\n" << Diagnostics(name);
  }
  EXPECT_TRUE(ConditionIs(*project, "Stalled", "False") ||
              Condition(*project, "Stalled").is_null())
      << Diagnostics(name);
  // The operator never writes spec: the generation is still the one we created, and no field
  // manager of the operator owns a spec field.
  EXPECT_EQ(IntAt(*project, "/metadata/generation"), 1);
  for (const Json& entry : (*project)["metadata"].value("managedFields", Json::array())) {
    if (entry.value("manager", "") == "kubabase") {
      EXPECT_FALSE(entry.contains("fieldsV1") && entry["fieldsV1"].contains("f:spec"))
          << "the operator owns spec fields: " << entry.dump();
    }
  }
  bool has_finalizer = false;
  for (const Json& f : (*project)["metadata"].value("finalizers", Json::array())) {
    has_finalizer |= f == "kubabase.io/finalizer";
  }
  EXPECT_TRUE(has_finalizer) << Diagnostics(name);

  // Namespace with Pod Security Admission labels and the project label.
  StatusOr<Json> namespace_object = Get(Resource::Namespaces(), "", ns);
  ASSERT_TRUE(namespace_object.ok()) << namespace_object.status().ToString();
  EXPECT_EQ(StringAt(*namespace_object, "/metadata/labels/pod-security.kubernetes.io~1enforce"),
            "restricted")
      << Labels(*namespace_object);
  EXPECT_EQ(StringAt(*namespace_object, "/metadata/labels/kubabase.io~1project"), name);
  // deletionPolicy Retain (the default): what holds data or keys has no owner reference, so that
  // garbage collection cannot take it with the Project (render.h).
  EXPECT_FALSE(HasOwner(*namespace_object, uid)) << namespace_object->dump();

  // Every named child exists and carries the three labels; all but the data and the keys are
  // owned by the Project.
  struct Child {
    const Resource& resource;
    std::string name;
    bool owned = true;
  };
  const std::vector<Child> children = {
      {Resource::Secrets(), "db-credentials", false},
      {Resource::Secrets(), "api-keys", false},
      {Resource::StatefulSets(), "db"},
      {Resource::Services(), "db"},
      {Resource::Deployments(), "rest"},
      {Resource::Deployments(), "auth"},
      {Resource::Deployments(), "storage"},
      {Resource::Services(), "rest"},
      {Resource::Services(), "auth"},
      {Resource::Services(), "storage"},
      {Resource::Ingresses(), "api"},
      {Resource::Ingresses(), "storage"},
      {Resource::NetworkPolicies(), "allow-same-namespace"},
      {Resource::NetworkPolicies(), "allow-ingress-controller-rest"},
      {Resource::NetworkPolicies(), "allow-ingress-controller-auth"},
      {Resource::NetworkPolicies(), "allow-ingress-controller-storage"},
      {Resource::NetworkPolicies(), "db-same-namespace-only"},
      {Resource::NetworkPolicies(), "default-egress"},
      {Resource::PersistentVolumeClaims(), "storage-data", false},
  };
  for (const Child& child : children) {
    SCOPED_TRACE(child.resource.kind + " " + child.name);
    StatusOr<Json> got = Get(child.resource, ns, child.name);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(StringAt(*got, "/metadata/labels/app.kubernetes.io~1managed-by"), "kubabase")
        << Labels(*got);
    EXPECT_EQ(StringAt(*got, "/metadata/labels/kubabase.io~1project"), name) << Labels(*got);
    EXPECT_FALSE(StringAt(*got, "/metadata/labels/kubabase.io~1component").empty())
        << Labels(*got);
    EXPECT_EQ(HasOwner(*got, uid), child.owned)
        << "ownerReferences: " << (*got)["metadata"].value("ownerReferences", Json()).dump();
  }

  // The hosts of both Ingresses are the project's host.
  const std::string host = name + ".kubabase.localhost";
  for (const char* ingress : {"api", "storage"}) {
    StatusOr<Json> got = Get(Resource::Ingresses(), ns, ingress);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(StringAt(*got, "/spec/rules/0/host"), host) << got->dump();
  }

  // Workloads ready (kwok simulates the pods), PVCs bound, the bootstrap Job complete.
  std::string why;
  StatusOr<Json> db = Get(Resource::StatefulSets(), ns, "db");
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE(WorkloadReady(*db, 1, &why)) << why;
  for (const char* deployment : {"rest", "auth", "storage"}) {
    StatusOr<Json> got = Get(Resource::Deployments(), ns, deployment);
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(WorkloadReady(*got, 1, &why)) << why;
  }
  for (const char* claim : {"data-db-0", "storage-data"}) {
    EXPECT_TRUE(WaitForObject(name, Resource::PersistentVolumeClaims(), ns, claim, "Bound",
                              [](const Json& pvc, std::string* w) {
                                *w = "phase " + StringAt(pvc, "/status/phase");
                                return StringAt(pvc, "/status/phase") == "Bound";
                              },
                              30s));
  }
  StatusOr<Json> jobs = client_->List(Resource::Jobs(), ns,
                                      Selecting("kubabase.io/component=bootstrap"));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ((*jobs)["items"].size(), 1u) << jobs->dump();
  const Json& job = (*jobs)["items"][0];
  EXPECT_TRUE(ConditionIs(job, "Complete", "True")) << job["status"].dump();
  EXPECT_EQ(StringAt(job, "/metadata/name").rfind("db-bootstrap-", 0), 0u);

  StatusOr<Json> pods = client_->List(Resource::Pods(), ns, {});
  ASSERT_TRUE(pods.ok());
  int ready_pods = 0;
  for (const Json& pod : (*pods)["items"]) {
    if (StringAt(pod, "/status/phase") == "Succeeded") continue;  // the bootstrap Job's pod
    EXPECT_TRUE(ConditionIs(pod, "Ready", "True"))
        << StringAt(pod, "/metadata/name") << " " << pod["status"].dump();
    ++ready_pods;
  }
  EXPECT_EQ(ready_pods, 4) << "db-0 and one pod each of rest, auth, storage";

  // Printed, not asserted: what creating one project cost the operator (from its start, so the
  // initial lists and watches are included).
  std::vector<MetricSample> samples = Metrics();
  std::printf("API requests of the operator from start to Ready of one project:\n");
  for (const auto& [verb, count] : RequestsByVerb(samples)) {
    std::printf("  %-7s %5.0f\n", verb.c_str(), count);
  }
  std::printf("writes by resource:\n");
  for (const auto& [key, count] : WritesByVerbAndResource(samples)) {
    std::printf("  %-40s %5.0f\n", key.c_str(), count);
  }
}

// ---------------------------------------------------------------------------------------------
// Keys.

TEST_F(ProjectE2eTest, ApiKeysAreJwtsSignedWithTheJwtSecretForTheProjectAndLastTenYears) {
  const std::string name = NewProjectName("keys");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForObject(name, Resource::Secrets(), ns, "api-keys", "exists",
                            [](const Json&, std::string*) { return true; }));
  StatusOr<std::map<std::string, std::string>> keys = SecretData(*client_, ns, "api-keys");
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_TRUE(keys->count("JWT_SECRET"));
  const std::string& secret = keys->at("JWT_SECRET");
  EXPECT_GE(secret.size(), 40u);
  EXPECT_EQ(keys->count("SUPABASE_URL"), 1u);
  if (keys->count("SUPABASE_URL")) {
    EXPECT_EQ(keys->at("SUPABASE_URL"), "http://" + name + ".kubabase.localhost");
  }
  for (const auto& [key, role] : std::vector<std::pair<std::string, std::string>>{
           {"ANON_KEY", "anon"}, {"SERVICE_ROLE_KEY", "service_role"}}) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(keys->count(key));
    StatusOr<Json> claims = project::VerifyHs256(keys->at(key), secret);
    ASSERT_TRUE(claims.ok()) << claims.status().ToString();  // never the token itself
    EXPECT_EQ(claims->value("role", ""), role);
    EXPECT_EQ(claims->value("ref", ""), name);
    EXPECT_EQ(claims->value("iss", ""), "supabase");
    ASSERT_TRUE((*claims)["iat"].is_number_integer() && (*claims)["exp"].is_number_integer());
    EXPECT_EQ((*claims)["exp"].get<int64_t>() - (*claims)["iat"].get<int64_t>(),
              project::kApiKeyLifetime.count());
    // A key does not verify under another secret.
    EXPECT_FALSE(project::VerifyHs256(keys->at(key), secret + "x").ok());
  }
  StatusOr<std::map<std::string, std::string>> passwords =
      SecretData(*client_, ns, "db-credentials");
  ASSERT_TRUE(passwords.ok()) << passwords.status().ToString();
  std::set<std::string> distinct;
  for (const auto& [role, password] : *passwords) {
    EXPECT_GE(password.size(), 32u) << role;
    distinct.insert(password);
  }
  EXPECT_GE(passwords->size(), 5u);
  EXPECT_EQ(distinct.size(), passwords->size()) << "every login role has its own password";
}

// ---------------------------------------------------------------------------------------------
// Children others delete or edit are restored.

TEST_F(ProjectE2eTest, ADeletedOrEditedChildIsRestoredWithinSeconds) {
  const std::string name = NewProjectName("restore");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));

  // Deleted Deployment: back, as a new object.
  StatusOr<Json> rest = Get(Resource::Deployments(), ns, "rest");
  ASSERT_TRUE(rest.ok());
  const std::string old_uid = StringAt(*rest, "/metadata/uid");
  ASSERT_TRUE(client_->Delete(Resource::Deployments(), ns, "rest").ok());
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, "rest", "recreated",
                            [&](const Json& d, std::string* why) {
                              *why = "uid " + StringAt(d, "/metadata/uid");
                              return StringAt(d, "/metadata/uid") != old_uid &&
                                     StringAt(d, "/metadata/deletionTimestamp").empty();
                            },
                            kRestoreTimeout));
  std::printf("deleted Deployment rest recreated after %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());

  // A Service's selector changed by another field manager: taken back.
  StatusOr<Json> service = Get(Resource::Services(), ns, "rest");
  ASSERT_TRUE(service.ok());
  const Json selector = (*service)["spec"]["selector"];
  Json intrusion = {{"apiVersion", "v1"},
                    {"kind", "Service"},
                    {"metadata", {{"name", "rest"}, {"namespace", ns}}},
                    {"spec", {{"selector", {{"kubabase.io/component", "intruder"}}}}}};
  kube::ApplyOptions intruder{.field_manager = "e2e-intruder", .force = true, .subresource = ""};
  StatusOr<Json> edited = client_->Apply(Resource::Services(), ns, "rest", intrusion, intruder);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  ASSERT_NE((*edited)["spec"]["selector"], selector) << "the edit did not take";
  EXPECT_TRUE(WaitForObject(name, Resource::Services(), ns, "rest", "selector restored",
                            [&](const Json& s, std::string* why) {
                              *why = "selector " + s["spec"]["selector"].dump();
                              return s["spec"]["selector"] == selector;
                            },
                            kRestoreTimeout));

  // A Deployment's image changed by another field manager: taken back.
  StatusOr<Json> auth = Get(Resource::Deployments(), ns, "auth");
  ASSERT_TRUE(auth.ok());
  const std::string container = StringAt(*auth, "/spec/template/spec/containers/0/name");
  const std::string image = StringAt(*auth, "/spec/template/spec/containers/0/image");
  Json image_edit = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "auth"}, {"namespace", ns}}},
      {"spec",
       {{"template",
         {{"spec",
           {{"containers", {{{"name", container}, {"image", "example.invalid/intruder:1"}}}}}}}}}}};
  edited = client_->Apply(Resource::Deployments(), ns, "auth", image_edit, intruder);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, "auth", "image restored",
                            [&](const Json& d, std::string* why) {
                              *why = "image " +
                                     StringAt(d, "/spec/template/spec/containers/0/image");
                              return StringAt(d, "/spec/template/spec/containers/0/image") ==
                                     image;
                            },
                            kRestoreTimeout));
  EXPECT_TRUE(WaitForReady(name));
}

// ---------------------------------------------------------------------------------------------
// Spec edits roll out.

TEST_F(ProjectE2eTest, SpecEditsRollOutToTheWorkloads) {
  const std::string name = NewProjectName("edit");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));

  ASSERT_TRUE(PatchSpec(name, {{"rest", {{"replicas", 2}}}}));
  EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, "rest", "at 2 ready replicas",
                            [](const Json& d, std::string* why) { return WorkloadReady(d, 2, why); }));
  EXPECT_TRUE(WaitForReady(name));

  const std::string image = "postgrest/postgrest:v12.2.99-e2e";
  ASSERT_TRUE(PatchSpec(name, {{"rest", {{"image", image}}}}));
  EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, "rest", "running " + image,
                            [&](const Json& d, std::string* why) {
                              std::string ready_why;
                              const bool ready = WorkloadReady(d, 2, &ready_why);
                              *why = StringAt(d, "/spec/template/spec/containers/0/image") + "; " +
                                     ready_why;
                              return StringAt(d, "/spec/template/spec/containers/0/image") ==
                                         image &&
                                     ready;
                            }));
  ASSERT_TRUE(WaitForReady(name));
  StatusOr<Json> project = GetProject(name);
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(IntAt(*project, "/metadata/generation"), 3) << "two edits, and nobody else's";
}

// ---------------------------------------------------------------------------------------------
// Pause and resume.

TEST_F(ProjectE2eTest, PausingScalesEveryWorkloadToZeroAndResumingBringsThemBack) {
  const std::string name = NewProjectName("pause");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));
  const std::map<std::string, std::string> keys_before = KeySecrets(name)["api-keys"];

  ASSERT_TRUE(PatchSpec(name, {{"paused", true}}));
  EXPECT_TRUE(WaitForObject(name, Resource::StatefulSets(), ns, "db", "scaled to 0",
                            [](const Json& s, std::string* why) { return WorkloadReady(s, 0, why); }));
  for (const char* deployment : {"rest", "auth", "storage"}) {
    EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, deployment, "scaled to 0",
                              [](const Json& d, std::string* why) { return WorkloadReady(d, 0, why); }));
  }
  EXPECT_TRUE(Eventually(name, "phase Paused", 60s, [&](std::string* why) {
    StatusOr<Json> project = GetProject(name);
    *why = project.ok() ? StringAt(*project, "/status/phase") : project.status().ToString();
    return project.ok() && StringAt(*project, "/status/phase") == "Paused" &&
           IntAt(*project, "/status/observedGeneration") ==
               IntAt(*project, "/metadata/generation");
  }));
  // Data and keys are kept.
  EXPECT_TRUE(Get(Resource::PersistentVolumeClaims(), ns, "data-db-0").ok());
  EXPECT_EQ(KeySecrets(name)["api-keys"], keys_before);

  ASSERT_TRUE(PatchSpec(name, {{"paused", false}}));
  EXPECT_TRUE(WaitForObject(name, Resource::StatefulSets(), ns, "db", "back at 1",
                            [](const Json& s, std::string* why) { return WorkloadReady(s, 1, why); }));
  for (const char* deployment : {"rest", "auth", "storage"}) {
    EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, deployment, "back at 1",
                              [](const Json& d, std::string* why) { return WorkloadReady(d, 1, why); }));
  }
  EXPECT_TRUE(WaitForReady(name));
  StatusOr<Json> project = GetProject(name);
  ASSERT_TRUE(project.ok());
  EXPECT_EQ(StringAt(*project, "/status/phase"), "Ready");
  EXPECT_EQ(KeySecrets(name)["api-keys"], keys_before);
}

// ---------------------------------------------------------------------------------------------
// A user Secret labelled kubabase.io/reload: its change reaches the project without a resync.

TEST_F(ProjectE2eTest, AChangedUserSecretLabelledForReloadReachesTheProjectWithinSeconds) {
  const std::string name = NewProjectName("reload");
  const std::string ns = ProjectNamespace(name);
  // A Secret of the shared-secrets namespace, consenting to this Project (docs/security.md).
  const std::string shared = kSharedSecretsNamespace;
  const std::string secret = "e2e-smtp-" + RandomSuffix();
  ASSERT_TRUE(EnsureNamespace(shared));
  ASSERT_TRUE(CreateSecret(
      shared, secret, {{"password", "first-password"}},
      {{"labels", {{std::string(project::names::kReloadLabel), "true"}}},
       {"annotations", {{std::string(project::names::kAllowedProjectsAnnotation), name}}}}));

  // The default resync (10 minutes) is far beyond this test: only the watch can be quick.
  ASSERT_TRUE(CreateProject(name, {{"auth",
                                    {{"smtp",
                                      {{"host", "smtp.example.test"},
                                       {"passwordSecretRef",
                                        {{"namespace", shared},
                                         {"name", secret},
                                         {"key", "password"}}}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForReady(name));
  const std::string copy(project::names::kSmtpCredentialsSecret);
  StatusOr<std::map<std::string, std::string>> before = SecretData(*client_, ns, copy);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ((*before)["password"], "first-password");
  const std::string hash_pointer = "/spec/template/metadata/annotations/kubabase.io~1config-hash";
  StatusOr<Json> auth_before = Get(Resource::Deployments(), ns, "auth");
  ASSERT_TRUE(auth_before.ok());

  StatusOr<Json> changed = client_->MergePatch(
      Resource::Secrets(), shared, secret,
      {{"data", {{"password", project::Base64Encode("second-password")}}}});
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_TRUE(Eventually(name, "the copy in " + ns + " to hold the new password", kRestoreTimeout,
                         [&](std::string* why) {
                           StatusOr<std::map<std::string, std::string>> data =
                               SecretData(*client_, ns, copy);
                           *why = data.ok() ? "still the old one" : data.status().ToString();
                           return data.ok() && (*data)["password"] == "second-password";
                         }));
  // GoTrue's pods roll: the password is part of the auth Deployment's config hash.
  EXPECT_TRUE(WaitForObject(name, Resource::Deployments(), ns, "auth", "with a new config hash",
                            [&](const Json& auth, std::string* why) {
                              *why = StringAt(auth, hash_pointer);
                              return StringAt(auth, hash_pointer) !=
                                     StringAt(*auth_before, hash_pointer);
                            },
                            kRestoreTimeout));
}

}  // namespace
}  // namespace kubabase::e2e
