// The operator's RBAC grants exactly what it uses. The operator runs as the ServiceAccount of
// manifests/ (harness::OperatorKubeconfig; the chart renders the same rules, tests/install checks
// that), through a life that makes every kind of request it has: Projects created, a deleted
// child restored, a disabled component and stale children pruned, a host conflict, deletion under
// both policies, Secrets copied from the shared-secrets namespace, Events posted and
// deduplicated, a leader-election Lease taken and released.
//
// The requests are not what the operator says it did: they come from the apiserver's audit log,
// which the local control plane writes for every request of a kubabase-system ServiceAccount
// (scripts/cluster-up.sh). From it the test derives the permissions used, as (verb, group,
// resource[/subresource], namespace), and checks against manifests/clusterrole.yaml and
// manifests/role.yaml that
//   - no request was refused (403) and every permission used is granted, and
//   - every permission granted was used, or is on the short list below of permissions the
//     apiserver checks without a request of that verb (each with its reason), and no permission
//     is granted twice.
// A server-side apply that creates its object is logged as a patch answered 201; it is counted
// as needing create too (the apiserver authorizes it as one).
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

const std::string kServiceAccountUser = std::string("system:serviceaccount:") +
                                        kOperatorNamespace + ":" + kOperatorServiceAccount;

// A permission: verb on group/resource[/subresource]; `ns` says where ("" when cluster-wide).
struct Permission {
  std::string verb;
  std::string group;  // "" for the core group
  std::string resource;
  std::string ns;

  auto Key() const { return std::tie(verb, group, resource, ns); }
  bool operator<(const Permission& other) const { return Key() < other.Key(); }
  std::string ToString() const {
    return verb + " " + resource + (group.empty() ? "" : "." + group) +
           (ns.empty() ? "" : " in " + ns);
  }
};

// Granted though never requested with that verb, and why. Each is proven needed elsewhere: with
// OwnerReferencesPermissionEnforcement on (cluster-up.sh), the children's applies fail without it.
const std::map<std::string, std::string>& GrantsWithoutARequest() {
  static const auto* const kGrants = new std::map<std::string, std::string>{
      {"update projects/finalizers.kubabase.io",
       "every child's ownerReference sets blockOwnerDeletion; the OwnerReferencesPermission"
       "Enforcement admission plugin (on in OpenShift and in our control plane) then checks "
       "update on the owner's finalizers, with no request of that verb"},
  };
  return *kGrants;
}

// Every rule of a (Cluster)Role manifest as (verb, group, resource) grants in `ns`.
std::vector<Permission> Grants(const Json& role, const std::string& ns) {
  std::vector<Permission> out;
  for (const Json& rule : role.value("rules", Json::array())) {
    for (const Json& group : rule.value("apiGroups", Json::array())) {
      for (const Json& resource : rule.value("resources", Json::array())) {
        for (const Json& verb : rule.value("verbs", Json::array())) {
          out.push_back({verb.get<std::string>(), group.get<std::string>(),
                         resource.get<std::string>(), ns});
        }
      }
    }
  }
  return out;
}

bool Covers(const Permission& grant, const Permission& used) {
  return grant.verb == used.verb && grant.group == used.group &&
         grant.resource == used.resource && (grant.ns.empty() || grant.ns == used.ns);
}

// The operator's requests as the apiserver logged them, after byte `offset` of the audit log.
struct AuditedRequests {
  std::map<Permission, int> used;             // what each request needed, with counts
  std::vector<std::string> refused;           // requests answered 403
  std::map<std::string, int> non_resource;    // e.g. "get /version"
  int events = 0;
};

StatusOr<AuditedRequests> ReadAudit(const std::string& path, std::streamoff offset) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read the audit log " + path);
  in.seekg(offset);
  AuditedRequests out;
  std::string line;
  while (std::getline(in, line)) {
    Json event = Json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || StringAt(event, "/user/username") != kServiceAccountUser) continue;
    ++out.events;
    const std::string verb = event.value("verb", "");
    const int64_t code = IntAt(event, "/responseStatus/code", 0);
    if (!event.contains("objectRef")) {
      ++out.non_resource[verb + " " + event.value("requestURI", "")];
      continue;
    }
    const Json& ref = event["objectRef"];
    Permission used{verb, ref.value("apiGroup", ""), ref.value("resource", ""),
                    ref.value("namespace", "")};
    if (ref.contains("subresource")) used.resource += "/" + ref.value("subresource", "");
    if (code == 403) {
      out.refused.push_back(used.ToString() + " " + ref.value("name", "") + ": " +
                            StringAt(event, "/responseStatus/message"));
    }
    ++out.used[used];
    if (verb == "patch" && code == 201) {  // a server-side apply that created the object
      Permission create = used;
      create.verb = "create";
      ++out.used[create];
    }
  }
  return out;
}

class RbacE2eTest : public ProjectE2eTest {
 protected:
  void SetUp() override {
    StatusOr<std::string> dir = ClusterDir();
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    audit_log_ = *dir + "/audit.log";
    std::ifstream in(audit_log_, std::ios::ate);
    ASSERT_TRUE(in) << "no audit log at " << audit_log_
                    << ": the control plane predates it; restart it "
                       "(scripts/cluster-down.sh && scripts/cluster-up.sh)";
    audit_offset_ = in.tellg();
    lease_ = "kubabase-e2e-rbac-" + RandomSuffix();
    ProjectE2eTest::SetUp();
  }

  void TearDown() override {
    ProjectE2eTest::TearDown();
    (void)client_->Delete(Resource::Leases(), kOperatorNamespace, lease_);
  }

  // Leader election on (the Role's Lease), with a Lease of this test's own.
  std::vector<std::string> OperatorArgs() const override {
    return {"--leader-elect=true", "--leader-election-namespace", kOperatorNamespace,
            "--leader-election-id", lease_};
  }

  // Waits until the Event `reason` about Project `name` has been seen at least `count` times.
  ::testing::AssertionResult WaitForEventCount(const std::string& name, const std::string& reason,
                                               int64_t count) {
    return Eventually(name, reason + " Event for " + name + " counted " + std::to_string(count) +
                                " times", 60s, [&](std::string* why) {
      StatusOr<Json> events = ProjectEvents(name, reason);
      if (!events.ok()) {
        *why = events.status().ToString();
        return false;
      }
      int64_t seen = 0;
      for (const Json& event : (*events)["items"]) seen = std::max(seen, IntAt(event, "/count", 1));
      *why = "count " + std::to_string(seen);
      return seen >= count;
    });
  }

  std::string audit_log_;
  std::streamoff audit_offset_ = 0;
  std::string lease_;
  std::string shared_namespace_;  // where the specs' Secrets are, once the test made them
};

TEST_F(RbacE2eTest, TheRolesGrantExactlyThePermissionsTheOperatorsRequestsUse) {
  // Secrets the specs name, in the shared-secrets namespace and consenting to the Project that
  // names them (copied into the project namespace).
  const std::string deleted = NewProjectName("rbacdel");
  shared_namespace_ = kSharedSecretsNamespace;
  const std::string smtp_secret = "e2e-rbac-smtp-" + RandomSuffix();
  const std::string s3_secret = "e2e-rbac-minio-" + RandomSuffix();
  const Json consent = {
      {"annotations", {{std::string(project::names::kAllowedProjectsAnnotation), deleted}}}};
  ASSERT_TRUE(EnsureNamespace(shared_namespace_));
  ASSERT_TRUE(CreateSecret(shared_namespace_, smtp_secret, {{"password", "e2e-smtp-password"}},
                           consent));
  ASSERT_TRUE(CreateSecret(shared_namespace_, s3_secret,
                           {{"AWS_ACCESS_KEY_ID", "e2e-access"},
                            {"AWS_SECRET_ACCESS_KEY", "e2e-secret"}},
                           consent));

  // deleted: everything on, deletionPolicy Delete. kept: the default (Retain). rival: claims
  // deleted's host, so it is stalled and warned about.
  const std::string kept = NewProjectName("rbackeep");
  const std::string rival = NewProjectName("rbacrival");
  const std::string host = deleted + ".rbac.kubabase.localhost";
  const Json full_spec = {
      {"deletionPolicy", "Delete"},
      {"host", host},
      {"auth",
       {{"smtp",
         {{"host", "smtp.example.test"},
          {"port", 587},
          {"user", "apikey"},
          {"adminEmail", "no-reply@example.test"},
          {"passwordSecretRef",
           {{"namespace", shared_namespace_}, {"name", smtp_secret}, {"key", "password"}}}}}}},
      {"storage",
       {{"backend", "s3"},
        {"s3",
         {{"endpoint", "http://minio.example.test:9000"},
          {"bucket", "rbac"},
          {"region", "us-east-1"},
          {"credentialsSecretRef", {{"namespace", shared_namespace_}, {"name", s3_secret}}}}}}}};
  ASSERT_TRUE(CreateProject(deleted, full_spec).ok());
  ASSERT_TRUE(CreateProject(kept).ok());
  ASSERT_TRUE(WaitForReady(deleted));
  ASSERT_TRUE(WaitForReady(kept));
  // The Secrets named by the spec were read and copied into the project namespace.
  const std::string ns = ProjectNamespace(deleted);
  StatusOr<std::map<std::string, std::string>> smtp =
      SecretData(*client_, ns, std::string(project::names::kSmtpCredentialsSecret));
  ASSERT_TRUE(smtp.ok()) << smtp.status().ToString();
  EXPECT_TRUE(smtp->count("password") && smtp->at("password") == "e2e-smtp-password")
      << "the SMTP password was not copied";
  StatusOr<std::map<std::string, std::string>> s3 =
      SecretData(*client_, ns, std::string(project::names::kS3CredentialsSecret));
  ASSERT_TRUE(s3.ok()) << s3.status().ToString();
  EXPECT_TRUE(s3->count("AWS_SECRET_ACCESS_KEY") && s3->at("AWS_SECRET_ACCESS_KEY") == "e2e-secret")
      << "the S3 credentials were not copied";

  // A child deleted by someone else comes back, twice: the second "Created" Event is the first
  // one counted again (a patch). A component switched off is pruned.
  for (int round = 1; round <= 2; ++round) {
    StatusOr<Json> before = Get(Resource::Services(), ns, "rest");
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    ASSERT_TRUE(client_->Delete(Resource::Services(), ns, "rest").ok());
    EXPECT_TRUE(WaitForObject(deleted, Resource::Services(), ns, "rest", "restored",
                              [&](const Json& service, std::string*) {
                                return StringAt(service, "/metadata/uid") !=
                                       StringAt(*before, "/metadata/uid");
                              },
                              kRestoreTimeout));
  }
  EXPECT_TRUE(WaitForEventCount(deleted, "Created", 2));
  ASSERT_TRUE(PatchSpec(deleted, {{"storage", {{"enabled", false}}}}));
  EXPECT_TRUE(WaitForGone(deleted, Resource::Deployments(), ns, "storage", 60s));
  EXPECT_TRUE(WaitForReady(deleted));

  // What an older operator made and this one no longer renders (same labels) is pruned.
  const Json stale_labels = {{std::string(project::names::kManagedByLabel),
                              std::string(project::names::kManagedByValue)},
                             {std::string(project::names::kProjectLabel), deleted}};
  const std::vector<std::pair<const Resource*, Json>> stale = {
      {&Resource::ConfigMaps(),
       {{"apiVersion", "v1"},
        {"kind", "ConfigMap"},
        {"metadata", {{"name", "stale-settings"}, {"labels", stale_labels}}},
        {"data", {{"from", "an older kubabase"}}}}},
      {&Resource::NetworkPolicies(),
       {{"apiVersion", "networking.k8s.io/v1"},
        {"kind", "NetworkPolicy"},
        {"metadata", {{"name", "stale-policy"}, {"labels", stale_labels}}},
        {"spec", {{"podSelector", Json::object()}, {"policyTypes", {"Ingress"}}}}}},
  };
  for (const auto& [resource, object] : stale) {
    StatusOr<Json> created = client_->Create(*resource, ns, object);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  for (const auto& [resource, object] : stale) {
    EXPECT_TRUE(WaitForGone(deleted, *resource, ns, StringAt(object, "/metadata/name"), 30s));
  }

  // A conflict: a Warning Event.
  std::this_thread::sleep_for(1100ms);  // a later creationTimestamp (second resolution)
  ASSERT_TRUE(CreateProject(rival, {{"host", host}}).ok());
  EXPECT_TRUE(WaitForEventCount(rival, "HostConflict", 1));

  // Both deletion policies, and the rival (which owns nothing).
  for (const std::string& name : {deleted, kept, rival}) {
    ASSERT_TRUE(client_->Delete(Projects(), "", name).ok()) << name;
  }
  for (const std::string& name : {deleted, kept, rival}) {
    EXPECT_TRUE(WaitForGone(name, Projects(), "", name, 180s));
  }
  EXPECT_TRUE(WaitForGone(deleted, Resource::Namespaces(), "", ns, 60s));

  // Stopping releases the Lease (an update).
  StatusOr<int> stopped = operator_->Stop(SIGTERM, 30s);
  ASSERT_TRUE(stopped.ok() && *stopped == 0)
      << (stopped.ok() ? "exit " + std::to_string(*stopped) : stopped.status().ToString());
  operator_.reset();
  StatusOr<Json> lease = Get(Resource::Leases(), kOperatorNamespace, lease_);
  ASSERT_TRUE(lease.ok()) << "the operator never took its Lease: " << lease.status().ToString();

  StatusOr<AuditedRequests> audited = ReadAudit(audit_log_, audit_offset_);
  ASSERT_TRUE(audited.ok()) << audited.status().ToString();
  ASSERT_GT(audited->events, 0) << "the audit log has no request of " << kServiceAccountUser;

  StatusOr<Json> cluster_role = YamlFileToJson(SourceDir() + "/manifests/clusterrole.yaml");
  StatusOr<Json> role = YamlFileToJson(SourceDir() + "/manifests/role.yaml");
  ASSERT_TRUE(cluster_role.ok()) << cluster_role.status().ToString();
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  std::vector<Permission> grants = Grants(*cluster_role, "");
  for (Permission& p : Grants(*role, StringAt(*role, "/metadata/namespace"))) grants.push_back(p);

  // The table folds the per-project namespaces into one row.
  std::map<Permission, int> rows;
  for (const auto& [used, count] : audited->used) {
    Permission row = used;
    if (row.ns.rfind("project-", 0) == 0) row.ns = "project-*";
    if (row.ns == shared_namespace_) row.ns = "(spec's Secrets)";
    rows[row] += count;
  }
  std::printf("%-8s %-40s %-18s %s\n", "VERB", "RESOURCE", "NAMESPACE", "REQUESTS");
  for (const auto& [row, count] : rows) {
    std::printf("%-8s %-40s %-18s %d\n", row.verb.c_str(),
                (row.resource + (row.group.empty() ? "" : "." + row.group)).c_str(),
                row.ns.empty() ? "(all)" : row.ns.c_str(), count);
  }
  for (const auto& [request, count] : audited->non_resource) {
    std::printf("non-resource request (granted to every user by the default roles): %s x%d\n",
                request.c_str(), count);
  }

  std::string refused;
  for (const std::string& r : audited->refused) refused += "  " + r + "\n";
  EXPECT_TRUE(refused.empty()) << "requests refused (403):\n" << refused;

  std::string missing;
  for (const auto& [used, count] : audited->used) {
    bool covered = false;
    for (const Permission& grant : grants) covered = covered || Covers(grant, used);
    if (!covered) missing += "  " + used.ToString() + " (" + std::to_string(count) + " requests)\n";
  }
  EXPECT_TRUE(missing.empty()) << "used but not granted by manifests/clusterrole.yaml or "
                                  "role.yaml:\n" << missing;

  std::string unused;
  std::string twice;
  for (size_t i = 0; i < grants.size(); ++i) {
    const Permission& grant = grants[i];
    for (size_t j = 0; j < grants.size(); ++j) {
      if (j != i && Covers(grants[j], grant) && (j < i || !Covers(grant, grants[j]))) {
        twice += "  " + grant.ToString() + " (also " + grants[j].ToString() + ")\n";
        break;
      }
    }
    const std::string key = grant.verb + " " + grant.resource +
                            (grant.group.empty() ? "" : "." + grant.group);
    if (GrantsWithoutARequest().count(key)) continue;
    bool used_it = false;
    for (const auto& [used, count] : audited->used) used_it = used_it || Covers(grant, used);
    if (!used_it) unused += "  " + grant.ToString() + "\n";
  }
  EXPECT_TRUE(unused.empty()) << "granted but never used in this run (drop them, or say in "
                                 "GrantsWithoutARequest why the apiserver needs them):\n"
                              << unused;
  EXPECT_TRUE(twice.empty()) << "granted twice:\n" << twice;
}

// ---------------------------------------------------------------------------------------------
// A role that lacks a permission: the user reads it on the Project, not only in the log.

class MissingPermissionE2eTest : public ProjectE2eTest {
 protected:
  void TearDown() override {
    Status restored = InstallOperatorIdentity(*client_);  // whatever happened above
    EXPECT_TRUE(restored.ok()) << restored.ToString();
    ProjectE2eTest::TearDown();
  }
};

TEST_F(MissingPermissionE2eTest, AMissingPermissionShowsOnTheProjectAndHealsOnceTheRoleIsMended) {
  // Take NetworkPolicies out of the ClusterRole, as an over-eager hand might.
  StatusOr<Json> role = client_->Get(ClusterRoles(), "", "kubabase");
  ASSERT_TRUE(role.ok()) << role.status().ToString();
  Json rules = Json::array();
  for (Json rule : (*role)["rules"]) {
    Json resources = Json::array();
    for (const Json& r : rule["resources"]) {
      if (r != "networkpolicies") resources.push_back(r);
    }
    rule["resources"] = resources;
    rules.push_back(rule);
  }
  (*role)["rules"] = rules;
  ASSERT_TRUE(client_->Update(ClusterRoles(), "", "kubabase", *role).ok());

  const std::string name = NewProjectName("forbidden");
  ASSERT_TRUE(CreateProject(name).ok());
  EXPECT_TRUE(WaitForNotReady(name, "PermissionDenied", {"networkpolicies"}));
  StatusOr<Json> stalled = GetProject(name);
  ASSERT_TRUE(stalled.ok());
  EXPECT_TRUE(ConditionIs(*stalled, "Stalled", "True")) << Diagnostics(name);
  EXPECT_EQ(StringAt(*stalled, "/status/phase"), "Failed");
  StatusOr<Json> events = ProjectEvents(name, "PermissionDenied", "Warning");
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_FALSE((*events)["items"].empty()) << "no PermissionDenied Warning Event";

  // Mended: the operator's next retry (30 s after a refusal) finds it and the Project converges.
  Status restored = InstallOperatorIdentity(*client_);
  ASSERT_TRUE(restored.ok()) << restored.ToString();
  EXPECT_TRUE(WaitForReady(name, 120s));
}

}  // namespace
}  // namespace kubabase::e2e
