#include "controller/base/time_format.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace kubabase {

std::string Rfc3339(std::chrono::system_clock::time_point time, TimePrecision precision) {
  using std::chrono::duration_cast;
  using std::chrono::floor;
  const auto seconds = floor<std::chrono::seconds>(time);
  // fmt 9 formats a system_clock time_point in local time; gmtime keeps it UTC.
  const std::tm utc = fmt::gmtime(std::chrono::system_clock::to_time_t(seconds));
  switch (precision) {
    case TimePrecision::kSeconds:
      return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", utc);
    case TimePrecision::kMillis:
      return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", utc,
                         duration_cast<std::chrono::milliseconds>(time - seconds).count());
    case TimePrecision::kMicros:
      return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", utc,
                         duration_cast<std::chrono::microseconds>(time - seconds).count());
  }
  return "";
}

}  // namespace kubabase
