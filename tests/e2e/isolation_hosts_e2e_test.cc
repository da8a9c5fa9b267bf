// Tenant isolation, hosts and namespaces (docs/security.md items 3, 4 and 9): a Project's author
// cannot take another project's live host, a host outside the allowed domains, a host another
// Ingress of the cluster serves, an earlier Project's retained data, or a namespace kubabase did
// not create; and the host index survives an operator restart. Each test performs the attack (or
// the fault) and shows it refused, with the condition and Event the author reads.
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

using namespace std::chrono_literals;

class IsolationHostsE2eTest : public ProjectE2eTest {
 protected:
  ::testing::AssertionResult Stalled(const std::string& name) {
    StatusOr<Json> project = GetProject(name);
    if (!project.ok()) return ::testing::AssertionFailure() << project.status().ToString();
    if (!ConditionIs(*project, "Stalled", "True")) {
      return ::testing::AssertionFailure() << "not Stalled\n" << Diagnostics(name);
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult NoNamespace(const std::string& name) {
    StatusOr<Json> ns = Get(Resource::Namespaces(), "", ProjectNamespace(name));
    if (!ns.ok() && ns.status().IsNotFound()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "Project " << name << " got a namespace";
  }

  std::string ResourceVersion(const Resource& resource, const std::string& ns,
                              const std::string& name) {
    StatusOr<Json> got = Get(resource, ns, name);
    return got.ok() ? StringAt(*got, "/metadata/resourceVersion") : got.status().ToString();
  }

  // An admin's namespace (not kubabase's), deleted by TearDown.
  void CreateForeignNamespace(const std::string& ns) {
    StatusOr<Json> created =
        client_->Create(Resource::Namespaces(), "", {{"apiVersion", "v1"},
                                                     {"kind", "Namespace"},
                                                     {"metadata", {{"name", ns}}}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    foreign_namespaces_.push_back(ns);
  }

  void TearDown() override {
    ProjectE2eTest::TearDown();
    for (const std::string& ns : foreign_namespaces_) {
      (void)client_->Delete(Resource::Namespaces(), "", ns);
    }
  }

  std::vector<std::string> foreign_namespaces_;
};

// ---------------------------------------------------------------------------------------------
// 3. Host takeover.

TEST_F(IsolationHostsE2eTest, AnOlderProjectMovingOntoAnotherProjectsLiveHostDoesNotTakeIt) {
  const std::string attacker = NewProjectName("older");
  ASSERT_TRUE(CreateProject(attacker).ok());
  std::this_thread::sleep_for(1100ms);  // a later creationTimestamp (second resolution)
  const std::string victim = NewProjectName("victim");
  const std::string host = victim + ".kubabase.localhost";
  ASSERT_TRUE(CreateProject(victim).ok());
  ASSERT_TRUE(WaitForReady(attacker));
  ASSERT_TRUE(WaitForReady(victim));
  const std::string victim_ingress =
      ResourceVersion(Resource::Ingresses(), ProjectNamespace(victim), "api");

  // The older Project points its spec.host at the victim's live host: it used to win by age.
  ASSERT_TRUE(PatchSpec(attacker, {{"host", host}}));
  ASSERT_TRUE(WaitForNotReady(attacker, "HostConflict", {host, victim, "serves the host now"}));
  EXPECT_TRUE(Stalled(attacker));
  EXPECT_TRUE(WaitForWarning(attacker, "HostConflict"));
  StatusOr<Json> attacker_ingress = Get(Resource::Ingresses(), ProjectNamespace(attacker), "api");
  ASSERT_TRUE(attacker_ingress.ok());
  EXPECT_NE(StringAt(*attacker_ingress, "/spec/rules/0/host"), host)
      << "the attacker's Ingress serves the victim's host";

  // The victim is untouched, and stays so across its next reconciles.
  StatusOr<Json> still = GetProject(victim);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(ConditionIs(*still, "Ready", "True")) << Diagnostics(victim);
  EXPECT_EQ(ResourceVersion(Resource::Ingresses(), ProjectNamespace(victim), "api"),
            victim_ingress);
}

TEST_F(IsolationHostsE2eTest, AHostOutsideTheAllowedDomainsIsRefused) {
  const std::string name = NewProjectName("bank");
  ASSERT_TRUE(CreateProject(name, {{"host", "login.bank.example"}}).ok());
  ASSERT_TRUE(WaitForNotReady(name, "HostNotAllowed",
                              {"login.bank.example", "kubabase.localhost", "--allowed-host-suffixes"}));
  EXPECT_TRUE(Stalled(name));
  EXPECT_TRUE(WaitForWarning(name, "HostNotAllowed"));
  EXPECT_TRUE(NoNamespace(name));
}

TEST_F(IsolationHostsE2eTest, AHostAnIngressOfAnotherTeamServesIsAConflict) {
  const std::string team = "e2e-team-" + RandomSuffix();
  ASSERT_NO_FATAL_FAILURE(CreateForeignNamespace(team));
  const std::string name = NewProjectName("foreign");
  const std::string host = name + ".kubabase.localhost";
  const Json ingress = {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "Ingress"},
      {"metadata", {{"name", "web"}, {"namespace", team}}},
      {"spec",
       {{"rules",
         {{{"host", host},
           {"http",
            {{"paths",
              {{{"path", "/"},
                {"pathType", "Prefix"},
                {"backend", {{"service", {{"name", "web"}, {"port", {{"number", 80}}}}}}}}}}}}}}}}}};
  ASSERT_TRUE(client_->Create(Resource::Ingresses(), team, ingress).ok());

  ASSERT_TRUE(CreateProject(name).ok());
  ASSERT_TRUE(WaitForNotReady(name, "HostConflict", {host, "Ingress " + team + "/web"}));
  EXPECT_TRUE(Stalled(name));
  EXPECT_TRUE(WaitForWarning(name, "HostConflict"));
  EXPECT_TRUE(NoNamespace(name));

  // The team's Ingress goes; the Project is checked again at its next retry or on any edit.
  ASSERT_TRUE(client_->Delete(Resource::Ingresses(), team, "web").ok());
  ASSERT_TRUE(client_
                  ->MergePatch(Projects(), "", name,
                               {{"metadata", {{"annotations", {{"e2e/touch", "1"}}}}}})
                  .ok());
  ASSERT_TRUE(WaitForReady(name));
}

// ---------------------------------------------------------------------------------------------
// 4. A stranger's retained data.

TEST_F(IsolationHostsE2eTest, ALaterProjectOfTheSameNameCannotAdoptOrWipeRetainedData) {
  const std::string name = NewProjectName("retained");
  const std::string ns = ProjectNamespace(name);
  ASSERT_TRUE(CreateProject(name).ok());  // deletionPolicy Retain, the default
  ASSERT_TRUE(WaitForReady(name));
  const auto keys = KeySecrets(name);
  ASSERT_EQ(keys.size(), 2u);
  const std::string keys_uid = [&] {
    StatusOr<Json> s = Get(Resource::Secrets(), ns, "api-keys");
    return s.ok() ? StringAt(*s, "/metadata/uid") : "";
  }();
  ASSERT_TRUE(client_->Delete(Projects(), "", name).ok());
  ASSERT_TRUE(WaitForGone(name, Projects(), "", name, 60s));

  // Someone else creates a Project of the same name, asking for deletionPolicy Delete.
  StatusOr<Json> stranger = CreateProject(name, {{"deletionPolicy", "Delete"}});
  ASSERT_TRUE(stranger.ok()) << stranger.status().ToString();
  const std::string uid = StringAt(*stranger, "/metadata/uid");
  ASSERT_TRUE(WaitForNotReady(name, "RetainedDataExists",
                              {ns, "kubectl annotate namespace " + ns + " kubabase.io/adopt-uid=" + uid,
                               "kubectl delete namespace " + ns}));
  EXPECT_TRUE(Stalled(name));
  EXPECT_TRUE(WaitForWarning(name, "RetainedDataExists"));
  EXPECT_EQ(KeySecrets(name), keys) << "the stranger's Project changed the retained keys";
  EXPECT_TRUE(Get(Resource::Deployments(), ns, "rest").status().IsNotFound())
      << "workloads were started on the retained data";

  // It deletes its Project (deletionPolicy Delete): the retained data stays whole.
  ASSERT_TRUE(client_->Delete(Projects(), "", name).ok());
  ASSERT_TRUE(WaitForGone(name, Projects(), "", name, 60s));
  StatusOr<Json> kept = Get(Resource::Namespaces(), "", ns);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_TRUE(StringAt(*kept, "/metadata/deletionTimestamp").empty()) << "namespace deleted";
  StatusOr<Json> secret = Get(Resource::Secrets(), ns, "api-keys");
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(StringAt(*secret, "/metadata/uid"), keys_uid);
  EXPECT_EQ(KeySecrets(name), keys);
}

// ---------------------------------------------------------------------------------------------
// 9. A namespace that is not ours; the host index across a restart.

TEST_F(IsolationHostsE2eTest, AnUnlabelledNamespaceOfTheProjectsNameIsNeverWrittenOrDeleted) {
  for (const char* policy : {"Delete", "Retain"}) {
    SCOPED_TRACE(policy);
    const std::string name = NewProjectName("notours");
    const std::string ns = ProjectNamespace(name);
    ASSERT_NO_FATAL_FAILURE(CreateForeignNamespace(ns));
    ASSERT_TRUE(client_
                    ->Create(Resource::ConfigMaps(), ns,
                             {{"apiVersion", "v1"},
                              {"kind", "ConfigMap"},
                              {"metadata", {{"name", "theirs"}, {"namespace", ns}}},
                              {"data", {{"k", "v"}}}})
                    .ok());
    const std::string ns_version = ResourceVersion(Resource::Namespaces(), "", ns);
    const std::string cm_version = ResourceVersion(Resource::ConfigMaps(), ns, "theirs");

    ASSERT_TRUE(CreateProject(name, {{"deletionPolicy", policy}}).ok());
    ASSERT_TRUE(WaitForNotReady(name, "NamespaceConflict", {ns, "was not created by kubabase"}));
    EXPECT_TRUE(Stalled(name));
    EXPECT_TRUE(WaitForWarning(name, "NamespaceConflict"));
    // Nothing of the Project's went into it.
    for (const Resource* kind : {&Resource::Secrets(), &Resource::ConfigMaps(),
                                 &Resource::Services(), &Resource::NetworkPolicies()}) {
      StatusOr<Json> listed = client_->List(*kind, ns, {});
      ASSERT_TRUE(listed.ok());
      for (const Json& item : (*listed)["items"]) {
        EXPECT_EQ(StringAt(item, "/metadata/labels/app.kubernetes.io~1managed-by"), "")
            << kind->kind << " " << StringAt(item, "/metadata/name") << " written into " << ns;
      }
    }

    ASSERT_TRUE(client_->Delete(Projects(), "", name).ok());
    ASSERT_TRUE(WaitForGone(name, Projects(), "", name, 60s));
    StatusOr<Json> after = Get(Resource::Namespaces(), "", ns);
    ASSERT_TRUE(after.ok()) << after.status().ToString();
    EXPECT_TRUE(StringAt(*after, "/metadata/deletionTimestamp").empty()) << "namespace deleted";
    EXPECT_EQ(StringAt(*after, "/metadata/resourceVersion"), ns_version) << "namespace written";
    EXPECT_EQ(ResourceVersion(Resource::ConfigMaps(), ns, "theirs"), cm_version);
  }
}

TEST_F(IsolationHostsE2eTest, AfterARestartTheHolderKeepsItsHostAndHandsItOnWhenDeleted) {
  const std::string holder = NewProjectName("holder");
  const std::string host = holder + ".kubabase.localhost";
  ASSERT_TRUE(CreateProject(holder).ok());
  ASSERT_TRUE(WaitForReady(holder));
  std::this_thread::sleep_for(1100ms);
  const std::string waiting = NewProjectName("waiting");
  ASSERT_TRUE(CreateProject(waiting, {{"host", host}}).ok());
  ASSERT_TRUE(WaitForNotReady(waiting, "HostConflict", {host, holder}));
  const std::string ingress = ResourceVersion(Resource::Ingresses(), ProjectNamespace(holder), "api");

  // A new operator process: its host index starts empty and both Projects are reconciled again,
  // in whatever order its queue takes them.
  StatusOr<int> stopped = operator_->Stop(SIGTERM, 30s);
  ASSERT_TRUE(stopped.ok() && *stopped == 0);
  operator_.reset();
  ASSERT_NO_FATAL_FAILURE(StartOperator());
  ASSERT_TRUE(Eventually(waiting, "both Projects reconciled by the new operator", 60s,
                         [&](std::string* why) {
                           const double reconciles =
                               SumMetric(Metrics(), "kubabase_reconcile_total", {});
                           *why = std::to_string(reconciles) + " reconciles";
                           return reconciles >= 2;
                         }));
  StatusOr<Json> still_waiting = GetProject(waiting);
  ASSERT_TRUE(still_waiting.ok());
  EXPECT_EQ(StringAt(Condition(*still_waiting, "Ready"), "/reason"), "HostConflict")
      << Diagnostics(waiting);
  EXPECT_TRUE(NoNamespace(waiting));
  StatusOr<Json> holding = GetProject(holder);
  ASSERT_TRUE(holding.ok());
  EXPECT_TRUE(ConditionIs(*holding, "Ready", "True")) << Diagnostics(holder);
  EXPECT_EQ(ResourceVersion(Resource::Ingresses(), ProjectNamespace(holder), "api"), ingress);

  // The holder goes: the waiting Project gets the host without anyone touching it.
  ASSERT_TRUE(client_->Delete(Projects(), "", holder).ok());
  ASSERT_TRUE(WaitForGone(holder, Projects(), "", holder, 60s));
  ASSERT_TRUE(WaitForReady(waiting));
  StatusOr<Json> taken = Get(Resource::Ingresses(), ProjectNamespace(waiting), "api");
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(StringAt(*taken, "/spec/rules/0/host"), host);
}

}  // namespace
}  // namespace kubabase::e2e
