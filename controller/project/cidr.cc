#include "controller/project/cidr.h"

#include <arpa/inet.h>

#include <array>
#include <regex>

#include <fmt/format.h>

namespace kubabase::project {

StatusOr<Cidr> ParseCidr(const std::string& text) {
  const size_t slash = text.find('/');
  if (slash == std::string::npos) {
    return InvalidArgumentError(
        fmt::format("\"{}\" is not a CIDR: it needs a /prefix, such as 10.0.0.0/8", text));
  }
  const std::string address = text.substr(0, slash);
  const std::string prefix_text = text.substr(slash + 1);
  Cidr cidr;
  cidr.v6 = address.find(':') != std::string::npos;
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(cidr.v6 ? AF_INET6 : AF_INET, address.c_str(), bytes.data()) != 1) {
    return InvalidArgumentError(fmt::format("\"{}\" is not a CIDR: \"{}\" is not an IPv{} address",
                                            text, address, cidr.v6 ? 6 : 4));
  }
  const int max_prefix = cidr.v6 ? 128 : 32;
  static const std::regex digits("^(0|[1-9][0-9]{0,2})$");
  if (!std::regex_match(prefix_text, digits) || std::stoi(prefix_text) > max_prefix) {
    return InvalidArgumentError(fmt::format(
        "\"{}\" is not a CIDR: the prefix must be a number from 0 to {}", text, max_prefix));
  }
  cidr.prefix = std::stoi(prefix_text);
  std::array<unsigned char, 16> network = bytes;
  for (int bit = cidr.prefix; bit < max_prefix; ++bit) {
    network[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  }
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(cidr.v6 ? AF_INET6 : AF_INET, network.data(), buffer, sizeof buffer);
  cidr.text = fmt::format("{}/{}", buffer, cidr.prefix);
  if (network != bytes) {
    return InvalidArgumentError(fmt::format(
        "\"{}\" is not a network: it has bits set past the /{} prefix (did you mean {}?)", text,
        cidr.prefix, cidr.text));
  }
  return cidr;
}

StatusOr<std::vector<Cidr>> ParseCidrList(const std::string& text) {
  std::vector<Cidr> out;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) {
      KUBABASE_ASSIGN_OR_RETURN(Cidr cidr, ParseCidr(text.substr(start, end - start)));
      out.push_back(std::move(cidr));
    }
    start = end + 1;
  }
  return out;
}

}  // namespace kubabase::project
