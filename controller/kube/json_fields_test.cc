#include "controller/kube/json_fields.h"

#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

TEST(JsonFieldsTest, ReadsNestedFieldsAndFallsBackWhenAbsentOrOfAnotherType) {
  Json object = {{"metadata", {{"name", "shop"}, {"generation", 3}, {"labels", nullptr}}},
                 {"spec", "not an object"}};
  EXPECT_EQ(StringAt(object, {"metadata", "name"}), "shop");
  EXPECT_EQ(StringAt(object, {"metadata", "generation"}), "");
  EXPECT_EQ(StringAt(object, {"metadata", "labels", "x"}), "");
  EXPECT_EQ(StringAt(object, {"spec", "replicas"}), "");
  EXPECT_EQ(IntAt(object, {"metadata", "generation"}, -1), 3);
  EXPECT_EQ(IntAt(object, {"metadata", "name"}, -1), -1);
  EXPECT_EQ(IntAt(Json::array(), {"a"}, 7), 7);
  EXPECT_NE(At(object, {"metadata"}), nullptr);
  EXPECT_EQ(At(object, {"nope"}), nullptr);
  EXPECT_EQ(At(object, {}), &object);
}

}  // namespace
}  // namespace kubabase::kube
