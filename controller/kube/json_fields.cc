#include "controller/kube/json_fields.h"

namespace kubabase::kube {

const Json* At(const Json& object, std::initializer_list<std::string_view> path) {
  const Json* at = &object;
  for (std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string StringAt(const Json& object, std::initializer_list<std::string_view> path) {
  const Json* at = At(object, path);
  return at != nullptr && at->is_string() ? at->get<std::string>() : std::string();
}

int64_t IntAt(const Json& object, std::initializer_list<std::string_view> path, int64_t fallback) {
  const Json* at = At(object, path);
  return at != nullptr && (at->is_number_integer() || at->is_number_unsigned())
             ? at->get<int64_t>()
             : fallback;
}

}  // namespace kubabase::kube
