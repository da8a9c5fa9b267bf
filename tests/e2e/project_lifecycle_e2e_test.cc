// End to end: the kubabase binary, run as a process, against the local control plane (real
// kube-apiserver, controller-manager, scheduler; kwok simulates pods). Each test starts its own
// operator (tests run one at a time: ctest RESOURCE_LOCK), uses Projects of its own (cluster
// scoped, so names carry a random suffix) and deletes them afterwards.
//
// What is proven here and nowhere else: that a Project becomes a working set of children and a
// Ready status through the real API (server-side apply, watches, the status subresource,
// finalizers, garbage collection), that the operator restores what others change, that secrets
// survive deletion (Retain) and crashes, that conflicts are reported, and that a steady state
// makes no writes.
//
// Every wait is bounded and its failure prints the Project (metadata and status) and the tail of
// the operator's log.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "controller/kube/resource.h"
#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/harness.h"

namespace kubabase::e2e {
namespace {

using namespace harness;  // NOLINT: the harness is this file's vocabulary

using kube::Resource;
using namespace std::chrono_literals;

const Resource& Projects() {
  static const Resource projects{.group = "kubabase.io",
                                 .version = "v1alpha1",
                                 .resource = "projects",
                                 .kind = "Project",
                                 .namespaced = false};
  return projects;
}

// Generous: the machine running these is small and shared.
constexpr auto kReadyTimeout = 180s;
constexpr auto kRestoreTimeout = 20s;
constexpr auto kGoneTimeout = 120s;

std::string RandomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 5; ++i) out.push_back(kChars[rng() % 36]);
  return out;
}

std::string ProjectNamespace(const std::string& project) { return "project-" + project; }

std::string Labels(const Json& object) {
  return object.contains("metadata") && object["metadata"].contains("labels")
             ? object["metadata"]["labels"].dump()
             : "{}";
}

bool HasOwner(const Json& object, const std::string& uid) {
  Json::json_pointer p("/metadata/ownerReferences");
  if (!object.contains(p) || !object[p].is_array()) return false;
  for (const Json& ref : object[p]) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

bool ConditionIs(const Json& object, const std::string& type, const std::string& status) {
  Json condition = Condition(object, type);
  return condition.is_object() && condition.value("status", "") == status;
}

// "kind name: why" for a workload that is not fully ready.
bool WorkloadReady(const Json& workload, int64_t replicas, std::string* why) {
  const int64_t desired = IntAt(workload, "/spec/replicas");
  const int64_t ready = IntAt(workload, "/status/readyReplicas", 0);
  const int64_t updated = IntAt(workload, "/status/updatedReplicas", 0);
  const int64_t total = IntAt(workload, "/status/replicas", 0);
  *why = StringAt(workload, "/kind") + " " + StringAt(workload, "/metadata/name") +
         ": spec.replicas=" + std::to_string(desired) + " ready=" + std::to_string(ready) +
         " updated=" + std::to_string(updated) + " total=" + std::to_string(total);
  return desired == replicas && ready == replicas && updated == replicas && total == replicas &&
         IntAt(workload, "/status/observedGeneration") == IntAt(workload, "/metadata/generation");
}

// A test with a connection to the cluster, the CRD, and (unless the subclass says no) an operator.
class ProjectE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<kube::HttpApiClient>> client = ConnectToCluster(nullptr);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    Status crd = EnsureProjectCrd(*client_, 60s);
    ASSERT_TRUE(crd.ok()) << crd.ToString();
    if (WantsOperator()) {
      ASSERT_NO_FATAL_FAILURE(StartOperator());
    }
  }

  void TearDown() override {
    // Delete our Projects while the operator still runs (it removes its finalizer; Retain is the
    // quick path), then their namespaces without waiting (namespace deletion takes seconds).
    if (!operator_ || !operator_->Running()) {
      if (operator_) {
        std::printf("%s\n", operator_->LogTail(15).c_str());
        operator_.reset();
      }
      if (WantsOperator()) StartOperator();
    }
    for (const std::string& name : projects_) {
      (void)client_->MergePatch(Projects(), "", name, {{"spec", {{"deletionPolicy", "Retain"}}}});
      Status deleted = client_->Delete(Projects(), "", name);
      if (!deleted.ok() && !deleted.IsNotFound()) ADD_FAILURE() << deleted.ToString();
    }
    for (const std::string& name : projects_) {
      Status gone = WaitUntil(
          [&](std::string* why) {
            StatusOr<Json> got = client_->Get(Projects(), "", name);
            return !got.ok() && got.status().IsNotFound();
          },
          30s, "Project " + name + " to go");
      if (!gone.ok()) {
        ADD_FAILURE() << "cleanup: " << gone.ToString() << "\n" << Diagnostics(name);
        (void)client_->MergePatch(Projects(), "", name, {{"metadata", {{"finalizers", nullptr}}}});
      }
      (void)client_->Delete(Resource::Namespaces(), "", ProjectNamespace(name));
    }
    if (operator_) {
      StatusOr<int> stopped = operator_->Stop(SIGTERM, 30s);
      EXPECT_TRUE(stopped.ok() && *stopped == 0)
          << (stopped.ok() ? "exit code " + std::to_string(*stopped) : stopped.status().ToString());
      if (HasFailure()) std::printf("%s\n", operator_->LogTail(60).c_str());
    }
  }

  virtual bool WantsOperator() const { return true; }
  virtual std::vector<std::string> OperatorArgs() const { return {}; }

  void StartOperator() {
    OperatorProcess::Options options;
    options.binary = OperatorBinary();
    StatusOr<std::string> kubeconfig = KubeconfigPath();
    ASSERT_TRUE(kubeconfig.ok()) << kubeconfig.status().ToString();
    options.kubeconfig = *kubeconfig;
    options.extra_args = OperatorArgs();
    StatusOr<std::unique_ptr<OperatorProcess>> started = OperatorProcess::Start(options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    operator_ = std::move(*started);
    Status ready = operator_->WaitReady(60s);
    ASSERT_TRUE(ready.ok()) << ready.ToString();
  }

  // "e2e-<hint>-<random>", remembered for cleanup.
  std::string NewProjectName(const std::string& hint) {
    std::string name = "e2e-" + hint + "-" + RandomSuffix();
    projects_.push_back(name);
    return name;
  }

  static Json ProjectObject(const std::string& name, const Json& spec) {
    return {{"apiVersion", "kubabase.io/v1alpha1"},
            {"kind", "Project"},
            {"metadata", {{"name", name}, {"labels", {{"kubabase.io/e2e", "true"}}}}},
            {"spec", spec}};
  }

  StatusOr<Json> CreateProject(const std::string& name, const Json& spec = Json::object()) {
    return client_->Create(Projects(), "", ProjectObject(name, spec));
  }

  StatusOr<Json> GetProject(const std::string& name) {
    return client_->Get(Projects(), "", name);
  }

  ::testing::AssertionResult PatchSpec(const std::string& name, const Json& spec) {
    StatusOr<Json> patched = client_->MergePatch(Projects(), "", name, {{"spec", spec}});
    if (patched.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "patching spec of " << name << " with " << spec.dump()
                                         << ": " << patched.status().ToString();
  }

  StatusOr<Json> Get(const Resource& resource, const std::string& ns, const std::string& name) {
    return client_->Get(resource, ns, name);
  }

  // The Project (metadata without managedFields, status) and the operator's log tail.
  std::string Diagnostics(const std::string& name) {
    std::string out = "---- Project " + name + " ----\n";
    StatusOr<Json> project = GetProject(name);
    if (project.ok()) {
      Json shown = *project;
      if (shown.contains("metadata")) shown["metadata"].erase("managedFields");
      out += shown.dump(2) + "\n";
    } else {
      out += project.status().ToString() + "\n";
    }
    if (operator_) out += operator_->LogTail(40);
    return out;
  }

  // Polls until `condition` holds; on timeout the failure names `what`, the last thing seen and
  // the diagnostics of `project`.
  ::testing::AssertionResult Eventually(const std::string& project, const std::string& what,
                                        std::chrono::milliseconds timeout,
                                        const std::function<bool(std::string* why)>& condition) {
    Status waited = WaitUntil(condition, timeout, what);
    if (waited.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << waited.message() << "\n" << Diagnostics(project);
  }

  // Ready=True for the current generation: observedGeneration == metadata.generation on the
  // status and on the Ready condition.
  ::testing::AssertionResult WaitForReady(const std::string& name,
                                          std::chrono::milliseconds timeout = kReadyTimeout) {
    return Eventually(name, "Project " + name + " Ready=True at its current generation", timeout,
                      [&](std::string* why) {
                        StatusOr<Json> project = GetProject(name);
                        if (!project.ok()) {
                          *why = project.status().ToString();
                          return false;
                        }
                        const int64_t generation = IntAt(*project, "/metadata/generation");
                        Json ready = Condition(*project, "Ready");
                        *why = "phase=" + StringAt(*project, "/status/phase") + " generation=" +
                               std::to_string(generation) + " observedGeneration=" +
                               std::to_string(IntAt(*project, "/status/observedGeneration")) +
                               " Ready=" + ready.dump();
                        return ready.is_object() && ready.value("status", "") == "True" &&
                               IntAt(*project, "/status/observedGeneration") == generation &&
                               ready.value("observedGeneration", int64_t{-1}) == generation;
                      });
  }

  // Waits until `resource` ns/name exists and `check` accepts it.
  ::testing::AssertionResult WaitForObject(const std::string& project, const Resource& resource,
                                           const std::string& ns, const std::string& name,
                                           const std::string& what,
                                           const std::function<bool(const Json&, std::string*)>& check,
                                           std::chrono::milliseconds timeout = kReadyTimeout) {
    return Eventually(project, resource.kind + " " + ns + "/" + name + " " + what, timeout,
                      [&](std::string* why) {
                        StatusOr<Json> got = Get(resource, ns, name);
                        if (!got.ok()) {
                          *why = got.status().ToString();
                          return false;
                        }
                        return check(*got, why);
                      });
  }

  ::testing::AssertionResult WaitForGone(const std::string& project, const Resource& resource,
                                         const std::string& ns, const std::string& name,
                                         std::chrono::milliseconds timeout = kGoneTimeout) {
    return Eventually(project, resource.kind + " " + (ns.empty() ? "" : ns + "/") + name + " gone",
                      timeout, [&](std::string* why) {
                        StatusOr<Json> got = Get(resource, ns, name);
                        if (got.ok()) {
                          *why = "still there, deletionTimestamp=" +
                                 StringAt(*got, "/metadata/deletionTimestamp");
                          return false;
                        }
                        *why = got.status().ToString();
                        return got.status().IsNotFound();
                      });
  }

  // Both generated Secrets' data, decoded.
  std::map<std::string, std::map<std::string, std::string>> KeySecrets(const std::string& project) {
    std::map<std::string, std::map<std::string, std::string>> out;
    for (std::string_view secret : {project::names::kDbCredentialsSecret,
                                    project::names::kApiKeysSecret}) {
      StatusOr<std::map<std::string, std::string>> data =
          SecretData(*client_, ProjectNamespace(project), std::string(secret));
      if (data.ok()) out[std::string(secret)] = *data;
    }
    return out;
  }

  std::vector<MetricSample> Metrics() {
    StatusOr<std::string> text = operator_->Scrape("/metrics");
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    return text.ok() ? ParseMetrics(*text) : std::vector<MetricSample>{};
  }

  std::unique_ptr<kube::HttpApiClient> client_;
  std::unique_ptr<OperatorProcess> operator_;
  std::vector<std::string> projects_;
};

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
      {Resource::NetworkPolicies(), "allow-same-namespace-and-ingress"},
      {Resource::NetworkPolicies(), "db-same-namespace-only"},
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
// Deletion policies.

TEST_F(ProjectE2eTest, DeletionPolicyDeleteRemovesTheNamespaceBeforeTheProjectGoes) {
  const std::string name = NewProjectName("delete");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name, {{"deletionPolicy", "Delete"}}).ok());
  ASSERT_TRUE(WaitForReady(name));

  ASSERT_TRUE(client_->Delete(Projects(), "", name).ok());
  // While the Project exists its namespace may still be terminating; once the Project is gone,
  // the namespace must be gone too (the finalizer waited for it).
  ASSERT_TRUE(WaitForGone(name, Projects(), "", name, 180s));
  StatusOr<Json> namespace_object = Get(Resource::Namespaces(), "", ns);
  EXPECT_TRUE(!namespace_object.ok() && namespace_object.status().IsNotFound())
      << "namespace " << ns << " outlived its Project: "
      << (namespace_object.ok() ? StringAt(*namespace_object, "/status/phase")
                                : namespace_object.status().ToString())
      << "\n"
      << operator_->LogTail(30);
}

TEST_F(ProjectE2eTest, DeletionPolicyRetainKeepsDataAndKeysAndANewProjectAdoptsThem) {
  const std::string name = NewProjectName("retain");
  const std::string ns = ProjectNamespace(name);
  StatusOr<Json> created = CreateProject(name);  // Retain is the default
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string old_uid = StringAt(*created, "/metadata/uid");
  ASSERT_TRUE(WaitForReady(name));
  const auto keys_before = KeySecrets(name);
  ASSERT_EQ(keys_before.size(), 2u);
  std::map<std::string, std::string> claim_uids;
  for (const char* claim : {"data-db-0", "storage-data"}) {
    StatusOr<Json> pvc = Get(Resource::PersistentVolumeClaims(), ns, claim);
    ASSERT_TRUE(pvc.ok()) << claim << ": " << pvc.status().ToString();
    claim_uids[claim] = StringAt(*pvc, "/metadata/uid");
  }

  ASSERT_TRUE(client_->Delete(Projects(), "", name).ok());
  ASSERT_TRUE(WaitForGone(name, Projects(), "", name, 60s));
  // Workloads go (the finalizer deletes them) ...
  for (const char* deployment : {"rest", "auth", "storage"}) {
    EXPECT_TRUE(WaitForGone(name, Resource::Deployments(), ns, deployment, 60s));
  }
  EXPECT_TRUE(WaitForGone(name, Resource::StatefulSets(), ns, "db", 60s));
  // ... let garbage collection have its chance at anything still owned by the old Project ...
  std::this_thread::sleep_for(5s);
  // ... the namespace, the Secrets and the PVCs stay, owned by nobody that is gone.
  StatusOr<Json> namespace_object = Get(Resource::Namespaces(), "", ns);
  ASSERT_TRUE(namespace_object.ok()) << namespace_object.status().ToString();
  EXPECT_TRUE(StringAt(*namespace_object, "/metadata/deletionTimestamp").empty());
  EXPECT_EQ(StringAt(*namespace_object, "/metadata/labels/kubabase.io~1retained"), "true")
      << Labels(*namespace_object);
  EXPECT_FALSE(HasOwner(*namespace_object, old_uid));
  for (std::string_view secret : {project::names::kDbCredentialsSecret,
                                  project::names::kApiKeysSecret}) {
    StatusOr<Json> got = Get(Resource::Secrets(), ns, std::string(secret));
    ASSERT_TRUE(got.ok()) << secret << ": " << got.status().ToString();
    EXPECT_FALSE(HasOwner(*got, old_uid)) << secret;
  }
  for (const auto& [claim, claim_uid] : claim_uids) {
    StatusOr<Json> pvc = Get(Resource::PersistentVolumeClaims(), ns, claim);
    ASSERT_TRUE(pvc.ok()) << claim << ": " << pvc.status().ToString();
    EXPECT_EQ(StringAt(*pvc, "/metadata/uid"), claim_uid) << claim;
    EXPECT_TRUE(StringAt(*pvc, "/metadata/deletionTimestamp").empty()) << claim;
  }
  EXPECT_EQ(KeySecrets(name), keys_before) << "retained Secrets changed";

  // A new Project of the same name adopts the namespace: same keys, same volumes.
  StatusOr<Json> again = CreateProject(name);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const std::string new_uid = StringAt(*again, "/metadata/uid");
  ASSERT_TRUE(WaitForReady(name));
  EXPECT_EQ(KeySecrets(name), keys_before) << "keys were regenerated on adoption";
  for (const auto& [claim, claim_uid] : claim_uids) {
    StatusOr<Json> pvc = Get(Resource::PersistentVolumeClaims(), ns, claim);
    ASSERT_TRUE(pvc.ok()) << claim;
    EXPECT_EQ(StringAt(*pvc, "/metadata/uid"), claim_uid) << claim << " is not the old volume";
  }
  StatusOr<Json> rest = Get(Resource::Deployments(), ns, "rest");
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(HasOwner(*rest, new_uid)) << "the new workloads are not owned by the new Project";
}

// ---------------------------------------------------------------------------------------------
// Conflicts.

TEST_F(ProjectE2eTest, ASecondProjectClaimingAHostIsStalledAndTheFirstIsUntouched) {
  const std::string suffix = RandomSuffix();
  const std::string first = "e2e-hosta-" + suffix;
  const std::string second = "e2e-hostb-" + suffix;
  projects_.push_back(first);
  projects_.push_back(second);
  const std::string host = "shared-" + suffix + ".example.test";
  ASSERT_TRUE(CreateProject(first, {{"host", host}}).ok());
  ASSERT_TRUE(WaitForReady(first));
  StatusOr<Json> ingress_before = Get(Resource::Ingresses(), ProjectNamespace(first), "api");
  ASSERT_TRUE(ingress_before.ok());
  EXPECT_EQ(StringAt(*ingress_before, "/spec/rules/0/host"), host);

  std::this_thread::sleep_for(1100ms);  // a later creationTimestamp (second resolution)
  ASSERT_TRUE(CreateProject(second, {{"host", host}}).ok());
  EXPECT_TRUE(Eventually(second, "Project " + second + " Ready=False reason HostConflict", 60s,
                         [&](std::string* why) {
                           StatusOr<Json> project = GetProject(second);
                           if (!project.ok()) return false;
                           Json ready = Condition(*project, "Ready");
                           *why = ready.dump();
                           return ready.is_object() && ready.value("status", "") == "False" &&
                                  ready.value("reason", "") == "HostConflict" &&
                                  ready.value("message", "").find(host) != std::string::npos &&
                                  ready.value("message", "").find(first) != std::string::npos;
                         }));
  StatusOr<Json> stalled = GetProject(second);
  ASSERT_TRUE(stalled.ok());
  EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(second);
  EXPECT_EQ(IntAt(*stalled, "/status/observedGeneration"), IntAt(*stalled, "/metadata/generation"));

  // An Event about the second Project says so (cluster-scoped objects' Events go to "default").
  EXPECT_TRUE(Eventually(second, "a HostConflict Event for " + second, 30s, [&](std::string* why) {
    StatusOr<Json> events = client_->List(
        Resource::Events(), "default",
        Selecting("", "involvedObject.name=" + second + ",reason=HostConflict"));
    if (!events.ok()) {
      *why = events.status().ToString();
      return false;
    }
    for (const Json& event : (*events)["items"]) {
      if (StringAt(event, "/type") == "Warning" &&
          StringAt(event, "/involvedObject/kind") == "Project") {
        return true;
      }
    }
    *why = std::to_string((*events)["items"].size()) + " matching events";
    return false;
  }));

  // Nothing was made for the loser; the winner is as it was.
  StatusOr<Json> loser_namespace = Get(Resource::Namespaces(), "", ProjectNamespace(second));
  EXPECT_TRUE(!loser_namespace.ok() && loser_namespace.status().IsNotFound())
      << "the conflicting Project got a namespace";
  StatusOr<Json> winner = GetProject(first);
  ASSERT_TRUE(winner.ok());
  EXPECT_TRUE(ConditionIs(*winner, "Ready", "True")) << Diagnostics(first);
  StatusOr<Json> ingress_after = Get(Resource::Ingresses(), ProjectNamespace(first), "api");
  ASSERT_TRUE(ingress_after.ok());
  EXPECT_EQ(StringAt(*ingress_after, "/metadata/resourceVersion"),
            StringAt(*ingress_before, "/metadata/resourceVersion"))
      << "the first Project's Ingress was touched";
}

// ---------------------------------------------------------------------------------------------
// Crash safety.

TEST_F(ProjectE2eTest, AnOperatorKilledMidProvisioningConvergesWithoutRegeneratingSecrets) {
  const std::string name = NewProjectName("crash");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());
  // Kill it as soon as the first Secret exists: provisioning has begun, and is not finished.
  Status first_secret = WaitUntil(
      [&](std::string*) {
        return Get(Resource::Secrets(), ns, "api-keys").ok() ||
               Get(Resource::Secrets(), ns, "db-credentials").ok();
      },
      kReadyTimeout, "the first generated Secret", 20ms);
  ASSERT_TRUE(first_secret.ok()) << first_secret.ToString() << "\n" << Diagnostics(name);
  operator_->Kill();
  StatusOr<Json> at_kill = GetProject(name);
  ASSERT_TRUE(at_kill.ok());
  std::printf("killed the operator with SIGKILL at phase '%s'\n",
              StringAt(*at_kill, "/status/phase").c_str());
  EXPECT_FALSE(ConditionIs(*at_kill, "Ready", "True")) << "too late: the project was Ready";
  const auto secrets_at_kill = KeySecrets(name);
  ASSERT_FALSE(secrets_at_kill.empty());

  ASSERT_NO_FATAL_FAILURE(StartOperator());
  ASSERT_TRUE(WaitForReady(name));
  const auto secrets_after = KeySecrets(name);
  ASSERT_EQ(secrets_after.size(), 2u);
  for (const auto& [secret, data] : secrets_at_kill) {
    EXPECT_EQ(secrets_after.at(secret), data) << secret << " was regenerated after the restart";
  }
}

// ---------------------------------------------------------------------------------------------
// The process.

TEST_F(ProjectE2eTest, SigtermStopsTheOperatorPromptlyWithExitCodeZero) {
  const std::string name = NewProjectName("sigterm");
  ASSERT_TRUE(CreateProject(name).ok());
  // Mid-work: the namespace exists, the project is not Ready yet (or just became so).
  ASSERT_TRUE(WaitForObject(name, Resource::Namespaces(), "", ProjectNamespace(name), "exists",
                            [](const Json&, std::string*) { return true; }));
  const auto started = std::chrono::steady_clock::now();
  StatusOr<int> stopped = operator_->Stop(SIGTERM, 10s);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << operator_->LogTail(30);
  std::printf("SIGTERM -> exit %d after %.2f s\n", *stopped, seconds);
  // The next operator (TearDown's) finishes the work; the Project is cleaned up as usual.
  operator_.reset();
}

// ---------------------------------------------------------------------------------------------
// Efficiency: a steady state makes zero writes.

class SteadyStateE2eTest : public ProjectE2eTest {
 protected:
  std::vector<std::string> OperatorArgs() const override { return {"--resync-period", "5s"}; }
};

TEST_F(SteadyStateE2eTest, ResyncsOfAReadyProjectMakeNoWriteRequests) {
  const std::string name = NewProjectName("steady");
  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForReady(name));
  auto writes = [](const std::vector<MetricSample>& samples) {
    double total = 0;
    for (const auto& [key, count] : WritesByVerbAndResource(samples)) total += count;
    return total;
  };
  // Let the last status write and the pods' last transitions settle: writes stop changing.
  double settled = -1;
  auto stable_since = std::chrono::steady_clock::now();
  EXPECT_TRUE(Eventually(name, "write requests to stop for 6 s after Ready", 60s,
                         [&](std::string* why) {
                           double now_writes = writes(Metrics());
                           if (now_writes != settled) {
                             settled = now_writes;
                             stable_since = std::chrono::steady_clock::now();
                           }
                           *why = std::to_string(now_writes) + " writes";
                           return std::chrono::steady_clock::now() - stable_since > 6s;
                         }));
  std::vector<MetricSample> before = Metrics();
  const double reconciles_before = SumMetric(before, "kubabase_reconcile_total");
  std::this_thread::sleep_for(16s);  // three resync periods
  std::vector<MetricSample> after = Metrics();
  const double reconciles_after = SumMetric(after, "kubabase_reconcile_total");
  EXPECT_GE(reconciles_after - reconciles_before, 2)
      << "no resync happened; the test proves nothing\n" << operator_->LogTail(20);
  const auto writes_before = WritesByVerbAndResource(before);
  const auto writes_after = WritesByVerbAndResource(after);
  std::string diff;
  for (const auto& [key, count] : writes_after) {
    double was = writes_before.count(key) ? writes_before.at(key) : 0;
    if (count != was) diff += "  " + key + ": +" + std::to_string(count - was) + "\n";
  }
  EXPECT_TRUE(diff.empty()) << "writes during " << (reconciles_after - reconciles_before)
                            << " steady-state reconciles:\n"
                            << diff << Diagnostics(name);
  std::printf("steady state: %.0f reconciles in 16 s, %zu kinds of write\n",
              reconciles_after - reconciles_before, diff.empty() ? size_t{0} : size_t{1});
}

// ---------------------------------------------------------------------------------------------
// The schema: no operator needed.

class ProjectApiTest : public ProjectE2eTest {
 protected:
  bool WantsOperator() const override { return false; }
};

TEST_F(ProjectApiTest, BadSpecsAreRejectedByTheApiserverWithAMessageNamingTheField) {
  struct Case {
    std::string what;
    std::string name;
    Json spec;
    std::string field;
  };
  const std::string suffix = RandomSuffix();
  const std::vector<Case> cases = {
      {"a name longer than 40 characters", "e2e-" + std::string(37, 'n'), Json::object(),
       "metadata.name"},
      {"negative replicas", "e2e-badreplicas-" + suffix, {{"rest", {{"replicas", -1}}}},
       "spec.rest.replicas"},
      {"backend s3 without an endpoint", "e2e-bads3-" + suffix,
       {{"storage", {{"backend", "s3"}, {"s3", {{"bucket", "b"}}}}}}, "spec.storage.s3.endpoint"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    projects_.push_back(c.name);  // cleaned up should the apiserver accept it
    StatusOr<Json> created = CreateProject(c.name, c.spec);
    ASSERT_FALSE(created.ok()) << "accepted: " << c.spec.dump();
    EXPECT_EQ(created.status().code(), StatusCode::kInvalidArgument)
        << created.status().ToString();
    EXPECT_NE(created.status().message().find(c.field), std::string::npos)
        << "the message does not name " << c.field << ": " << created.status().message();
    EXPECT_TRUE(GetProject(c.name).status().IsNotFound());
  }
}

}  // namespace
}  // namespace kubabase::e2e
