// The project's Namespace, with Pod Security Admission labels.
#include "controller/project/render/builders.h"

namespace kubabase::project::render_internal {

Json NamespaceObject(const Context& ctx) {
  // Owned only under deletionPolicy Delete: see render.h.
  Json object = Object(ctx, "v1", "Namespace", ctx.ns, names::kNamespaceComponent, OwnsData(ctx));
  // "restricted" everywhere: every pod we render runs as a numeric non-root uid with a
  // RuntimeDefault seccomp profile and no capabilities, so admission rejects only what we did not
  // render (anything someone else puts into the namespace).
  // Which Project the namespace (and the data it keeps under Retain) belongs to: a later Project
  // of the same name has another uid and adopts it only when an admin says so (conflicts.h).
  object["metadata"]["annotations"][std::string(names::kProjectUidAnnotation)] = ctx.project.uid;
  Json& labels = object["metadata"]["labels"];
  for (const char* mode : {"enforce", "audit", "warn"}) {
    labels[std::string("pod-security.kubernetes.io/") + mode] = "restricted";
    labels[std::string("pod-security.kubernetes.io/") + mode + "-version"] = "latest";
  }
  return object;
}

}  // namespace kubabase::project::render_internal
