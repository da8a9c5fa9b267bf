#include "controller/project/conflicts.h"

#include <gtest/gtest.h>

namespace kubabase::project {
namespace {

TEST(HostIndexTest, TheOldestClaimWinsAndTheLoserIsToldWhatToChange) {
  HostIndex index;
  index.Upsert({"newer", "x.example.com", "2026-02-01T00:00:00Z"});
  index.Upsert({"older", "x.example.com", "2026-01-01T00:00:00Z"});
  EXPECT_FALSE(HostConflict(index, "older", "x.example.com").has_value());
  std::optional<Problem> p = HostConflict(index, "newer", "x.example.com");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "HostConflict");
  EXPECT_NE(p->message.find("Project older"), std::string::npos);
  EXPECT_NE(p->message.find("spec.host of Project newer"), std::string::npos);
}

TEST(HostIndexTest, EqualCreationTimesAreSettledByName) {
  HostIndex index;
  index.Upsert({"b", "h", "2026-01-01T00:00:00Z"});
  index.Upsert({"a", "h", "2026-01-01T00:00:00Z"});
  EXPECT_FALSE(HostConflict(index, "a", "h").has_value());
  EXPECT_TRUE(HostConflict(index, "b", "h").has_value());
}

TEST(HostIndexTest, MovingAHostReportsBothHostsAndFreesTheOldOne) {
  HostIndex index;
  EXPECT_EQ(index.Upsert({"a", "h1", "t1"}), std::vector<std::string>{"h1"});
  index.Upsert({"b", "h1", "t2"});
  EXPECT_TRUE(HostConflict(index, "b", "h1").has_value());
  EXPECT_EQ(index.Upsert({"a", "h2", "t1"}), (std::vector<std::string>{"h1", "h2"}));
  EXPECT_FALSE(HostConflict(index, "b", "h1").has_value());
  EXPECT_EQ(index.HostOf("a"), "h2");
}

TEST(HostIndexTest, AnUnchangedClaimReportsNothing) {
  HostIndex index;
  index.Upsert({"a", "h", "t"});
  EXPECT_TRUE(index.Upsert({"a", "h", "t"}).empty());
  EXPECT_EQ(index.size(), 1u);
}

TEST(HostIndexTest, RemovingTheWinnerHandsTheHostToTheNextClaimant) {
  HostIndex index;
  index.Upsert({"a", "h", "t1"});
  index.Upsert({"b", "h", "t2"});
  EXPECT_EQ(index.Remove("a"), std::optional<std::string>("h"));
  EXPECT_FALSE(HostConflict(index, "b", "h").has_value());
  EXPECT_EQ(index.Remove("a"), std::nullopt);
}

TEST(HostIndexTest, TheProjectServingAHostKeepsItAgainstAnOlderClaimant) {
  // An older Project that moves spec.host onto a newer one's live host does not take it.
  HostIndex index;
  index.Upsert({.name = "victim", .host = "h", .created = "2026-02-01T00:00:00Z", .serving = true});
  index.Upsert({.name = "older", .host = "h", .created = "2026-01-01T00:00:00Z"});
  std::optional<Problem> p = HostConflict(index, "older", "h");
  ASSERT_TRUE(p.has_value());
  EXPECT_NE(p->message.find("served by Project victim"), std::string::npos);
  EXPECT_FALSE(HostConflict(index, "victim", "h").has_value());
  // Once the holder no longer serves it (it moved away), age decides again.
  index.Upsert({.name = "victim", .host = "h", .created = "2026-02-01T00:00:00Z"});
  EXPECT_FALSE(HostConflict(index, "older", "h").has_value());
}

Json Ingress(const std::string& ns, const std::string& name, const std::string& host,
             bool managed) {
  Json ingress = {{"metadata", {{"namespace", ns}, {"name", name}}},
                  {"spec", {{"rules", {{{"host", "other.example.com"}}, {{"host", host}}}}}}};
  if (managed) ingress["metadata"]["labels"]["app.kubernetes.io/managed-by"] = "kubabase";
  return ingress;
}

TEST(ForeignHostConflictTest, AnIngressThatIsNotTheProjectsOwnOnItsHostConflicts) {
  const Json mine = Ingress("project-a", "api", "a.example.com", true);
  const Json foreign = Ingress("team-x", "web", "a.example.com", false);
  const Json elsewhere = Ingress("team-y", "web", "b.example.com", false);
  EXPECT_FALSE(ForeignHostConflict("a.example.com", "project-a", {&mine, &elsewhere}));
  std::optional<Problem> p = ForeignHostConflict("a.example.com", "project-a", {&mine, &foreign});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "HostConflict");
  EXPECT_NE(p->message.find("Ingress team-x/web"), std::string::npos) << p->message;
  // Our labels in someone else's namespace do not make it ours; one being deleted does not count.
  const Json posing = Ingress("team-x", "web", "a.example.com", true);
  EXPECT_TRUE(ForeignHostConflict("a.example.com", "project-a", {&posing}).has_value());
  Json going = foreign;
  going["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
  EXPECT_FALSE(ForeignHostConflict("a.example.com", "project-a", {&going}).has_value());
}

Json Namespace(Json labels, Json annotations = Json::object()) {
  return {{"metadata", {{"name", "project-a"}, {"labels", labels}, {"annotations", annotations}}}};
}

TEST(NamespaceConflictTest, AMissingNamespaceIsNoConflict) {
  EXPECT_FALSE(NamespaceConflict("a", "uid-a", "project-a", nullptr).has_value());
}

TEST(NamespaceConflictTest, OursWhenLabelledForTheNameAndAnnotatedWithTheUid) {
  Json ns = Namespace({{"kubabase.io/project", "a"}}, {{"kubabase.io/project-uid", "uid-a"}});
  EXPECT_FALSE(NamespaceConflict("a", "uid-a", "project-a", &ns).has_value());
  EXPECT_TRUE(NamespaceOwnedBy(ns, "a", "uid-a"));
  // A live namespace an operator made before uids were recorded: the next apply records it.
  Json before = Namespace({{"kubabase.io/project", "a"}});
  EXPECT_TRUE(NamespaceOwnedBy(before, "a", "uid-a"));
}

TEST(NamespaceConflictTest, RetainedDataOfAnEarlierProjectNeedsAnAdminsAdoption) {
  Json retained = Namespace({{"kubabase.io/project", "a"}, {"kubabase.io/retained", "true"}},
                            {{"kubabase.io/project-uid", "uid-old"}});
  std::optional<Problem> p = NamespaceConflict("a", "uid-new", "project-a", &retained);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "RetainedDataExists");
  EXPECT_NE(p->message.find("kubectl annotate namespace project-a kubabase.io/adopt-uid=uid-new"),
            std::string::npos)
      << p->message;
  EXPECT_NE(p->message.find("kubectl delete namespace project-a"), std::string::npos);
  EXPECT_FALSE(NamespaceOwnedBy(retained, "a", "uid-new"));
  // Retained by an operator before uids were recorded: adoption is asked for too.
  Json old_style = Namespace({{"kubabase.io/project", "a"}, {"kubabase.io/retained", "true"}});
  EXPECT_FALSE(NamespaceOwnedBy(old_style, "a", "uid-new"));
  // The admin's annotation names the new Project: adopted. Naming another uid: not.
  retained["metadata"]["annotations"]["kubabase.io/adopt-uid"] = "uid-new";
  EXPECT_FALSE(NamespaceConflict("a", "uid-new", "project-a", &retained).has_value());
  EXPECT_FALSE(NamespaceOwnedBy(retained, "a", "uid-other"));
  // Being deleted (deletionPolicy Delete of the earlier Project): the caller waits, no conflict.
  Json going = Namespace({{"kubabase.io/project", "a"}}, {{"kubabase.io/project-uid", "uid-old"}});
  going["metadata"]["deletionTimestamp"] = "2026-06-01T00:00:00Z";
  EXPECT_FALSE(NamespaceConflict("a", "uid-new", "project-a", &going).has_value());
}

TEST(NamespaceConflictTest, AForeignNamespaceConflictsAndTheMessageSaysWhatToDo) {
  Json unlabelled = {{"metadata", {{"name", "project-a"}}}};
  std::optional<Problem> p = NamespaceConflict("a", "uid-a", "project-a", &unlabelled);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "NamespaceConflict");
  EXPECT_NE(p->message.find("not created by kubabase"), std::string::npos);
  EXPECT_FALSE(NamespaceOwnedBy(unlabelled, "a", "uid-a"));
  Json other = {{"metadata", {{"name", "project-a"}, {"labels", {{"kubabase.io/project", "b"}}}}}};
  p = NamespaceConflict("a", "uid-a", "project-a", &other);
  ASSERT_TRUE(p.has_value());
  EXPECT_NE(p->message.find("Project b"), std::string::npos);
}

}  // namespace
}  // namespace kubabase::project
