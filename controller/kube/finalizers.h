// Finalizers: adding and removing one finalizer on any object, without losing another
// controller's.
//
//   ObjectVersion seen{.name = "shop", .resource_version = "42", .finalizers = {"other.io/x"}};
//   if (!HasFinalizer(seen.finalizers, "kubabase.io/finalizer"))
//     KUBABASE_RETURN_IF_ERROR(AddFinalizer(client, projects, seen, "kubabase.io/finalizer"));
//
// Each write is a merge patch of metadata.finalizers (the whole list) guarded by the
// resourceVersion the caller read: if anyone changed the object meanwhile (another finalizer
// added or removed), the write fails with kAborted and the caller retries on fresh data, so a
// finalizer it did not see is never dropped. Thread-safe if the client is.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "controller/base/status.h"
#include "controller/kube/api_client.h"

namespace kubabase::kube {

// What the caller last read of the object.
struct ObjectVersion {
  std::string ns;  // "" for a cluster-scoped object
  std::string name;
  std::string resource_version;
  std::vector<std::string> finalizers;
};

bool HasFinalizer(const std::vector<std::string>& finalizers, std::string_view finalizer);

// Appends `finalizer` unless present (then no request). Errors: those of MergePatch (kAborted:
// the object changed since it was read), annotated with the object.
Status AddFinalizer(ApiClient& client, const Resource& resource, const ObjectVersion& object,
                    std::string_view finalizer);

// Removes `finalizer`, keeping every other, unless absent (then no request). NotFound is ok: the
// object is already gone. Errors as AddFinalizer.
Status RemoveFinalizer(ApiClient& client, const Resource& resource, const ObjectVersion& object,
                       std::string_view finalizer);

}  // namespace kubabase::kube
