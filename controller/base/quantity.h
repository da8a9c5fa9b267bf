// Quantity: a Kubernetes resource quantity (k8s.io/apimachinery resource.Quantity) as text, read
// once here for every use: a spec's size fields, comparing a rendered value with what the
// apiserver returned, and byte limits handed to a service.
//
//   std::optional<long double> v = ParseQuantity("500m");     // 0.5
//   ParseQuantity("1Gi") == ParseQuantity("1024Mi");          // same value, other spelling
//   std::optional<int64_t> bytes = QuantityBytes("50Mi");     // 52428800
//
// Grammar (apimachinery's): an optional sign, a decimal number ("1", "1.5", ".5", "1."), and one
// optional suffix: binary Ki Mi Gi Ti Pi Ei, decimal SI n u m k M G T P E, or a decimal exponent
// e<int> / E<int> ("2e3"). Anything else, including whitespace, is not a quantity. Pure;
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kubabase {

// The value, or nullopt when `text` is not a quantity.
std::optional<long double> ParseQuantity(std::string_view text);

// A non-negative quantity as a whole number of units, rounded up as Quantity.Value() rounds
// ("100m" -> 1); nullopt when `text` is not a quantity, is negative, or exceeds int64.
std::optional<int64_t> QuantityBytes(std::string_view text);

}  // namespace kubabase
