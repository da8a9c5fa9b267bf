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

TEST(NamespaceConflictTest, AMissingNamespaceIsNoConflict) {
  EXPECT_FALSE(NamespaceConflict("a", "project-a", nullptr).has_value());
}

TEST(NamespaceConflictTest, OurLabelMeansOursIncludingARetainedOne) {
  Json ns = {{"metadata", {{"name", "project-a"},
                           {"labels", {{"kubabase.io/project", "a"},
                                       {"kubabase.io/retained", "true"}}}}}};
  EXPECT_FALSE(NamespaceConflict("a", "project-a", &ns).has_value());
}

TEST(NamespaceConflictTest, AForeignNamespaceConflictsAndTheMessageSaysWhatToDo) {
  Json unlabelled = {{"metadata", {{"name", "project-a"}}}};
  std::optional<Problem> p = NamespaceConflict("a", "project-a", &unlabelled);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->reason, "NamespaceConflict");
  EXPECT_NE(p->message.find("not created by kubabase"), std::string::npos);
  Json other = {{"metadata", {{"name", "project-a"}, {"labels", {{"kubabase.io/project", "b"}}}}}};
  p = NamespaceConflict("a", "project-a", &other);
  ASSERT_TRUE(p.has_value());
  EXPECT_NE(p->message.find("Project b"), std::string::npos);
}

}  // namespace
}  // namespace kubabase::project
