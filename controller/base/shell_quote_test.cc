#include "controller/base/shell_quote.h"

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace kubabase {
namespace {

TEST(ShellQuoteTest, WrapsInSingleQuotesAndEscapesOnlyTheQuoteItself) {
  EXPECT_EQ(ShellQuote(""), "''");
  EXPECT_EQ(ShellQuote("plain"), "'plain'");
  EXPECT_EQ(ShellQuote("a b $HOME `x` \"y\""), "'a b $HOME `x` \"y\"'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
}

TEST(ShellQuoteTest, TheShellReadsBackExactlyTheValue) {
  const std::string value = "it's $(echo no) `no` \"x\" \\ ;|&";
  FILE* shell = ::popen(("printf '%s' " + ShellQuote(value)).c_str(), "r");
  ASSERT_NE(shell, nullptr);
  std::string out;
  char buffer[256];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, shell)) > 0) out.append(buffer, n);
  EXPECT_EQ(::pclose(shell), 0);
  EXPECT_EQ(out, value);
}

}  // namespace
}  // namespace kubabase
