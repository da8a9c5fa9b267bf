// Base64: standard (RFC 4648 section 4, padded) and URL-safe (section 5, unpadded, as JWS uses it)
// encodings, on OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.
//
//   std::string data = Base64Encode("secret");             // "c2VjcmV0" (a Secret's data value)
//   StatusOr<std::string> raw = Base64Decode(data);        // "secret"
//   std::string part = Base64UrlEncode(claims.dump());     // a JWT segment, no '=' padding
//
// Decoding is strict, so that one value has one encoding: the standard form needs padding to a
// multiple of four, the URL form must have none; characters of the other alphabet, whitespace,
// and non-zero leftover bits are rejected with InvalidArgument (the message never repeats the
// input, which may be a secret). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "controller/base/status.h"

namespace kubabase {

std::string Base64Encode(std::string_view bytes);
StatusOr<std::string> Base64Decode(std::string_view text);

std::string Base64UrlEncode(std::string_view bytes);
StatusOr<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kubabase
