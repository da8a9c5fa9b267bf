// ParseProjectStatus and ToJson: ProjectStatus to and from the status subresource's JSON.
#include <utility>

#include "controller/project/json_fields.h"
#include "controller/project/project.h"

namespace kubabase::project {
namespace {

StatusOr<Phase> ParsePhase(const std::string& text) {
  for (Phase p : {Phase::kPending, Phase::kProvisioning, Phase::kReady, Phase::kDegraded,
                  Phase::kPaused, Phase::kDeleting, Phase::kFailed}) {
    if (PhaseName(p) == text) return p;
  }
  return Invalid("status.phase", "unknown phase \"" + text + "\"");
}

Status ParseComponents(const Fields& f, std::map<std::string, ComponentStatus>* out) {
  const Json* components = f.Find("components");
  if (components == nullptr) return Status();
  if (!components->is_object()) return Invalid("status.components", "must be an object");
  for (const auto& [name, value] : components->items()) {
    Fields c(&value, "status.components." + name);
    ComponentStatus cs;
    KUBABASE_RETURN_IF_ERROR(c.Integer("desired", 0, INT32_MAX, &cs.desired));
    KUBABASE_RETURN_IF_ERROR(c.Integer("ready", 0, INT32_MAX, &cs.ready));
    KUBABASE_RETURN_IF_ERROR(c.String("image", &cs.image));
    (*out)[name] = cs;
  }
  return Status();
}

Status ParseConditions(const Fields& f, std::vector<Condition>* out) {
  const Json* conditions = f.Find("conditions");
  if (conditions == nullptr) return Status();
  if (!conditions->is_array()) return Invalid("status.conditions", "must be a list");
  for (size_t i = 0; i < conditions->size(); ++i) {
    Fields c(&(*conditions)[i], "status.conditions[" + std::to_string(i) + "]");
    Condition cond;
    KUBABASE_RETURN_IF_ERROR(c.String("type", &cond.type));
    KUBABASE_RETURN_IF_ERROR(c.String("status", &cond.status));
    KUBABASE_RETURN_IF_ERROR(c.String("reason", &cond.reason));
    KUBABASE_RETURN_IF_ERROR(c.String("message", &cond.message));
    KUBABASE_RETURN_IF_ERROR(
        c.Integer("observedGeneration", 0, INT64_MAX, &cond.observed_generation));
    KUBABASE_RETURN_IF_ERROR(c.String("lastTransitionTime", &cond.last_transition_time));
    out->push_back(std::move(cond));
  }
  return Status();
}

}  // namespace

StatusOr<ProjectStatus> ParseProjectStatus(const Json& status) {
  try {
    if (!status.is_object()) return Invalid("status", "must be an object");
    Fields f(&status, "status");
    ProjectStatus out;
    KUBABASE_RETURN_IF_ERROR(f.Integer("observedGeneration", 0, INT64_MAX, &out.observed_generation));
    std::string phase;
    KUBABASE_RETURN_IF_ERROR(f.String("phase", &phase));
    if (!phase.empty()) {
      KUBABASE_ASSIGN_OR_RETURN(out.phase, ParsePhase(phase));
    }
    KUBABASE_RETURN_IF_ERROR(f.String("namespace", &out.namespace_));
    KUBABASE_RETURN_IF_ERROR(f.StringMap("endpoints", &out.endpoints));
    KUBABASE_ASSIGN_OR_RETURN(Fields keys, f.Object("keysSecret"));
    KUBABASE_RETURN_IF_ERROR(keys.String("namespace", &out.keys_secret.namespace_));
    KUBABASE_RETURN_IF_ERROR(keys.String("name", &out.keys_secret.name));
    KUBABASE_RETURN_IF_ERROR(ParseComponents(f, &out.components));
    KUBABASE_RETURN_IF_ERROR(ParseConditions(f, &out.conditions));
    return out;
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("malformed Project status: ") + e.what());
  }
}

Json ToJson(const ProjectStatus& status) {
  Json out = Json::object();
  out["observedGeneration"] = status.observed_generation;
  out["phase"] = PhaseName(status.phase);
  if (!status.namespace_.empty()) out["namespace"] = status.namespace_;
  Json endpoints = Json::object();
  for (const auto& [key, url] : status.endpoints) {
    if (!url.empty()) endpoints[key] = url;
  }
  if (!endpoints.empty()) out["endpoints"] = endpoints;
  if (!status.keys_secret.name.empty()) {
    out["keysSecret"] = {{"namespace", status.keys_secret.namespace_},
                         {"name", status.keys_secret.name}};
  }
  if (!status.components.empty()) {
    Json components = Json::object();
    for (const auto& [name, c] : status.components) {
      Json entry = {{"desired", c.desired}, {"ready", c.ready}};
      if (!c.image.empty()) entry["image"] = c.image;
      components[name] = entry;
    }
    out["components"] = components;
  }
  if (!status.conditions.empty()) {
    Json conditions = Json::array();
    for (const Condition& c : status.conditions) {
      // metav1.Condition requires type, status, lastTransitionTime, reason and message.
      conditions.push_back({{"type", c.type},
                            {"status", c.status},
                            {"reason", c.reason},
                            {"message", c.message},
                            {"observedGeneration", c.observed_generation},
                            {"lastTransitionTime", c.last_transition_time}});
    }
    out["conditions"] = conditions;
  }
  return out;
}

}  // namespace kubabase::project
