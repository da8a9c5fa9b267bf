#include "controller/kube/yaml_json.h"

#include <string>

namespace kubabase::kube {
namespace {

bool IsInteger(const std::string& text) {
  const size_t digits = text.size() > 1 && text[0] == '-' ? 1 : 0;
  return text.size() > digits && text.find_first_not_of("0123456789", digits) == std::string::npos;
}

}  // namespace

Json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& entry : node) out[entry.first.as<std::string>()] = YamlToJson(entry.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") return text;  // quoted: always a string
      if (text == "true" || text == "false") return text == "true";
      if (IsInteger(text)) return std::stoll(text);
      return text;
    }
    default:
      return nullptr;
  }
}

}  // namespace kubabase::kube
