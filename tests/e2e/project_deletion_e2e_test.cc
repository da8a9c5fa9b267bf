// End to end, a Project's end: deletionPolicy Delete removes the namespace before the Project
// goes; Retain keeps the namespace, Secrets and volumes, and a new Project of the same name gets
// them, with the same keys, once an admin annotates the namespace (see project_fixture.h).
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/e2e/project_fixture.h"

namespace kubabase::e2e {
namespace {

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

  // A new Project of the same name does not get them on its own (it may be anyone's): it is
  // Stalled RetainedDataExists, saying how an admin gives them to it.
  StatusOr<Json> again = CreateProject(name);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const std::string new_uid = StringAt(*again, "/metadata/uid");
  ASSERT_TRUE(WaitForNotReady(name, "RetainedDataExists",
                              {"kubectl annotate namespace " + ns + " kubabase.io/adopt-uid=" +
                               new_uid}));
  EXPECT_EQ(KeySecrets(name), keys_before) << "retained Secrets changed";
  EXPECT_TRUE(Get(Resource::Deployments(), ns, "rest").status().IsNotFound());
  // The admin adopts: same keys, same volumes.
  ASSERT_TRUE(client_
                  ->MergePatch(Resource::Namespaces(), "", ns,
                               {{"metadata", {{"annotations", {{"kubabase.io/adopt-uid", new_uid}}}}}})
                  .ok());
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

}  // namespace
}  // namespace kubabase::e2e
