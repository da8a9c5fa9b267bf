// Fields: reads the optional fields of one JSON object of a Project into C++ values, checking each
// against its rule in project_schema.h. Absent or null fields leave the output untouched (its
// default); a wrong type or a violated rule is InvalidArgument "<path>: ...".
//
//   Fields spec(&object["spec"], "spec");
//   KUBABASE_RETURN_IF_ERROR(spec.String("host", &out.host));      // maxLength and pattern too
//   KUBABASE_ASSIGN_OR_RETURN(Fields rest, spec.Object("rest"));   // "spec.rest"
//
// Internal to controller/project (ParseProject, ParseProjectStatus). A Fields points into the
// JSON it reads: the JSON must outlive it. May throw only what nlohmann::json throws on misuse.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/resource.h"
#include "controller/project/project_schema.h"

namespace kubabase::project {

// InvalidArgument "<path>: <what>".
Status Invalid(const std::string& path, std::string_view what);

class Fields {
 public:
  // `path` names the object in messages ("spec.rest", "spec.rest.extraEnv[2]"); `schema_path`
  // finds its rules ("spec.rest.extraEnv[]"). They differ only below lists and maps.
  Fields(const kube::Json* object, std::string path);
  Fields(const kube::Json* object, std::string path, std::string schema_path);

  std::string Path(std::string_view key) const;
  std::string SchemaPath(std::string_view key) const;

  // The field's value, or null when absent or null (or when this object is absent).
  const kube::Json* Find(std::string_view key) const;

  // A nested object (reading nothing when absent), or InvalidArgument when not an object or
  // against its rule (required keys, entries of a map).
  StatusOr<Fields> Object(std::string_view key) const;

  Status String(std::string_view key, std::string* out) const;
  Status Bool(std::string_view key, bool* out) const;

  // An integer within its rule's range and within Int.
  template <typename Int>
  Status Integer(std::string_view key, Int* out) const {
    return Integer(key, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max(), out);
  }
  // The same, also within [min, max]: for fields outside spec, which have no rules here.
  template <typename Int>
  Status Integer(std::string_view key, int64_t min, int64_t max, Int* out) const {
    int64_t n = 0;
    KUBABASE_RETURN_IF_ERROR(Int64(key, min, max, &n));
    if (Find(key) != nullptr) *out = static_cast<Int>(n);
    return Status();
  }

  // int-or-string: a Kubernetes quantity such as "10Gi" or 1000, kept as text.
  Status Quantity(std::string_view key, std::string* out) const;
  Status StringList(std::string_view key, std::vector<std::string>* out) const;
  Status StringMap(std::string_view key, std::map<std::string, std::string>* out) const;

  // The list under `key` (checked against its rule), its items as Fields ("key[i]"), or
  // InvalidArgument when an item is not an object. Empty when absent.
  StatusOr<std::vector<Fields>> ObjectList(std::string_view key) const;

  // Checks `value` (found under `key`) against the rule for `key`, if any.
  Status Check(std::string_view key, const kube::Json& value) const;

 private:
  Status Int64(std::string_view key, int64_t min, int64_t max, int64_t* out) const;

  const kube::Json* object_;
  std::string path_;
  std::string schema_path_;
};

}  // namespace kubabase::project
