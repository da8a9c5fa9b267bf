// Time as the Kubernetes API writes it: RFC 3339 in UTC, formatted with fmt.
//
//   Rfc3339(now)                          // "2026-11-28T09:00:00Z"        metav1.Time
//   Rfc3339(now, TimePrecision::kMicros)  // "2026-11-28T09:00:00.123456Z" metav1.MicroTime
//   Rfc3339(now, TimePrecision::kMillis)  // "2026-11-28T09:00:00.123Z"    log lines
//
// Sub-second parts are truncated, never rounded up into the next second. Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>

namespace kubabase {

enum class TimePrecision { kSeconds, kMillis, kMicros };

std::string Rfc3339(std::chrono::system_clock::time_point time,
                    TimePrecision precision = TimePrecision::kSeconds);

}  // namespace kubabase
