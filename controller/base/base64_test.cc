#include "controller/base/base64.h"

#include <gtest/gtest.h>

namespace kubabase {
namespace {

TEST(Base64Test, EncodesTheRfc4648TestVectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [raw, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(raw), encoded);
    StatusOr<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, raw);
  }
}

TEST(Base64Test, RoundTripsEveryByteValue) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    std::string part = bytes.substr(0, n);
    EXPECT_EQ(*Base64Decode(Base64Encode(part)), part);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(part)), part);
  }
}

TEST(Base64Test, StandardDecodingRejectsEveryOtherSpellingOfAValue) {
  for (const char* bad : {"Zg", "Zg=", "Zm9v\n", " Zm9v", "Zm-v", "Zm_v", "Z===", "Zg==Zg==",
                          "QR==", "Zm9=", "=Zm9"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

TEST(Base64Test, UrlEncodingHasNoPaddingAndTheUrlAlphabet) {
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(*Base64UrlDecode("-_8"), "\xfb\xff");
  for (const char* bad : {"+_8", "-/8", "-_8=", "Z", "QR"}) {
    EXPECT_FALSE(Base64UrlDecode(bad).ok()) << bad;
  }
}

TEST(Base64Test, ErrorsNeverRepeatTheInput) {
  StatusOr<std::string> decoded = Base64Decode("s3cr3t!!");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message().find("s3cr3t"), std::string::npos);
}

}  // namespace
}  // namespace kubabase
