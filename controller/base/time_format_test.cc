#include "controller/base/time_format.h"

#include <gtest/gtest.h>

namespace kubabase {
namespace {

using std::chrono::system_clock;

// 2026-11-28T09:05:43Z plus 123456 microseconds.
system_clock::time_point Sample() {
  return system_clock::time_point{} + std::chrono::seconds(1795856743) +
         std::chrono::microseconds(123456);
}

TEST(TimeFormatTest, SecondsAreMetav1TimeInUtc) {
  EXPECT_EQ(Rfc3339(Sample()), "2026-11-28T09:05:43Z");
  EXPECT_EQ(Rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
}

TEST(TimeFormatTest, SubSecondPrecisionsTruncate) {
  EXPECT_EQ(Rfc3339(Sample(), TimePrecision::kMillis), "2026-11-28T09:05:43.123Z");
  EXPECT_EQ(Rfc3339(Sample(), TimePrecision::kMicros), "2026-11-28T09:05:43.123456Z");
  EXPECT_EQ(Rfc3339(Sample() + std::chrono::microseconds(876543), TimePrecision::kSeconds),
            "2026-11-28T09:05:43Z");
}

TEST(TimeFormatTest, IsUtcWhateverTheLocalZone) {
  setenv("TZ", "America/Los_Angeles", 1);
  tzset();
  EXPECT_EQ(Rfc3339(Sample()), "2026-11-28T09:05:43Z");
  unsetenv("TZ");
  tzset();
}

}  // namespace
}  // namespace kubabase
