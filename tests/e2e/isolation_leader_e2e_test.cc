// Leader hand-over without two writers (issue 10, item 8). Two operator processes with
// --leader-elect=true share one Lease; the leader is sent SIGTERM while 20 new Projects are being
// created. The leader must stop its workers (only the reconciles in flight finish) before it
// releases the Lease, and the standby then takes every Project to Ready. The proof that no two
// writers ever generated keys for one Project is the apiserver's audit log (the local control
// plane logs every request of a kubabase-system ServiceAccount; rbac_e2e_test.cc reads it too):
// each key Secret (db-credentials, api-keys) of each Project was written by exactly one successful
// request, a create, and never patched or updated after, so its data is what that first writer
// generated; a create refused with 409 (the other writer lost the race) is allowed and counted.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controller/project/keys.h"
#include "controller/project/names.h"
#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

constexpr int kProjects = 20;

// Successful and refused writes of one Secret, from the audit log.
struct SecretWrites {
  int created = 0;           // create answered 201
  int create_conflicts = 0;  // create answered 409 (AlreadyExists): a writer that lost the race
  std::vector<std::string> other_writes;  // any other write that succeeded: "patch 200" ...
};

class LeaderHandOverE2eTest : public ProjectE2eTest {
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
    lease_ = "kubabase-e2e-leader-" + RandomSuffix();
    ProjectE2eTest::SetUp();  // the first operator: it takes the Lease
  }

  void TearDown() override {
    ProjectE2eTest::TearDown();  // the standby, now operator_, cleans up and is stopped
    if (first_) first_->Kill();
    (void)client_->Delete(Resource::Leases(), kOperatorNamespace, lease_);
  }

  std::vector<std::string> OperatorArgs() const override {
    return {"--leader-elect=true", "--leader-election-namespace", kOperatorNamespace,
            "--leader-election-id", lease_};
  }

  // The Lease's holder ("" when released or absent).
  std::string Holder() {
    StatusOr<Json> lease = client_->Get(Resource::Leases(), kOperatorNamespace, lease_);
    return lease.ok() ? StringAt(*lease, "/spec/holderIdentity") : "";
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // Every write of the key Secrets in the project namespaces of `names`, by "ns/name".
  StatusOr<std::map<std::string, SecretWrites>> KeySecretWrites(
      const std::set<std::string>& namespaces) {
    std::ifstream in(audit_log_);
    if (!in) return NotFoundError("cannot read the audit log " + audit_log_);
    in.seekg(audit_offset_);
    std::map<std::string, SecretWrites> out;
    std::string line;
    while (std::getline(in, line)) {
      Json event = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!event.is_object() || event.value("stage", "") != "ResponseComplete" ||
          !event.contains("objectRef")) {
        continue;
      }
      const Json& ref = event["objectRef"];
      const std::string ns = ref.value("namespace", "");
      const std::string name = ref.value("name", "");
      if (ref.value("resource", "") != "secrets" || !namespaces.count(ns) ||
          (name != project::names::kDbCredentialsSecret &&
           name != project::names::kApiKeysSecret)) {
        continue;
      }
      const std::string verb = event.value("verb", "");
      if (verb == "get" || verb == "list" || verb == "watch") continue;
      const int64_t code = IntAt(event, "/responseStatus/code", 0);
      SecretWrites& writes = out[ns + "/" + name];
      if (verb == "create" && code == 201) {
        ++writes.created;
      } else if (verb == "create" && code == 409) {
        ++writes.create_conflicts;
      } else if (code >= 200 && code < 300) {
        writes.other_writes.push_back(verb + " " + std::to_string(code) + " by " +
                                      event.value("userAgent", ""));
      }
    }
    return out;
  }

  std::string audit_log_;
  std::streamoff audit_offset_ = 0;
  std::string lease_;
  std::unique_ptr<OperatorProcess> first_;  // the leader once the standby is operator_
};

TEST_F(LeaderHandOverE2eTest, SigtermMidCreationHandsOverWithEveryKeySecretWrittenOnce) {
  // operator_ leads (it was alone); a second process with the same flags waits as a standby.
  const std::string first_holder = Holder();
  ASSERT_FALSE(first_holder.empty()) << "the first operator holds no Lease\n"
                                     << operator_->LogTail(20);
  StatusOr<std::unique_ptr<OperatorProcess>> standby = StartOperatorProcess();
  ASSERT_TRUE(standby.ok()) << standby.status().ToString();
  ASSERT_TRUE((*standby)->WaitReady(60s).ok()) << (*standby)->LogTail(20);
  EXPECT_EQ(Holder(), first_holder) << "the standby must not take a held Lease";
  first_ = std::move(operator_);
  operator_ = std::move(*standby);  // TearDown's operator from now on

  // Half the Projects, then SIGTERM once the leader is at work on them, then the other half.
  std::vector<std::string> names;
  std::set<std::string> namespaces;
  for (int i = 0; i < kProjects; ++i) {
    names.push_back(NewProjectName("leader" + std::to_string(i)));
    namespaces.insert(ProjectNamespace(names.back()));
  }
  for (int i = 0; i < kProjects / 2; ++i) {
    ASSERT_TRUE(CreateProject(names[i]).ok()) << names[i];
  }
  ASSERT_TRUE(WaitForObject(names[0], Resource::Namespaces(), "", ProjectNamespace(names[0]),
                            "created by the leader",
                            [](const Json&, std::string*) { return true; }));
  ASSERT_EQ(kill(first_->pid(), SIGTERM), 0);
  for (int i = kProjects / 2; i < kProjects; ++i) {
    ASSERT_TRUE(CreateProject(names[i]).ok()) << names[i];
  }
  StatusOr<int> stopped = first_->Stop(SIGTERM, 60s);  // already signalled: waits for the exit
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(*stopped, 0) << first_->LogTail(30);

  // The leader stopped its workers before it gave the Lease up, and said so in that order.
  const std::string first_log = ReadFile(first_->log_path());
  const size_t workers_stopping = first_log.find("stopping the workers before releasing");
  const size_t controller_stopped = first_log.find(" stopped controller=project", workers_stopping);
  const size_t released = first_log.find("released the leader lease");
  ASSERT_NE(workers_stopping, std::string::npos) << first_->LogTail(30);
  ASSERT_NE(released, std::string::npos) << first_->LogTail(30);
  EXPECT_LT(workers_stopping, released);
  EXPECT_LT(controller_stopped, released) << first_->LogTail(30);

  // The standby takes over and brings every Project to Ready.
  for (const std::string& name : names) ASSERT_TRUE(WaitForReady(name)) << name;
  const std::string second_holder = Holder();
  EXPECT_FALSE(second_holder.empty());
  EXPECT_NE(second_holder, first_holder);
  EXPECT_NE(ReadFile(operator_->log_path()).find("acquired the leader lease"), std::string::npos);

  // Each key Secret: one successful write, a create, and nothing after it.
  StatusOr<std::map<std::string, SecretWrites>> writes = KeySecretWrites(namespaces);
  ASSERT_TRUE(writes.ok()) << writes.status().ToString();
  int conflicts = 0;
  for (const std::string& name : names) {
    const std::string ns = ProjectNamespace(name);
    for (std::string_view secret :
         {project::names::kDbCredentialsSecret, project::names::kApiKeysSecret}) {
      const std::string key = ns + "/" + std::string(secret);
      const SecretWrites& w = (*writes)[key];
      EXPECT_EQ(w.created, 1) << key << " successful creates";
      EXPECT_TRUE(w.other_writes.empty())
          << key << " written again after its creation: "
          << ::testing::PrintToString(w.other_writes);
      conflicts += w.create_conflicts;
    }
    // One consistent key set: the API keys are signed with the JWT_SECRET beside them, for this
    // project (values compared, never printed).
    StatusOr<std::map<std::string, std::string>> keys =
        SecretData(*client_, ns, std::string(project::names::kApiKeysSecret));
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    for (const char* jwt : {"ANON_KEY", "SERVICE_ROLE_KEY"}) {
      StatusOr<Json> claims = project::VerifyHs256(keys->at(jwt), keys->at("JWT_SECRET"));
      ASSERT_TRUE(claims.ok()) << name << " " << jwt << ": " << claims.status().ToString();
      EXPECT_EQ(claims->value("ref", ""), name) << jwt;
    }
  }
  std::printf("%d Projects handed over; %d key Secret creates lost a race (409) and re-read\n",
              kProjects, conflicts);
}

}  // namespace
}  // namespace kubabase::e2e
