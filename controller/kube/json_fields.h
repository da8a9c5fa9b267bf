// JSON fields of API objects, read without throwing: what every consumer of apiserver JSON needs
// when a field may be absent, null or of another type.
//
//   std::string name = StringAt(object, {"metadata", "name"});          // "" when absent
//   int64_t ready = IntAt(workload, {"status", "readyReplicas"}, 0);    // fallback when absent
//   const Json* labels = At(object, {"metadata", "labels"});           // null when absent
//
// Pure; thread-safe for concurrent readers of the same object.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "controller/kube/resource.h"

namespace kubabase::kube {

// The value at `path` (object keys), or null when a step is missing or not an object.
const Json* At(const Json& object, std::initializer_list<std::string_view> path);

// The string at `path`, or "" when absent or not a string.
std::string StringAt(const Json& object, std::initializer_list<std::string_view> path);

// The integer at `path`, or `fallback` when absent or not an integer.
int64_t IntAt(const Json& object, std::initializer_list<std::string_view> path, int64_t fallback);

}  // namespace kubabase::kube
