#include "controller/base/quantity.h"

#include <cctype>
#include <cmath>
#include <string>

#include <fmt/format.h>

namespace kubabase {
namespace {

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// A suffix as a power: of ten for the decimal ones, of two for the binary ones.
struct Scale {
  bool binary;
  int power;
};

std::optional<Scale> ScaleOf(std::string_view suffix) {
  struct Entry {
    std::string_view suffix;
    Scale scale;
  };
  static constexpr Entry kSuffixes[] = {
      {"", {false, 0}},   {"n", {false, -9}}, {"u", {false, -6}}, {"m", {false, -3}},
      {"k", {false, 3}},  {"M", {false, 6}},  {"G", {false, 9}},  {"T", {false, 12}},
      {"P", {false, 15}}, {"E", {false, 18}}, {"Ki", {true, 10}}, {"Mi", {true, 20}},
      {"Gi", {true, 30}}, {"Ti", {true, 40}}, {"Pi", {true, 50}}, {"Ei", {true, 60}}};
  for (const Entry& e : kSuffixes) {
    if (e.suffix == suffix) return e.scale;
  }
  // A decimal exponent: e or E, an optional sign, digits ("E" alone is exa, above).
  if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return std::nullopt;
  size_t at = 1;
  if (suffix[at] == '+' || suffix[at] == '-') ++at;
  const size_t digits = suffix.size() - at;
  if (digits == 0 || digits > 4) return std::nullopt;
  for (size_t i = at; i < suffix.size(); ++i) {
    if (!IsDigit(suffix[i])) return std::nullopt;
  }
  return Scale{false, std::stoi(std::string(suffix.substr(1)))};
}

// Length of the leading run of digits of `s` from `pos`.
size_t Digits(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && IsDigit(s[pos + n])) ++n;
  return n;
}

}  // namespace

std::optional<long double> ParseQuantity(std::string_view text) {
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) ++pos;
  const size_t whole = Digits(text, pos);
  pos += whole;
  size_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    fraction = Digits(text, pos + 1);
    pos += 1 + fraction;
  }
  if (whole == 0 && fraction == 0) return std::nullopt;  // "", "+", ".", "Mi"
  std::optional<Scale> scale = ScaleOf(text.substr(pos));
  if (!scale) return std::nullopt;
  // One correctly rounded conversion of the exact decimal value ("500m" is read as "500e-3"),
  // then exact scaling by a power of two: spellings of one value give the same long double.
  std::string number(text.substr(0, pos));
  // fmt, not "e" + std::to_string(): GCC 12 at -O3 warns (-Wrestrict) on that operator+.
  if (!scale->binary) number = fmt::format("{}e{}", number, scale->power);
  long double value = 0;
  try {
    value = std::stold(number);
  } catch (const std::exception&) {
    return std::nullopt;  // out of range
  }
  if (scale->binary) value = std::ldexp(value, scale->power);
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<int64_t> QuantityBytes(std::string_view text) {
  std::optional<long double> value = ParseQuantity(text);
  // 9.2e18 < 2^63: the largest whole value that still fits once rounded up.
  if (!value || *value < 0 || *value > 9.2e18L) return std::nullopt;
  return static_cast<int64_t>(std::ceil(*value));
}

}  // namespace kubabase
