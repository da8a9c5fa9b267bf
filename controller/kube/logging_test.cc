#include "controller/kube/logging.h"

#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace kubabase::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class LoggingTest : public ::testing::Test {
 protected:
  void Configure(const std::string& level, const std::string& format) {
    out_.str("");
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    ASSERT_TRUE(ConfigureLogging({.level = level, .format = format, .sink = sink}).ok());
  }

  std::vector<std::string> Lines() {
    spdlog::default_logger_raw()->flush();
    std::vector<std::string> lines;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  std::ostringstream out_;
};

TEST_F(LoggingTest, JsonLinesCarryTimestampLevelMessageAndFieldsInOrder) {
  Configure("info", "json");
  LogInfo("reconciled", {{"key", "shop/web"}, {"duration_ms", "12"}});

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto record = nlohmann::ordered_json::parse(lines[0]);
  EXPECT_EQ(record["level"], "info");
  EXPECT_EQ(record["msg"], "reconciled");
  EXPECT_EQ(record["key"], "shop/web");
  EXPECT_EQ(record["duration_ms"], "12");
  EXPECT_THAT(record["ts"].get<std::string>(),
              MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"));
  std::vector<std::string> keys;
  for (const auto& [key, value] : record.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"ts", "level", "msg", "key", "duration_ms"}));
}

TEST_F(LoggingTest, JsonEscapesValuesSoNoFieldCanBeForgedOrTheLineBroken) {
  Configure("info", "json");
  LogWarn("bad \"input\"\nsecond line", {{"key", "a\",\"level\":\"error"}, {"raw", "\x01\xff tail"}});

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u) << out_.str();
  const auto record = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(record["level"], "warn");
  EXPECT_EQ(record["msg"], "bad \"input\"\nsecond line");
  EXPECT_EQ(record["key"], "a\",\"level\":\"error");
  EXPECT_EQ(record["raw"], "\x01\xEF\xBF\xBD tail");  // invalid UTF-8 becomes U+FFFD
}

TEST_F(LoggingTest, PlainSpdlogCallsAlsoComeOutAsJson) {
  Configure("debug", "json");
  spdlog::debug("from a library {}", 42);

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto record = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(record["level"], "debug");
  EXPECT_EQ(record["msg"], "from a library 42");
}

TEST_F(LoggingTest, TextLinesAppendKeyValueFieldsAndQuoteValuesWithSpaces) {
  Configure("info", "text");
  LogError("apply failed", {{"key", "shop/web"}, {"error", "Conflict: the object was modified"}});

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], MatchesRegex("[0-9T:.-]+Z error apply failed key=shop/web "
                                     "error=\"Conflict: the object was modified\""));
}

TEST_F(LoggingTest, TextModeKeepsAMessageWithANewlineOnOneLine) {
  Configure("info", "text");
  LogInfo("one\nforged 2026-01-01T00:00:00.000Z error x");
  EXPECT_EQ(Lines().size(), 1u);
}

TEST_F(LoggingTest, LinesBelowTheConfiguredLevelAreDropped) {
  Configure("warn", "json");
  LogDebug("chatty");
  LogInfo("routine");
  LogWarn("worth a look");
  LogError("broken");

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("worth a look"));
  EXPECT_THAT(lines[1], HasSubstr("broken"));
}

TEST_F(LoggingTest, ScopedLogPutsItsContextBeforeEachLinesOwnFields) {
  Configure("info", "json");
  ScopedLog log(LogFields{{"controller", "things"}});
  ScopedLog for_key = log.With({{"key", "ns/a"}});
  for_key.Info("step", {{"step", "apply"}});
  log.Info("idle");

  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (const auto& [key, value] : first.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"ts", "level", "msg", "controller", "key", "step"}));
  const auto second = nlohmann::json::parse(lines[1]);
  EXPECT_FALSE(second.contains("key"));
  EXPECT_EQ(second["controller"], "things");
}

TEST_F(LoggingTest, AnUnknownLevelOrFormatIsRejectedAndTheLoggerKept) {
  Configure("info", "json");
  const Status bad_level = ConfigureLogging({.level = "verbose", .format = "json", .sink = nullptr});
  EXPECT_EQ(bad_level.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_level.message(), HasSubstr("debug, info, warn, error"));
  const Status bad_format = ConfigureLogging({.level = "info", .format = "logfmt", .sink = nullptr});
  EXPECT_EQ(bad_format.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_format.message(), HasSubstr("text, json"));

  LogInfo("still here");
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], Not(HasSubstr("verbose")));
  EXPECT_EQ(nlohmann::json::parse(lines[0])["msg"], "still here");
}

TEST(JsonEscapeTest, EscapesQuotesBackslashesAndControlCharactersAndKeepsUtf8) {
  EXPECT_EQ(JsonEscape("a\"b\\c\td\x7f"), "a\\\"b\\\\c\\td\\u007f");
  EXPECT_EQ(JsonEscape("caf\xC3\xA9 \xE2\x9C\x93"), "caf\xC3\xA9 \xE2\x9C\x93");
  EXPECT_EQ(JsonEscape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
}

}  // namespace
}  // namespace kubabase::kube
