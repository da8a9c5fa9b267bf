#include "controller/kube/request_options.h"

#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

TEST(RequestOptionsTest, AnEmptyListQueryIsEmpty) { EXPECT_EQ(ListQuery({}), ""); }

TEST(RequestOptionsTest, ListQueryEncodesSelectorsAndPagination) {
  ListOptions options;
  options.label_selector = "app=db,tier in (a,b)";
  options.field_selector = "metadata.name=x";
  options.limit = 2;
  options.continue_token = "eyJ2Ijoi+/=";
  // Not `= "0"`: GCC 12 at -O3 reports a false -Wrestrict when a one-character literal is
  // assigned to a std::string (GCC bug 105329).
  options.resource_version = std::string("0");
  options.resource_version_match = "NotOlderThan";
  EXPECT_EQ(ListQuery(options),
            "?labelSelector=app%3Ddb%2Ctier%20in%20%28a%2Cb%29"
            "&fieldSelector=metadata.name%3Dx&limit=2&continue=eyJ2Ijoi%2B%2F%3D"
            "&resourceVersion=0&resourceVersionMatch=NotOlderThan");
}

TEST(RequestOptionsTest, WatchQueryAsksForBookmarksAndTheServerTimeout) {
  WatchOptions options;
  options.resource_version = "1234";
  options.timeout_seconds = 300;
  options.label_selector = "kubabase.io/project";
  EXPECT_EQ(WatchQuery(options),
            "?watch=1&allowWatchBookmarks=true&labelSelector=kubabase.io%2Fproject"
            "&resourceVersion=1234&timeoutSeconds=300");
  WatchOptions plain;
  plain.allow_bookmarks = false;
  EXPECT_EQ(WatchQuery(plain), "?watch=1");
}

TEST(RequestOptionsTest, ApplyQueryNamesTheManagerAndForcesOnlyWhenAsked) {
  ApplyOptions options;
  options.field_manager = "kubabase";
  EXPECT_EQ(ApplyQuery(options), "?fieldManager=kubabase");
  options.force = true;
  options.subresource = "status";  // part of the path, not the query
  EXPECT_EQ(ApplyQuery(options), "?fieldManager=kubabase&force=true");
}

TEST(RequestOptionsTest, DeleteOptionsBodyCarriesPolicyAndPreconditions) {
  EXPECT_EQ(DeleteOptionsBody({}), Json::parse(R"({"apiVersion":"v1","kind":"DeleteOptions"})"));
  DeleteOptions options;
  options.propagation_policy = "Foreground";
  options.precondition_uid = "0d1f-uid";
  options.precondition_resource_version = "42";
  EXPECT_EQ(DeleteOptionsBody(options), Json::parse(R"({
      "apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Foreground",
      "preconditions":{"uid":"0d1f-uid","resourceVersion":"42"}})"));
}

}  // namespace
}  // namespace kubabase::kube
