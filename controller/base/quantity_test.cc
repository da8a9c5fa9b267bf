#include "controller/base/quantity.h"

#include <cmath>

#include <gtest/gtest.h>

namespace kubabase {
namespace {

TEST(QuantityTest, ReadsEverySuffixApimachineryKnows) {
  const std::pair<const char*, long double> cases[] = {
      {"1", 1.0L},        {"1.5", 1.5L},       {".5", 0.5L},        {"1.", 1.0L},
      {"+2", 2.0L},       {"-2", -2.0L},       {"500m", 0.5L},      {"7n", 7e-9L},
      {"3u", 3e-6L},      {"2k", 2000.0L},     {"1M", 1e6L},        {"1G", 1e9L},
      {"1T", 1e12L},      {"1P", 1e15L},       {"1E", 1e18L},       {"1Ki", 1024.0L},
      {"1Mi", 1048576.0L}, {"1Gi", 1073741824.0L}, {"1Ti", 1099511627776.0L},
      {"1Pi", 1125899906842624.0L}, {"1Ei", 1152921504606846976.0L},
      {"2e3", 2000.0L},   {"2E3", 2000.0L},    {"5e-1", 0.5L},      {"1e+2", 100.0L}};
  for (const auto& [text, want] : cases) {
    std::optional<long double> got = ParseQuantity(text);
    ASSERT_TRUE(got.has_value()) << text;
    EXPECT_NEAR(static_cast<double>(*got), static_cast<double>(want),
                std::fabs(static_cast<double>(want)) * 1e-12)
        << text;
  }
}

TEST(QuantityTest, OtherSpellingsOfOneValueAreEqual) {
  EXPECT_EQ(ParseQuantity("1Gi"), ParseQuantity("1024Mi"));
  EXPECT_EQ(ParseQuantity("0.5"), ParseQuantity("500m"));
  EXPECT_EQ(ParseQuantity("1.5Gi"), ParseQuantity("1536Mi"));
  EXPECT_EQ(ParseQuantity("0.1"), ParseQuantity("100m"));
  EXPECT_EQ(ParseQuantity("2e3"), ParseQuantity("2k"));
  EXPECT_NE(ParseQuantity("10Gi"), ParseQuantity("10737418241"));  // one byte more
}

TEST(QuantityTest, RejectsWhatIsNotAQuantity) {
  for (const char* bad : {"", "+", ".", "Mi", "1 Gi", " 1", "1Gi ", "1gi", "1K", "1KiB", "1e",
                          "1e1.5", "1e+", "1.2.3", "0x10", "1Mi1", "--1", "1e99999",
                          "1e9999"}) {
    EXPECT_FALSE(ParseQuantity(bad).has_value()) << bad;
  }
}

TEST(QuantityTest, BytesRoundUpAndRefuseNegativeOrHugeValues) {
  EXPECT_EQ(QuantityBytes("50Mi"), 52428800);
  EXPECT_EQ(QuantityBytes("1000"), 1000);
  EXPECT_EQ(QuantityBytes("100m"), 1);  // as Quantity.Value() rounds
  EXPECT_EQ(QuantityBytes("0"), 0);
  EXPECT_EQ(QuantityBytes("-1"), std::nullopt);
  EXPECT_EQ(QuantityBytes("9Ei"), std::nullopt);
  EXPECT_EQ(QuantityBytes("8Ei"), std::nullopt);  // 9.22e18 > int64
  EXPECT_EQ(QuantityBytes("7Ei"), 8070450532247928832);
  EXPECT_EQ(QuantityBytes("1G"), 1000000000);
  EXPECT_EQ(QuantityBytes("1.5Ki"), 1536);
  EXPECT_EQ(QuantityBytes("junk"), std::nullopt);
  EXPECT_EQ(QuantityBytes("50MB"), std::nullopt);
  EXPECT_EQ(QuantityBytes("-1Mi"), std::nullopt);
  EXPECT_EQ(QuantityBytes("100Ei"), std::nullopt);
}

}  // namespace
}  // namespace kubabase
