// crds/project.yaml is the source of truth for the spec's constraints, and ParseProject must
// enforce exactly them (project_schema.h states each once in C++). Fails on any difference:
//   - every validation keyword under spec equals its rule in project_schema.h, no rule there is
//     left unmatched, and a keyword the comparison does not know fails the walk;
//   - ParseProject rejects a value just past every bound (naming the field) and accepts the bound;
//   - the CRD's x-kubernetes-validations are the CEL rules project_schema.h lists, and ParseProject
//     rejects a spec breaking each with the CRD's message.
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "controller/project/project.h"
#include "controller/project/project_schema.h"
#include "controller/project/testing/crd_schema.h"

namespace kubabase::project {
namespace {

using testing::ProbeBase;
using testing::ProjectWithSpec;
using testing::RootSchema;
using testing::SetAt;
using testing::SpecSchema;
using testing::Walk;

// Keywords that say what a node is, not what values it allows (or that are checked elsewhere:
// `default` above, x-kubernetes-validations below). A keyword in neither list fails the walk, so a
// new kind of constraint cannot slip past the comparison.
const std::set<std::string> kShapeKeywords = {
    "type", "description", "properties", "items", "additionalProperties", "anyOf", "default",
    "format", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-list-type", "x-kubernetes-validations"};
const std::set<std::string> kConstraintKeywords = {
    "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "maxProperties",
    "pattern", "enum", "required", "x-kubernetes-list-map-keys"};

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const std::string& item : items) out += (out.size() > 1 ? "," : "") + item;
  return out + "]";
}

// A node's constraints as one comparable line ("" for none), from the CRD...
std::string Describe(const Json& node) {
  std::ostringstream out;
  for (const char* keyword : {"minimum", "maximum", "minLength", "maxLength", "minItems",
                              "maxItems", "maxProperties"}) {
    if (node.contains(keyword)) out << keyword << "=" << node[keyword].get<int64_t>() << " ";
  }
  if (node.contains("pattern")) out << "pattern=" << node["pattern"].get<std::string>() << " ";
  for (const char* keyword : {"enum", "required", "x-kubernetes-list-map-keys"}) {
    if (node.contains(keyword)) {
      out << keyword << "=" << List(node[keyword].get<std::vector<std::string>>()) << " ";
    }
  }
  return out.str();
}

// ...and from a rule of the C++ table, in the same words.
std::string Describe(const FieldRule& rule) {
  Json node = Json::object();
  if (rule.minimum) node["minimum"] = *rule.minimum;
  if (rule.maximum) node["maximum"] = *rule.maximum;
  if (rule.min_length) node["minLength"] = *rule.min_length;
  if (rule.max_length) node["maxLength"] = *rule.max_length;
  if (rule.min_items) node["minItems"] = *rule.min_items;
  if (rule.max_items) node["maxItems"] = *rule.max_items;
  if (rule.max_properties) node["maxProperties"] = *rule.max_properties;
  if (!rule.pattern.empty()) node["pattern"] = rule.pattern;
  auto strings = [](const std::vector<std::string_view>& items) {
    Json list = Json::array();
    for (std::string_view item : items) list.push_back(item);
    return list;
  };
  if (!rule.enumeration.empty()) node["enum"] = strings(rule.enumeration);
  if (!rule.required.empty()) node["required"] = strings(rule.required);
  if (!rule.list_map_keys.empty()) node["x-kubernetes-list-map-keys"] = strings(rule.list_map_keys);
  return Describe(node);
}

TEST(CrdConstraints, EveryOneUnderSpecIsTheRuleParseProjectEnforcesAndNoRuleIsExtra) {
  std::set<const FieldRule*> used;
  int constrained = 0;
  Walk(SpecSchema(), "spec", [&](const std::string& path, const Json& node) {
    for (const auto& [keyword, value] : node.items()) {
      EXPECT_TRUE(kShapeKeywords.count(keyword) || kConstraintKeywords.count(keyword))
          << path << ": keyword " << keyword << " is unknown to project_schema.h; add it there";
    }
    if (node.contains("x-kubernetes-list-type")) {
      EXPECT_EQ(node["x-kubernetes-list-type"], "map") << path << ": only map lists are checked";
    }
    std::vector<const FieldRule*> matches;
    for (const FieldRule& rule : SpecFieldRules()) {
      if (PathMatches(rule.path, path)) matches.push_back(&rule);
    }
    const std::string crd = Describe(node);
    if (crd.empty() && matches.empty()) return;
    ++constrained;
    ASSERT_EQ(matches.size(), 1u) << path << " (CRD: " << crd << ") matches " << matches.size()
                                  << " rules in project_schema.cc";
    used.insert(matches[0]);
    EXPECT_EQ(Describe(*matches[0]), crd)
        << path << ": project_schema.cc rule " << matches[0]->path << " differs from the CRD";
  });
  EXPECT_GT(constrained, 40);  // the walk saw the spec, not an empty schema
  for (const FieldRule& rule : SpecFieldRules()) {
    EXPECT_TRUE(used.count(&rule)) << rule.path << " constrains nothing in crds/project.yaml";
  }
}

// `count` valid entries of a list of `items` (strings or objects with their required keys, each
// unique), or of a map.
Json Entries(const Json& schema, size_t count) {
  if (schema.contains("additionalProperties")) {
    Json map = Json::object();
    for (size_t i = 0; i < count; ++i) map[fmt::format("key{}", i)] = "1";
    return map;
  }
  Json list = Json::array();
  const Json& items = schema["items"];
  for (size_t i = 0; i < count; ++i) {
    if (items.value("type", "") != "object") {
      list.push_back(fmt::format("s{}", i));
      continue;
    }
    Json item = Json::object();
    for (const Json& key : items.value("required", Json::array())) {
      item[key.get<std::string>()] = fmt::format("k{}", i);
    }
    list.push_back(item);
  }
  return list;
}

struct Probe {
  std::string why;  // "maximum 100"
  Json value;
  bool accepted;
};

// Values just past each bound of `node` (rejected) and on it (accepted).
std::vector<Probe> ProbesFor(const Json& node) {
  std::vector<Probe> probes;
  auto fits_pattern = [&](const std::string& text) {
    return !node.contains("pattern") ||
           std::regex_match(text, std::regex(node["pattern"].get<std::string>()));
  };
  if (node.contains("minimum")) {
    int64_t min = node["minimum"];
    probes.push_back({"minimum", min - 1, false});
    probes.push_back({"minimum", min, true});
  }
  if (node.contains("maximum")) {
    int64_t max = node["maximum"];
    probes.push_back({"maximum", max + 1, false});
    probes.push_back({"maximum", max, true});
  }
  if (node.contains("minLength")) {
    size_t min = node["minLength"];
    if (min > 0) probes.push_back({"minLength", std::string(min - 1, 'a'), false});
    if (fits_pattern(std::string(min, 'a'))) {
      probes.push_back({"minLength", std::string(min, 'a'), true});
    }
  }
  if (node.contains("maxLength")) {
    size_t max = node["maxLength"];
    probes.push_back({"maxLength", std::string(max + 1, 'a'), false});
    if (fits_pattern(std::string(max, 'a'))) {
      probes.push_back({"maxLength", std::string(max, 'a'), true});
    }
  }
  if (node.contains("pattern")) {
    const std::string bad = "not valid !";
    EXPECT_FALSE(fits_pattern(bad)) << "pick a probe that fails " << node["pattern"];
    probes.push_back({"pattern", bad, false});
  }
  if (node.contains("enum")) {
    probes.push_back({"enum", "NotInTheEnum", false});
    for (const Json& value : node["enum"]) probes.push_back({"enum", value, true});
  }
  for (const char* keyword : {"minItems", "maxItems", "maxProperties"}) {
    if (!node.contains(keyword)) continue;
    size_t n = node[keyword];
    const bool at_least = std::string(keyword) == "minItems";
    if (!at_least || n > 0) {
      probes.push_back({keyword, Entries(node, at_least ? n - 1 : n + 1), false});
    }
    probes.push_back({keyword, Entries(node, n), true});
  }
  if (node.contains("required")) probes.push_back({"required", Json::object(), false});
  if (node.contains("x-kubernetes-list-map-keys")) {
    Json twins = Entries(node, 2);
    twins[1] = twins[0];
    probes.push_back({"x-kubernetes-list-map-keys", twins, false});
  }
  return probes;
}

TEST(CrdConstraints, ParseProjectRejectsJustPastEveryBoundAndAcceptsTheBound) {
  const Json spec_schema = SpecSchema();
  ASSERT_TRUE(ParseProject(ProjectWithSpec(ProbeBase())).ok());
  int probed = 0;
  Walk(spec_schema, "spec", [&](const std::string& path, const Json& node) {
    for (const Probe& probe : ProbesFor(node)) {
      ++probed;
      Json spec = ProbeBase();
      const std::string concrete = SetAt(spec, spec_schema, path, probe.value);
      StatusOr<Project> project = ParseProject(ProjectWithSpec(spec));
      if (probe.accepted) {
        EXPECT_TRUE(project.ok()) << path << " " << probe.why << " "
                                  << probe.value.dump().substr(0, 80)
                                  << ": " << project.status().ToString();
      } else {
        ASSERT_FALSE(project.ok()) << path << " " << probe.why << ": accepted "
                                   << probe.value.dump().substr(0, 80);
        EXPECT_EQ(project.status().code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(project.status().message().rfind(concrete, 0), 0u)
            << path << " " << probe.why << ": \"" << project.status().message() << "\" should name "
            << concrete;
      }
    }
  });
  EXPECT_GT(probed, 80);
}

TEST(CrdCelRules, AreTheOnesParseProjectImplements) {
  std::vector<std::string> crd, cpp;
  Json root = RootSchema();
  root["properties"].erase("status");  // the operator writes status; no rule of it is parsed
  Walk(root, "", [&](const std::string& path, const Json& node) {
    for (const Json& rule : node.value("x-kubernetes-validations", Json::array())) {
      crd.push_back(path + " | " + rule.value("rule", "") + " | " + rule.value("message", ""));
    }
  });
  for (const CelRule* rule : CelRules()) {
    cpp.push_back(std::string(rule->path) + " | " + std::string(rule->rule) + " | " +
                  std::string(rule->message));
  }
  EXPECT_EQ(crd, cpp);
}

// Each CEL rule, broken once: ParseProject says what the apiserver would.
TEST(CrdCelRules, ParseProjectRejectsEachWithTheCrdsMessage) {
  struct Case {
    const CelRule* rule;
    Json project;
  };
  Json smtp_without_host = ProbeBase();
  smtp_without_host["auth"]["smtp"].erase("host");
  Json smtp_ref_without_key = ProbeBase();
  smtp_ref_without_key["auth"]["smtp"]["passwordSecretRef"].erase("key");
  Json s3_without_endpoint = ProbeBase();
  s3_without_endpoint["storage"]["s3"].erase("endpoint");
  Json s3_without_namespace = ProbeBase();
  s3_without_namespace["storage"]["s3"]["credentialsSecretRef"]["namespace"] = "";
  Json long_name = ProjectWithSpec(Json::object());
  long_name["metadata"]["name"] = std::string(kMaxProjectNameLength + 1, 'a');
  Json snippet = ProbeBase();
  snippet["ingress"]["annotations"]["nginx.ingress.kubernetes.io/server-snippet"] = "return 200;";
  const std::vector<Case> cases = {
      {&kNameIsShortDnsLabel, long_name},
      {&kNoDangerousIngressAnnotations, ProjectWithSpec(snippet)},
      {&kSmtpHostWithPassword, ProjectWithSpec(smtp_without_host)},
      {&kSmtpPasswordRefComplete, ProjectWithSpec(smtp_ref_without_key)},
      {&kS3EndpointWithS3, ProjectWithSpec(s3_without_endpoint)},
      {&kS3CredentialsWithS3, ProjectWithSpec(s3_without_namespace)},
  };
  ASSERT_EQ(cases.size(), CelRules().size()) << "a CEL rule has no case here";
  for (const Case& c : cases) {
    StatusOr<Project> project = ParseProject(c.project);
    ASSERT_FALSE(project.ok()) << c.rule->message;
    EXPECT_EQ(project.status().message(), c.rule->message);
  }
  Json name_at_limit = ProjectWithSpec(Json::object());
  name_at_limit["metadata"]["name"] = std::string(kMaxProjectNameLength, 'a');
  EXPECT_TRUE(ParseProject(name_at_limit).ok());
}

}  // namespace
}  // namespace kubabase::project
