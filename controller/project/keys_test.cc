#include "controller/project/keys.h"

#include <set>

#include <gtest/gtest.h>

#include "controller/project/names.h"
#include "controller/project/render/bootstrap_sql.h"

namespace kubabase::project {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// Deterministic bytes: 0, 1, 2, ... 63 first (so the alphabet test can read them), then a
// splitmix64 stream, so later values never repeat the way a wrapping counter would.
class CountingRandom final : public RandomSource {
 public:
  Status Fill(std::span<uint8_t> out) override {
    for (uint8_t& b : out) {
      if (count_ < 64) {
        b = static_cast<uint8_t>(count_++);
        continue;
      }
      state_ += 0x9e3779b97f4a7c15ULL;
      uint64_t z = state_;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      b = static_cast<uint8_t>(z ^ (z >> 31));
    }
    ++calls_;
    return Status();
  }
  int calls() const { return calls_; }

 private:
  int count_ = 0;
  uint64_t state_ = 0;
  int calls_ = 0;
};

class FailingRandom final : public RandomSource {
 public:
  Status Fill(std::span<uint8_t>) override { return InternalError("no entropy"); }
};

Project AcmeShop() {
  Project project;
  project.name = "acme-shop";
  return project;
}

const system_clock::time_point kNow = system_clock::time_point(seconds(1800000000));

// RFC 7515 appendix A.1: the HS256 example, key and signing input as the RFC gives them.
constexpr char kRfcKey[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr char kRfcSigningInput[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
constexpr char kRfcSignature[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

// jwt.io's classic example.
constexpr char kJwtIoToken[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

TEST(Hs256, SignatureMatchesRfc7515AppendixA1) {
  StatusOr<std::string> key = Base64UrlDecode(kRfcKey);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Hs256Signature(kRfcSigningInput, *key), kRfcSignature);
}

TEST(Hs256, VerifiesTheRfc7515ExampleAndReturnsItsClaims) {
  std::string token = std::string(kRfcSigningInput) + "." + kRfcSignature;
  StatusOr<Json> claims = VerifyHs256(token, *Base64UrlDecode(kRfcKey));
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ((*claims)["iss"], "joe");
  EXPECT_EQ((*claims)["exp"], 1300819380);
  EXPECT_EQ((*claims)["http://example.com/is_root"], true);
}

TEST(Hs256, VerifiesJwtIoClassicExample) {
  StatusOr<Json> claims = VerifyHs256(kJwtIoToken, "your-256-bit-secret");
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ((*claims)["name"], "John Doe");
  EXPECT_EQ((*claims)["iat"], 1516239022);
}

TEST(Hs256, SignsSupabaseKeyExactlyAsAnIndependentImplementation) {
  // Expected value computed with Python's hmac/hashlib/base64 over the same compact JSON.
  Json claims = ApiKeyClaims("anon", "acme-shop", kNow);
  EXPECT_EQ(SignHs256(claims, "a-forty-character-or-longer-test-secret-0123456789"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJleHAiOjIxMTUzNjAwMDAsImlhdCI6MTgwMDAwMDAwMCwiaXNzIjoic3VwYWJhc2UiLCJyZWYiOiJhY21l"
            "LXNob3AiLCJyb2xlIjoiYW5vbiJ9."
            "xVyFg_5KkRbxjKvAIz1dMi-ZHkrBvpz_sw6CajQ231Y");
}

TEST(Hs256, RejectsWrongSecret) {
  StatusOr<Json> claims = VerifyHs256(kJwtIoToken, "not-the-secret");
  EXPECT_EQ(claims.status().code(), StatusCode::kPermissionDenied);
}

TEST(Hs256, RejectsTamperedPayloadHeaderOrSignature) {
  std::string token = kJwtIoToken;
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  for (size_t at : {first - 2, first + 5, second + 3, token.size() - 2}) {
    std::string tampered = token;
    tampered[at] = tampered[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyHs256(tampered, "your-256-bit-secret").ok()) << "position " << at;
  }
}

TEST(Hs256, RejectsAlgNoneAndMalformedTokens) {
  std::string none_header = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})");
  std::string payload = Base64UrlEncode(R"({"role":"service_role"})");
  EXPECT_EQ(VerifyHs256(none_header + "." + payload + ".", "s").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(VerifyHs256("only.two", "s").ok());
  EXPECT_FALSE(VerifyHs256("a.b.c.d", "s").ok());
  EXPECT_FALSE(VerifyHs256("!!.??.**", "s").ok());
  EXPECT_FALSE(VerifyHs256("", "s").ok());
}

TEST(Hs256, ErrorsNeverContainTheSecret) {
  StatusOr<Json> claims = VerifyHs256(kJwtIoToken, "super-secret-value");
  EXPECT_EQ(claims.status().message().find("super-secret-value"), std::string::npos);
}

TEST(ApiKeyClaims, LastTenYearsAndNameTheProject) {
  Json claims = ApiKeyClaims("service_role", "acme-shop", kNow);
  EXPECT_EQ(claims["role"], "service_role");
  EXPECT_EQ(claims["iss"], "supabase");
  EXPECT_EQ(claims["ref"], "acme-shop");
  EXPECT_EQ(claims["iat"], 1800000000);
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 315360000);
}

TEST(Base64, RoundTripsEveryLengthInBothAlphabets) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
    EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
    bytes.push_back(static_cast<char>(i * 37 + 251));
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64Decode("aGVsbG8").ok());     // missing padding
  EXPECT_FALSE(Base64UrlDecode("aGVsbG8=").ok());  // padding is not base64url
  EXPECT_FALSE(Base64UrlDecode("+/").ok());
}

TEST(RandomSecret, UsesTheUrlSafeAlphabetAtTheRequestedLength) {
  CountingRandom random;
  StatusOr<std::string> secret = RandomSecret(random, 64);
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->size(), 64u);
  // Bytes 0..63 map to the alphabet in order.
  EXPECT_EQ(*secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

TEST(RandomSecret, FromOpenSslDiffersEachTime) {
  OpenSslRandom random;
  StatusOr<std::string> a = RandomSecret(random, kPasswordLength);
  StatusOr<std::string> b = RandomSecret(random, kPasswordLength);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(RandomSecret, PropagatesAFailingSource) {
  FailingRandom random;
  EXPECT_EQ(RandomSecret(random, 8).status().code(), StatusCode::kInternal);
}

TEST(EnsureKeys, FillsEverythingForANewProject) {
  CountingRandom random;
  StatusOr<Keys> keys = EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  std::set<std::string> passwords;
  for (const std::string& role : LoginRoles()) {
    ASSERT_TRUE(keys->db_credentials.contains(role)) << role;
    EXPECT_EQ(keys->db_credentials.at(role).size(), kPasswordLength);
    passwords.insert(keys->db_credentials.at(role));
  }
  EXPECT_EQ(passwords.size(), LoginRoles().size()) << "each role has its own password";
  const std::string& secret = keys->api_keys.at("JWT_SECRET");
  EXPECT_GE(secret.size(), kMinJwtSecretLength);
  StatusOr<Json> anon = VerifyHs256(keys->api_keys.at("ANON_KEY"), secret);
  StatusOr<Json> service = VerifyHs256(keys->api_keys.at("SERVICE_ROLE_KEY"), secret);
  ASSERT_TRUE(anon.ok() && service.ok());
  EXPECT_EQ(*anon, ApiKeyClaims("anon", "acme-shop", kNow));
  EXPECT_EQ(*service, ApiKeyClaims("service_role", "acme-shop", kNow));
  EXPECT_EQ(keys->api_keys.at("SUPABASE_URL"), "http://acme-shop.kubabase.localhost");
}

TEST(EnsureKeys, NeverReplacesPresentValuesAndDrawsNoRandomness) {
  CountingRandom first_random;
  Keys first = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, first_random);
  CountingRandom random;
  StatusOr<Keys> again = EnsureKeys(first, AcmeShop(), Defaults(), kNow + seconds(3600), random);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, first);
  EXPECT_EQ(random.calls(), 0);
}

TEST(EnsureKeys, FillsOnlyTheMissingPassword) {
  CountingRandom random;
  Keys complete = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  Keys partial = complete;
  partial.db_credentials.erase("authenticator");
  StatusOr<Keys> filled = EnsureKeys(partial, AcmeShop(), Defaults(), kNow, random);
  ASSERT_TRUE(filled.ok());
  EXPECT_NE(filled->db_credentials.at("authenticator"), complete.db_credentials.at("authenticator"));
  for (const std::string& role : LoginRoles()) {
    if (role != "authenticator") {
      EXPECT_EQ(filled->db_credentials.at(role), complete.db_credentials.at(role));
    }
  }
  EXPECT_EQ(filled->api_keys, complete.api_keys);
}

TEST(EnsureKeys, SignsMissingKeysWithTheExistingJwtSecret) {
  Keys existing;
  existing.api_keys["JWT_SECRET"] = std::string(48, 'k');
  CountingRandom random;
  StatusOr<Keys> keys = EnsureKeys(existing, AcmeShop(), Defaults(), kNow, random);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->api_keys.at("JWT_SECRET"), std::string(48, 'k'));
  EXPECT_TRUE(VerifyHs256(keys->api_keys.at("ANON_KEY"), std::string(48, 'k')).ok());
  EXPECT_TRUE(VerifyHs256(keys->api_keys.at("SERVICE_ROLE_KEY"), std::string(48, 'k')).ok());
}

TEST(EnsureKeys, ResignsAKeyThatNoLongerVerifiesAfterTheSecretWasRotated) {
  CountingRandom random;
  Keys keys = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  std::string old_anon = keys.api_keys.at("ANON_KEY");
  keys.api_keys["JWT_SECRET"] = std::string(50, 'r');
  StatusOr<Keys> rotated = EnsureKeys(keys, AcmeShop(), Defaults(), kNow, random);
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->api_keys.at("ANON_KEY"), old_anon);
  EXPECT_TRUE(VerifyHs256(rotated->api_keys.at("ANON_KEY"), std::string(50, 'r')).ok());
}

TEST(EnsureKeys, ResignsAKeyCarryingTheWrongRole) {
  CountingRandom random;
  Keys keys = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  keys.api_keys["ANON_KEY"] = keys.api_keys.at("SERVICE_ROLE_KEY");  // a dangerous mix-up
  StatusOr<Keys> fixed = EnsureKeys(keys, AcmeShop(), Defaults(), kNow, random);
  ASSERT_TRUE(fixed.ok());
  StatusOr<Json> claims = VerifyHs256(fixed->api_keys.at("ANON_KEY"), keys.api_keys.at("JWT_SECRET"));
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ((*claims)["role"], "anon");
}

TEST(EnsureKeys, ResignsAKeyForAnotherProjectOrIssuer) {
  CountingRandom random;
  const Keys keys = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  const std::string& secret = keys.api_keys.at("JWT_SECRET");
  // Each is signed with this project's secret, with the right role, yet is not its key.
  Json other_ref = ApiKeyClaims("anon", "someone-else", kNow);
  Json other_iss = ApiKeyClaims("anon", "acme-shop", kNow);
  other_iss["iss"] = "not-supabase";
  Json numeric_ref = ApiKeyClaims("anon", "acme-shop", kNow);
  numeric_ref["ref"] = 7;
  Json no_iss = ApiKeyClaims("anon", "acme-shop", kNow);
  no_iss.erase("iss");
  for (const Json& claims : {other_ref, other_iss, numeric_ref, no_iss}) {
    Keys edited = keys;
    edited.api_keys["ANON_KEY"] = SignHs256(claims, secret);
    StatusOr<Keys> fixed = EnsureKeys(edited, AcmeShop(), Defaults(), kNow, random);
    ASSERT_TRUE(fixed.ok()) << claims.dump() << ": " << fixed.status().ToString();
    StatusOr<Json> now = VerifyHs256(fixed->api_keys.at("ANON_KEY"), secret);
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(*now, ApiKeyClaims("anon", "acme-shop", kNow)) << "re-signed from " << claims.dump();
    EXPECT_EQ(fixed->api_keys.at("SERVICE_ROLE_KEY"), keys.api_keys.at("SERVICE_ROLE_KEY"));
  }
  // This project's own keys are kept as they are.
  EXPECT_EQ(*EnsureKeys(keys, AcmeShop(), Defaults(), kNow + seconds(60), random), keys);
}

TEST(EnsureKeys, AKeyWhoseRoleIsNotAStringIsAPreconditionNamingTheKeyNotAnException) {
  CountingRandom random;
  const Keys keys = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  for (const Json& role : {Json(42), Json::array({"anon"}), Json(nullptr), Json::object()}) {
    Json claims = ApiKeyClaims("service_role", "acme-shop", kNow);
    claims["role"] = role;
    Keys edited = keys;
    edited.api_keys["SERVICE_ROLE_KEY"] = SignHs256(claims, keys.api_keys.at("JWT_SECRET"));
    StatusOr<Keys> result = EnsureKeys(edited, AcmeShop(), Defaults(), kNow, random);
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition) << role.dump();
    EXPECT_EQ(result.status().message(),
              "Secret api-keys key SERVICE_ROLE_KEY: the JWT's role claim is not a string; set it "
              "to \"service_role\" or delete the key to have it signed again");
    EXPECT_EQ(result.status().message().find(edited.api_keys.at("SERVICE_ROLE_KEY")),
              std::string::npos);
  }
}

TEST(EnsureKeys, RejectsAShortExistingJwtSecretWithoutEchoingIt) {
  Keys existing;
  existing.api_keys["JWT_SECRET"] = "short-secret-value";
  CountingRandom random;
  StatusOr<Keys> keys = EnsureKeys(existing, AcmeShop(), Defaults(), kNow, random);
  EXPECT_EQ(keys.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys.status().message().find("short-secret-value"), std::string::npos);
}

TEST(EnsureKeys, KeepsUnknownKeysAndFollowsTheHostInSupabaseUrl) {
  CountingRandom random;
  Keys keys = *EnsureKeys({}, AcmeShop(), Defaults(), kNow, random);
  keys.api_keys["EXTRA"] = "kept";
  Project moved = AcmeShop();
  moved.spec.host = "api.acme.example";
  moved.spec.ingress.tls_secret_name = "acme-tls";
  StatusOr<Keys> again = EnsureKeys(keys, moved, Defaults(), kNow, random);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->api_keys.at("EXTRA"), "kept");
  EXPECT_EQ(again->api_keys.at("SUPABASE_URL"), "https://api.acme.example");
  EXPECT_EQ(again->api_keys.at("ANON_KEY"), keys.api_keys.at("ANON_KEY"));
}

TEST(EnsureKeys, FailsWhenTheRandomSourceFails) {
  FailingRandom random;
  EXPECT_EQ(EnsureKeys({}, AcmeShop(), Defaults(), kNow, random).status().code(),
            StatusCode::kInternal);
}

TEST(SecretValues, DecodesDataAndOverlaysStringData) {
  Json secret = {{"data", {{"a", Base64Encode("one")}, {"b", Base64Encode("two")}}},
                 {"stringData", {{"b", "three"}}}};
  StatusOr<std::map<std::string, std::string>> values = SecretValues(secret);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(values->at("a"), "one");
  EXPECT_EQ(values->at("b"), "three");
  EXPECT_TRUE(SecretValues(Json{{"data", nullptr}})->empty());
  EXPECT_EQ(SecretValues(Json{{"data", {{"a", "%%%"}}}}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kubabase::project
