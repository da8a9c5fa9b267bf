// Logging: the process's spdlog setup (--log-level, --log-format) and key=value helpers.
//
//   KUBABASE_RETURN_IF_ERROR(ConfigureLogging({.level = "info", .format = "json"}));
//   LogInfo("reconciled", {{"key", "shop/web"}, {"duration_ms", "12"}});
//   // json: {"ts":"2026-11-28T09:05:43.123Z","level":"info","msg":"reconciled","key":"shop/web","duration_ms":"12"}
//   // text: 2026-11-28T09:05:43.123Z info  reconciled key=shop/web duration_ms=12
//
//   ScopedLog log(LogFields{{"controller", "project"}, {"key", key}});   // fields carried by every line
//   log.Warn("apply failed", {{"error", status.ToString()}});
//
// Every line is one record: in JSON mode one object per line, with "ts" (UTC, milliseconds),
// "level", "msg", then the fields in the order given; strings are JSON-escaped, so a value can
// never break the line or forge a field. Text mode quotes a value that holds a space, a quote, '='
// or a control character. Plain spdlog calls (spdlog::info("...")) made anywhere in the process
// also come out in the configured format, without fields.
//
// Never log a secret value: callers pass names and keys, not Secret data, tokens or passwords.
//
// Thread-safety: ConfigureLogging replaces the default logger and should run once, early in main,
// before other threads log. The Log* helpers and ScopedLog are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/common.h>
#include <spdlog/sinks/sink.h>

#include "controller/base/status.h"

namespace kubabase::kube {

// Ordered key=value pairs attached to one log line.
using LogFields = std::vector<std::pair<std::string, std::string>>;

enum class LogFormat { kText, kJson };

struct LoggingOptions {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "text";  // text | json
  // Where lines go; null: stderr (what a container runtime collects). Tests pass an ostream sink.
  spdlog::sink_ptr sink;
};

// Parses --log-level. Errors: kInvalidArgument naming the accepted values.
StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view level);
// Parses --log-format. Errors: kInvalidArgument naming the accepted values.
StatusOr<LogFormat> ParseLogFormat(std::string_view format);

// Installs a logger named "kubabase" as spdlog's default logger with the given level and format.
// Errors: kInvalidArgument for an unknown level or format (the previous logger stays in place).
Status ConfigureLogging(const LoggingOptions& options);

// One line at `level` with `fields`, through spdlog's default logger.
void Log(spdlog::level::level_enum level, std::string_view msg, const LogFields& fields = {});
inline void LogDebug(std::string_view msg, const LogFields& fields = {}) {
  Log(spdlog::level::debug, msg, fields);
}
inline void LogInfo(std::string_view msg, const LogFields& fields = {}) {
  Log(spdlog::level::info, msg, fields);
}
inline void LogWarn(std::string_view msg, const LogFields& fields = {}) {
  Log(spdlog::level::warn, msg, fields);
}
inline void LogError(std::string_view msg, const LogFields& fields = {}) {
  Log(spdlog::level::err, msg, fields);
}

// Fields that every line logged through it carries first (e.g. the controller and object key),
// so a reconcile's lines can be found together. A cheap value; copy it to add more context.
class ScopedLog {
 public:
  explicit ScopedLog(LogFields context) : context_(std::move(context)) {}

  // A copy with `more` appended to the context.
  ScopedLog With(const LogFields& more) const;

  void Debug(std::string_view msg, const LogFields& fields = {}) const {
    Emit(spdlog::level::debug, msg, fields);
  }
  void Info(std::string_view msg, const LogFields& fields = {}) const {
    Emit(spdlog::level::info, msg, fields);
  }
  void Warn(std::string_view msg, const LogFields& fields = {}) const {
    Emit(spdlog::level::warn, msg, fields);
  }
  void Error(std::string_view msg, const LogFields& fields = {}) const {
    Emit(spdlog::level::err, msg, fields);
  }

  const LogFields& context() const { return context_; }

 private:
  void Emit(spdlog::level::level_enum level, std::string_view msg, const LogFields& fields) const;

  LogFields context_;
};

// `value` as the body of a JSON string (without the quotes): ", \ and control characters escaped,
// invalid UTF-8 bytes replaced by U+FFFD so the line stays valid JSON.
std::string JsonEscape(std::string_view value);

}  // namespace kubabase::kube
