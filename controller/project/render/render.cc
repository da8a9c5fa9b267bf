// DesiredState: resolves the Context once, renders what belongs to no single component, then
// each enabled component in registry order (render.h).
#include "controller/project/render/render.h"

#include "controller/project/render/builders.h"

namespace kubabase::project {

StatusOr<Rendered> DesiredState(const Project& project, const Defaults& defaults,
                                const Keys& keys, const UserSecrets& user_secrets) {
  using namespace render_internal;  // NOLINT: the builders are this function's parts
  try {
    Context ctx{project,
                defaults,
                keys,
                user_secrets,
                names::Namespace(defaults, project.name),
                Host(project, defaults),
                ApiUrl(project, defaults),
                PlanComponents(project, defaults)};
    Rendered out;
    out.components = ctx.plans;
    out.objects.push_back(NamespaceObject(ctx));
    // The quota before any pod: the apiserver admits every later pod against it.
    KUBABASE_RETURN_IF_ERROR(AppendPlan(ctx, out.objects));
    KUBABASE_RETURN_IF_ERROR(AppendSecrets(ctx, out.objects));
    for (const UserSecretNeed& need : UserSecretNeeds(project.spec)) {
      out.secret_copies.push_back(need.copy);
    }
    AppendNetworkPolicies(ctx, out.objects);
    for (const ComponentPlan& plan : ctx.plans) {
      if (plan.def->render == nullptr) continue;
      std::vector<Json> objects;
      KUBABASE_RETURN_IF_ERROR(plan.def->render(ctx, plan, objects));
      for (Json& object : objects) {
        const std::string kind = object.value("kind", std::string());
        const std::string name = object["metadata"].value("name", std::string());
        if (kind == "Job" && name.starts_with(names::kBootstrap)) out.bootstrap_job = name;
        if (kind == "Ingress") out.ingresses.push_back(name);
        out.objects.push_back(std::move(object));
      }
    }
    return out;
  } catch (const std::exception& e) {
    // nlohmann::json throws only on programming errors here; never let one escape.
    return InternalError(std::string("rendering failed: ") + e.what());
  }
}

}  // namespace kubabase::project
