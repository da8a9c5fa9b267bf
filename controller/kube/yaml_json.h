// YamlToJson: a YAML document (as yaml-cpp parses it) as the JSON the apiserver would see for it,
// for tests and tools that read our manifests (crds/, manifests/) into API objects.
//
//   kube::Json crd = kube::YamlToJson(YAML::LoadFile("crds/project.yaml"));
//
// Plain scalars that read as booleans (true/false) or integers (-12, 0, 42) become those; quoted
// scalars stay text ("8080" is a string); null and undefined nodes become null. Floats, YAML 1.1
// spellings (yes/no, on/off) and tags are not interpreted: our manifests use none of them.
// Throws what yaml-cpp throws (YAML::Exception) for a key that is not a scalar.
#pragma once

#include <yaml-cpp/yaml.h>

#include "controller/kube/resource.h"

namespace kubabase::kube {

Json YamlToJson(const YAML::Node& node);

}  // namespace kubabase::kube
