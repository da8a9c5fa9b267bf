#include "controller/project/keys.h"

#include <array>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "controller/project/names.h"
#include "controller/project/render/bootstrap_sql.h"

namespace kubabase::project {
namespace {

constexpr char kUrlAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string RawHmacSha256(std::string_view input, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool Missing(const std::map<std::string, std::string>& data, std::string_view key) {
  auto it = data.find(std::string(key));
  return it == data.end() || it->second.empty();
}

// claims[name] when it is a string, else null.
const Json* StringClaim(const Json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? &*it : nullptr;
}

constexpr char kApiKeyIssuer[] = "supabase";

}  // namespace

Status OpenSslRandom::Fill(std::span<uint8_t> out) {
  if (out.empty()) return Status();
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return InternalError("OpenSSL RAND_bytes failed: the CSPRNG is not seeded");
  }
  return Status();
}

StatusOr<std::string> RandomSecret(RandomSource& random, size_t length) {
  std::vector<uint8_t> bytes(length);
  KUBABASE_RETURN_IF_ERROR(random.Fill(bytes));
  std::string out;
  out.reserve(length);
  // 256 is a multiple of 64, so taking 6 bits of each byte is uniform over the alphabet.
  for (uint8_t b : bytes) out.push_back(kUrlAlphabet[b & 63]);
  return out;
}

std::string Hs256Signature(std::string_view signing_input, std::string_view key) {
  return Base64UrlEncode(RawHmacSha256(signing_input, key));
}

std::string SignHs256(const Json& claims, std::string_view secret) {
  // nlohmann::json sorts keys: this header always serializes as {"alg":"HS256","typ":"JWT"}.
  static const std::string kHeader = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  std::string signing_input = kHeader + "." + Base64UrlEncode(claims.dump());
  return signing_input + "." + Hs256Signature(signing_input, secret);
}

StatusOr<Json> VerifyHs256(std::string_view jwt, std::string_view secret) {
  size_t first = jwt.find('.');
  size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos || jwt.find('.', second + 1) != std::string_view::npos) {
    return InvalidArgumentError("a JWT has three dot-separated parts");
  }
  StatusOr<std::string> header = Base64UrlDecode(jwt.substr(0, first));
  StatusOr<std::string> payload = Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
  StatusOr<std::string> signature = Base64UrlDecode(jwt.substr(second + 1));
  if (!header.ok() || !payload.ok() || !signature.ok()) {
    return InvalidArgumentError("a JWT part is not base64url");
  }
  Json header_json = Json::parse(*header, nullptr, /*allow_exceptions=*/false);
  if (!header_json.is_object()) return InvalidArgumentError("the JWT header is not a JSON object");
  auto alg = header_json.find("alg");
  // Only HS256: accepting the token's own choice of algorithm ("none") is the classic JWT hole.
  if (alg == header_json.end() || *alg != "HS256") {
    return InvalidArgumentError("the JWT is not signed with HS256");
  }
  std::string expected = RawHmacSha256(jwt.substr(0, second), secret);
  if (signature->size() != expected.size() ||
      CRYPTO_memcmp(signature->data(), expected.data(), expected.size()) != 0) {
    return PermissionDeniedError("the JWT signature does not match the secret");
  }
  Json claims = Json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return InvalidArgumentError("the JWT claims are not a JSON object");
  return claims;
}

Json ApiKeyClaims(std::string_view role, std::string_view ref,
                  std::chrono::system_clock::time_point now) {
  int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return {{"role", role}, {"iss", kApiKeyIssuer}, {"ref", ref}, {"iat", iat},
          {"exp", iat + kApiKeyLifetime.count()}};
}

StatusOr<Keys> EnsureKeys(const Keys& existing, const Project& project, const Defaults& defaults,
                          std::chrono::system_clock::time_point now, RandomSource& random) {
  Keys keys = existing;
  for (const std::string& role : LoginRoles()) {
    if (!Missing(keys.db_credentials, role)) continue;
    KUBABASE_ASSIGN_OR_RETURN(keys.db_credentials[role],
                              RandomSecret(random, kPasswordLength));
  }
  std::map<std::string, std::string>& api = keys.api_keys;
  const std::string jwt_secret_key(names::kJwtSecretKey);
  if (Missing(api, jwt_secret_key)) {
    KUBABASE_ASSIGN_OR_RETURN(api[jwt_secret_key], RandomSecret(random, kJwtSecretLength));
  } else if (api[jwt_secret_key].size() < kMinJwtSecretLength) {
    return FailedPreconditionError(
        "Secret " + std::string(names::kApiKeysSecret) + " key JWT_SECRET is shorter than " +
        std::to_string(kMinJwtSecretLength) + " characters; set a longer one or delete the key "
        "to have one generated (this logs every user out)");
  }
  const std::string& secret = api[jwt_secret_key];
  const std::pair<std::string_view, std::string_view> api_keys[] = {
      {names::kAnonKeyKey, "anon"}, {names::kServiceRoleKeyKey, "service_role"}};
  for (const auto& [key, role] : api_keys) {
    std::string& token = api[std::string(key)];
    if (!token.empty()) {
      StatusOr<Json> claims = VerifyHs256(token, secret);
      if (claims.ok()) {
        // Signed with our secret, so written by someone who holds it: a role that is not even a
        // string is theirs to fix (re-signing would hide what they did); say where.
        const Json* claimed_role = StringClaim(*claims, "role");
        if (claims->contains("role") && claimed_role == nullptr) {
          return FailedPreconditionError(fmt::format(
              "Secret {} key {}: the JWT's role claim is not a string; set it to \"{}\" or delete "
              "the key to have it signed again",
              names::kApiKeysSecret, key, role));
        }
        // A key for another project (ref) or issuer is refused by nothing of ours but is not
        // this project's key: re-sign it, like one for the wrong role or secret.
        const Json* ref = StringClaim(*claims, "ref");
        const Json* iss = StringClaim(*claims, "iss");
        auto is = [](const Json* claim, std::string_view want) {
          return claim != nullptr && claim->get_ref<const std::string&>() == want;
        };
        if (is(claimed_role, role) && is(ref, project.name) && is(iss, kApiKeyIssuer)) {
          continue;
        }
      }
    }
    token = SignHs256(ApiKeyClaims(role, project.name, now), secret);
  }
  api[std::string(names::kSupabaseUrlKey)] = ApiUrl(project, defaults);
  return keys;
}

StatusOr<std::map<std::string, std::string>> SecretValues(const Json& secret) {
  std::map<std::string, std::string> values;
  if (!secret.is_object()) return values;
  auto data = secret.find("data");
  if (data != secret.end() && data->is_object()) {
    for (const auto& [key, value] : data->items()) {
      if (!value.is_string()) return InvalidArgumentError("Secret data." + key + " is not a string");
      StatusOr<std::string> decoded = Base64Decode(value.get<std::string>());
      if (!decoded.ok()) return InvalidArgumentError("Secret data." + key + " is not base64");
      values[key] = std::move(*decoded);
    }
  }
  auto string_data = secret.find("stringData");
  if (string_data != secret.end() && string_data->is_object()) {
    for (const auto& [key, value] : string_data->items()) {
      if (value.is_string()) values[key] = value.get<std::string>();
    }
  }
  return values;
}

}  // namespace kubabase::project
