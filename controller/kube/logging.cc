#include "controller/kube/logging.h"

#include <atomic>
#include <chrono>
#include <ctime>

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "controller/base/time_format.h"

namespace kubabase::kube {
namespace {

// Fields travel from Log() to the formatter through the logging thread: kubabase's logger is
// synchronous, so the formatter runs inside logger->log() on the caller's thread. This keeps plain
// spdlog calls valid in JSON mode (they simply have no fields) without a second logging API.
thread_local const LogFields* tls_context = nullptr;
thread_local const LogFields* tls_fields = nullptr;

// Set once ConfigureLogging installed our formatter; before that (early in main, or in a test that
// never configures logging), Log() folds the fields into the message so they are not lost.
std::atomic<bool> formatter_installed{false};

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void Append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

// 2026-11-28T09:05:43.123Z
void AppendTimestamp(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point tp) {
  Append(dest, Rfc3339(std::chrono::time_point_cast<std::chrono::system_clock::duration>(tp),
                       TimePrecision::kMillis));
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= 0x20 || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendTextValue(spdlog::memory_buf_t& dest, std::string_view value) {
  if (!NeedsQuotes(value)) {
    Append(dest, value);
    return;
  }
  Append(dest, "\"");
  Append(dest, JsonEscape(value));
  Append(dest, "\"");
}

void AppendJsonField(spdlog::memory_buf_t& dest, std::string_view key, std::string_view value) {
  Append(dest, ",\"");
  Append(dest, JsonEscape(key));
  Append(dest, "\":\"");
  Append(dest, JsonEscape(value));
  Append(dest, "\"");
}

class KubabaseFormatter final : public spdlog::formatter {
 public:
  explicit KubabaseFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (format_ == LogFormat::kJson) {
      Append(dest, "{\"ts\":\"");
      AppendTimestamp(dest, msg.time);
      Append(dest, "\",\"level\":\"");
      Append(dest, LevelName(msg.level));
      Append(dest, "\",\"msg\":\"");
      Append(dest, JsonEscape(payload));
      Append(dest, "\"");
      for (const LogFields* fields : {tls_context, tls_fields}) {
        if (fields == nullptr) continue;
        for (const auto& [key, value] : *fields) AppendJsonField(dest, key, value);
      }
      Append(dest, "}\n");
      return;
    }
    AppendTimestamp(dest, msg.time);
    Append(dest, " ");
    const std::string_view level = LevelName(msg.level);
    Append(dest, level);
    for (size_t i = level.size(); i < 5; ++i) Append(dest, " ");  // align messages
    Append(dest, " ");
    // A message is one line: escape control characters so nobody can forge a second record.
    Append(dest, JsonEscape(payload));
    for (const LogFields* fields : {tls_context, tls_fields}) {
      if (fields == nullptr) continue;
      for (const auto& [key, value] : *fields) {
        Append(dest, " ");
        Append(dest, key);
        Append(dest, "=");
        AppendTextValue(dest, value);
      }
    }
    Append(dest, "\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<KubabaseFormatter>(format_);
  }

 private:
  LogFormat format_;
};

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  size_t n = 0;
  uint32_t min = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) { n = 2; min = 0x80; }
  else if ((c & 0xF0) == 0xE0) { n = 3; min = 0x800; }
  else if ((c & 0xF8) == 0xF0) { n = 4; min = 0x10000; }
  else return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;  // overlong, surrogate
  return n;
}

void EmitTo(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
            const LogFields* context, const LogFields& fields) {
  if (!logger.should_log(level)) return;
  if (!formatter_installed.load(std::memory_order_acquire)) {
    std::string line(msg);
    for (const LogFields* f : {context, &fields}) {
      if (f == nullptr) continue;
      for (const auto& [key, value] : *f) line += " " + key + "=" + value;
    }
    logger.log(level, spdlog::string_view_t(line.data(), line.size()));
    return;
  }
  tls_context = context;
  tls_fields = &fields;
  logger.log(level, spdlog::string_view_t(msg.data(), msg.size()));
  tls_context = nullptr;
  tls_fields = nullptr;
}

}  // namespace

std::string JsonEscape(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 8);
  for (size_t i = 0; i < value.size();) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceLength(value, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD: keep the line valid JSON whatever bytes came in
      ++i;
      continue;
    }
    out.append(value.substr(i, n));
    i += n;
  }
  return out;
}

StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view level) {
  if (level == "debug") return spdlog::level::debug;
  if (level == "info") return spdlog::level::info;
  if (level == "warn") return spdlog::level::warn;
  if (level == "error") return spdlog::level::err;
  return InvalidArgumentError("--log-level: \"" + JsonEscape(level) +
                              "\" is not one of debug, info, warn, error");
}

StatusOr<LogFormat> ParseLogFormat(std::string_view format) {
  if (format == "text") return LogFormat::kText;
  if (format == "json") return LogFormat::kJson;
  return InvalidArgumentError("--log-format: \"" + JsonEscape(format) +
                              "\" is not one of text, json");
}

Status ConfigureLogging(const LoggingOptions& options) {
  KUBABASE_ASSIGN_OR_RETURN(const spdlog::level::level_enum level, ParseLogLevel(options.level));
  KUBABASE_ASSIGN_OR_RETURN(const LogFormat format, ParseLogFormat(options.format));
  try {
    spdlog::sink_ptr sink = options.sink;
    if (sink == nullptr) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("kubabase", std::move(sink));
    logger->set_formatter(std::make_unique<KubabaseFormatter>(format));
    logger->set_level(level);
    // Warnings and errors reach the collector at once; chattier lines may sit in the buffer.
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(std::move(logger));
    formatter_installed.store(true, std::memory_order_release);
  } catch (const std::exception& e) {
    return InternalError(std::string("configuring logging: ") + e.what());
  }
  return Status::Ok();
}

void Log(spdlog::level::level_enum level, std::string_view msg, const LogFields& fields) {
  EmitTo(*spdlog::default_logger_raw(), level, msg, nullptr, fields);
}

ScopedLog ScopedLog::With(const LogFields& more) const {
  LogFields context = context_;
  context.insert(context.end(), more.begin(), more.end());
  return ScopedLog(std::move(context));
}

void ScopedLog::Emit(spdlog::level::level_enum level, std::string_view msg,
                     const LogFields& fields) const {
  EmitTo(*spdlog::default_logger_raw(), level, msg, &context_, fields);
}

}  // namespace kubabase::kube
