// Keys: the project's generated secrets. Random passwords and JWT secrets from OpenSSL's CSPRNG,
// HS256 JWTs (the ANON_KEY and SERVICE_ROLE_KEY that Supabase clients send), and EnsureKeys,
// which completes the Secrets' data without ever replacing a value that is already there.
//
//   OpenSslRandom random;
//   Keys existing = {.db_credentials = SecretValues(db_secret), .api_keys = SecretValues(api)};
//   StatusOr<Keys> keys = EnsureKeys(existing, project, defaults, clock.WallNow(), random);
//   StatusOr<Json> claims = VerifyHs256(keys->api_keys.at("ANON_KEY"), jwt_secret);
//
// Why "never replace": a regenerated database password locks every service out, a regenerated
// JWT secret logs every user out. Error messages never contain a secret or a token.
// Functions are thread-safe; OpenSslRandom is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "controller/base/base64.h"
#include "controller/base/status.h"
#include "controller/kube/resource.h"
#include "controller/project/defaults.h"
#include "controller/project/project.h"

namespace kubabase::project {

// Where random bytes come from; injected so tests are deterministic.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` entirely, or returns Internal (never a partial fill that reports ok).
  virtual Status Fill(std::span<uint8_t> out) = 0;
};

// OpenSSL's RAND_bytes.
class OpenSslRandom final : public RandomSource {
 public:
  Status Fill(std::span<uint8_t> out) override;
};

// Length of generated values.
inline constexpr size_t kPasswordLength = 32;   // 192 bits
inline constexpr size_t kJwtSecretLength = 64;  // 384 bits; Supabase needs at least 32, we say 40
inline constexpr size_t kMinJwtSecretLength = 40;
// API keys live ten years (not jwtExpirySeconds: that is the session lifetime).
inline constexpr std::chrono::seconds kApiKeyLifetime{10LL * 365 * 24 * 3600};

// `length` characters from the URL-safe alphabet [A-Za-z0-9_-], uniformly (6 bits per byte),
// safe in a postgres:// URI without escaping. Internal if the source fails.
StatusOr<std::string> RandomSecret(RandomSource& random, size_t length);

// base64 and base64url (controller/base/base64.h), re-exported for the key code and its callers.
using kubabase::Base64Decode;
using kubabase::Base64Encode;
using kubabase::Base64UrlDecode;
using kubabase::Base64UrlEncode;

// The base64url HMAC-SHA256 of `signing_input` under `key` (the JWS signature of RFC 7515).
std::string Hs256Signature(std::string_view signing_input, std::string_view key);

// A compact JWS: header {"alg":"HS256","typ":"JWT"}, the claims as compact JSON, an HS256
// signature with `secret`.
std::string SignHs256(const Json& claims, std::string_view secret);

// Checks a compact JWS: three parts, header alg "HS256", a signature that matches `secret`
// (compared in constant time). Returns the claims object. Does not check exp/nbf/iat (callers
// that care pass their own clock); InvalidArgument when malformed, PermissionDenied when the
// signature does not match.
StatusOr<Json> VerifyHs256(std::string_view jwt, std::string_view secret);

// The claims of a Supabase API key: {"role", "iss": "supabase", "ref", "iat", "exp": iat + 10y}.
Json ApiKeyClaims(std::string_view role, std::string_view ref,
                  std::chrono::system_clock::time_point now);

// The decoded contents of the two generated Secrets.
struct Keys {
  // Role name (LoginRoles() of render/bootstrap_sql.h) -> password.
  std::map<std::string, std::string> db_credentials;
  // JWT_SECRET, ANON_KEY, SERVICE_ROLE_KEY, SUPABASE_URL.
  std::map<std::string, std::string> api_keys;
  friend bool operator==(const Keys&, const Keys&) = default;
};

// Completes `existing`:
// - every login role gets a password if it has none (each its own random value);
// - JWT_SECRET is generated if missing (kJwtSecretLength characters);
// - ANON_KEY / SERVICE_ROLE_KEY are signed with JWT_SECRET (the existing one if present) when
//   missing, or when present but not verifiable with JWT_SECRET (someone rotated JWT_SECRET: a
//   key that no service accepts is useless, so it is re-signed), or when its claims are not this
//   project's: role other than the key's, ref other than the project's name, iss not "supabase";
// - a verifiable key whose role claim is not a string is FailedPrecondition naming the key (the
//   reconciler shows it as InvalidKeys on the Project's status);
// - SUPABASE_URL is always the project's current ApiUrl (not a secret; follows host changes).
// Present values are never replaced otherwise; keys the operator does not know are kept.
// Returns Internal if the random source fails; FailedPrecondition if an existing JWT_SECRET is
// shorter than kMinJwtSecretLength or a key's role is not a string (message says what to fix,
// never the value). Never throws.
StatusOr<Keys> EnsureKeys(const Keys& existing, const Project& project, const Defaults& defaults,
                          std::chrono::system_clock::time_point now, RandomSource& random);

// A Secret object's data, base64-decoded (stringData is merged over it, as the apiserver does).
// An absent or null data is an empty map; a value that is not base64 is InvalidArgument naming
// the key.
StatusOr<std::map<std::string, std::string>> SecretValues(const Json& secret);

}  // namespace kubabase::project
