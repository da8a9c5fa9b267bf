// Cidr: an IPv4 or IPv6 network in the form a NetworkPolicy's ipBlock takes, parsed and checked
// once when the operator reads its flags (--egress-denied-cidrs, --egress-allowed-cidrs), so a
// typo stops the operator at start instead of failing every Project's apply.
//
//   StatusOr<Cidr> c = ParseCidr("169.254.0.0/16");   // c->text "169.254.0.0/16", c->v6 false
//   ParseCidr("10.0.0.1/8");   // InvalidArgument: host bits set, "did you mean 10.0.0.0/8"
//   ParseCidr("FE80::/10");    // ok, c->text "fe80::/10" (the canonical form the apiserver keeps)
//
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "controller/base/status.h"

namespace kubabase::project {

struct Cidr {
  std::string text;  // canonical: lower case, IPv6 zero runs compressed, no host bits
  bool v6 = false;
  int prefix = 0;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "<address>/<prefix>", the address dotted-quad IPv4 (no leading zeros) or IPv6 (RFC 4291 text),
// the prefix 0-32 or 0-128, no bits set past the prefix. Errors: kInvalidArgument saying which
// part is wrong, quoting the input.
StatusOr<Cidr> ParseCidr(const std::string& text);

// A comma-separated list ("" is empty); the first bad entry's error.
StatusOr<std::vector<Cidr>> ParseCidrList(const std::string& text);

}  // namespace kubabase::project
