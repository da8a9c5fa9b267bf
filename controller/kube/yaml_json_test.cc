#include "controller/kube/yaml_json.h"

#include <gtest/gtest.h>

namespace kubabase::kube {
namespace {

TEST(YamlToJsonTest, PlainScalarsBecomeBooleansAndIntegersAndQuotedOnesStayText) {
  Json got = YamlToJson(YAML::Load(R"(
enabled: true
paused: false
replicas: 2
offset: -12
zero: 0
port: "8080"
flag: "true"
name: demo
dash: "-"
version: 1.2.3
empty:
)"));
  EXPECT_EQ(got, Json::parse(R"({"enabled": true, "paused": false, "replicas": 2, "offset": -12,
                                 "zero": 0, "port": "8080", "flag": "true", "name": "demo",
                                 "dash": "-", "version": "1.2.3", "empty": null})"));
}

TEST(YamlToJsonTest, MapsAndSequencesNest) {
  Json got = YamlToJson(YAML::Load(R"(
rules:
  - apiGroups: [""]
    resources: [secrets, configmaps]
    verbs: [get]
)"));
  EXPECT_EQ(got, Json::parse(R"({"rules": [{"apiGroups": [""], "resources": ["secrets",
                                 "configmaps"], "verbs": ["get"]}]})"));
}

}  // namespace
}  // namespace kubabase::kube
