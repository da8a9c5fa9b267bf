// Helpers for the tests that read crds/project.yaml (crd_defaults_test, crd_constraints_test):
// the schema as JSON, a walk over its nodes with the paths project_schema.h uses, and a setter
// that builds a spec with one value at such a path. Tests run with the repository root as cwd.
#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "controller/kube/yaml_json.h"
#include "controller/project/project.h"

namespace kubabase::project::testing {

inline Json RootSchema() {
  YAML::Node crd = YAML::LoadFile("crds/project.yaml");
  return kube::YamlToJson(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]);
}

inline Json SpecSchema() { return RootSchema()["properties"]["spec"]; }

inline Json ProjectWithSpec(const Json& spec) {
  return {{"apiVersion", "kubabase.io/v1alpha1"},
          {"kind", "Project"},
          {"metadata", {{"name", "acme-shop"}}},
          {"spec", spec}};
}

// Calls `visit(path, node)` for `schema` and every node below it, paths as in FieldRule::path.
inline void Walk(const Json& schema, const std::string& path,
          const std::function<void(const std::string&, const Json&)>& visit) {
  visit(path, schema);
  if (schema.contains("properties")) {
    for (const auto& [name, property] : schema["properties"].items()) {
      Walk(property, path.empty() ? name : path + "." + name, visit);
    }
  }
  if (schema.contains("items")) Walk(schema["items"], path + "[]", visit);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
    Walk(schema["additionalProperties"], path + "{}", visit);
  }
}

// Sets the node at `path` (below "spec") in `spec` to `value`, creating what leads there: a list
// segment ("extraEnv[]") gets one item, a map segment ("limits{}") one entry "probe". Items and
// objects created on the way get their required keys. Returns the concrete path of the node.
inline std::string SetAt(Json& spec, const Json& spec_schema, const std::string& path,
                         const Json& value) {
  std::vector<std::string> segments;
  std::stringstream in(path.substr(std::string("spec.").size()));
  for (std::string segment; std::getline(in, segment, '.');) segments.push_back(segment);
  Json* node = &spec;
  const Json* schema = &spec_schema;
  std::string concrete = "spec";
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string name = segments[i];
    const bool list = name.ends_with("[]"), map = name.ends_with("{}");
    if (list || map) name.resize(name.size() - 2);
    schema = &(*schema)["properties"][name];
    concrete += "." + name;
    const bool last = i + 1 == segments.size();
    if (!list && !map) {
      if (last) {
        (*node)[name] = value;
      } else if (!node->contains(name) || !(*node)[name].is_object()) {
        (*node)[name] = Json::object();
      }
      node = &(*node)[name];
      continue;
    }
    const Json& inner = list ? (*schema)["items"] : (*schema)["additionalProperties"];
    Json element = last ? value : Json::object();
    if (!last && inner.contains("required")) {
      for (const Json& key : inner["required"]) element[key.get<std::string>()] = "required-key";
    }
    if (list) {
      (*node)[name] = Json::array({element});
      node = &(*node)[name][0];
      concrete += "[0]";
    } else {
      (*node)[name] = Json{{"probe", element}};
      node = &(*node)[name]["probe"];
      concrete += ".probe";
    }
    schema = &inner;
  }
  return concrete;
}

// A spec in which every optional block is present and valid (the SMTP password and S3 with its
// credentials), so that one probe changes one thing.
inline Json ProbeBase() {
  return Json::parse(R"({
    "auth": {"smtp": {"host": "smtp",
                      "passwordSecretRef": {"namespace": "n", "name": "s", "key": "k"}}},
    "storage": {"backend": "s3", "s3": {"endpoint": "http://minio:9000", "bucket": "files",
                                         "credentialsSecretRef": {"namespace": "n", "name": "c"}}}
  })");
}

}  // namespace kubabase::project::testing
