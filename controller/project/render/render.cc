// DesiredObjects: resolves the Context once and calls each builder in apply order (render.h).
#include "controller/project/render/render.h"

#include <cmath>
#include <regex>

#include "controller/project/render/builders.h"

namespace kubabase::project {

StatusOr<std::vector<Json>> DesiredObjects(const Project& project, const Defaults& defaults,
                                           const Keys& keys, const UserSecrets& user_secrets) {
  using namespace render_internal;  // NOLINT: the builders are this function's parts
  try {
    Context ctx{project,
                defaults,
                keys,
                user_secrets,
                names::Namespace(defaults, project.name),
                Host(project, defaults),
                ApiUrl(project, defaults)};
    std::vector<Json> out;
    out.push_back(NamespaceObject(ctx));
    KUBABASE_RETURN_IF_ERROR(AppendSecrets(ctx, out));
    AppendNetworkPolicies(ctx, out);
    KUBABASE_RETURN_IF_ERROR(AppendDatabase(ctx, out));
    KUBABASE_RETURN_IF_ERROR(AppendRest(ctx, out));
    KUBABASE_RETURN_IF_ERROR(AppendAuth(ctx, out));
    KUBABASE_RETURN_IF_ERROR(AppendStorage(ctx, out));
    AppendIngresses(ctx, out);
    return out;
  } catch (const std::exception& e) {
    // nlohmann::json throws only on programming errors here; never let one escape.
    return InternalError(std::string("rendering failed: ") + e.what());
  }
}

StatusOr<int64_t> QuantityBytes(std::string_view quantity) {
  static const std::regex re("^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$");
  std::string text(quantity);
  std::smatch match;
  if (!std::regex_match(text, match, re)) {
    return InvalidArgumentError("\"" + text + "\" is not a byte quantity such as 50Mi");
  }
  static const std::map<std::string, long double> kMultiplier = {
      {"", 1.0L},
      {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L},
      {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L},
      {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}};
  long double bytes = std::stold(match[1].str()) * kMultiplier.at(match[3].str());
  if (bytes > 9.2e18L) return InvalidArgumentError("\"" + text + "\" is too large");
  return static_cast<int64_t>(std::ceil(bytes));
}

}  // namespace kubabase::project
