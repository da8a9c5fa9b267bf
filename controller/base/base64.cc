#include "controller/base/base64.h"

#include <openssl/evp.h>

#include <algorithm>

namespace kubabase {
namespace {

constexpr std::string_view kStdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// `text` is padded standard base64 of the right length; true when every character is in the
// alphabet, '=' appears only as the last one or two, and the bits padding drops are zero
// (EVP_DecodeBlock does not check that, so "QR==" and "QQ==" would both decode to "A").
bool Canonical(std::string_view text) {
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::string_view body = text.substr(0, text.size() - padding);
  if (body.find_first_not_of(kStdAlphabet) != std::string_view::npos) return false;
  if (padding == 0 || body.empty()) return true;
  const size_t last = kStdAlphabet.find(body.back());
  return padding == 2 ? (last & 0x0f) == 0 : (last & 0x03) == 0;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(std::max(written, 0)));
  return out;
}

StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0 || !Canonical(text)) return InvalidArgumentError("not padded base64");
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(text.data()),
                                      static_cast<int>(text.size()));
  if (written < 0) return InvalidArgumentError("not padded base64");
  // EVP_DecodeBlock counts the zero bytes that padding stands for; drop them.
  const size_t padding = static_cast<size_t>(std::count(text.end() - 2, text.end(), '='));
  out.resize(static_cast<size_t>(written) - padding);
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out = Base64Encode(bytes);
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

StatusOr<std::string> Base64UrlDecode(std::string_view text) {
  if (text.find_first_of("+/=") != std::string_view::npos || text.size() % 4 == 1) {
    return InvalidArgumentError("not unpadded base64url");
  }
  std::string standard(text);
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  standard.append((4 - standard.size() % 4) % 4, '=');
  StatusOr<std::string> out = Base64Decode(standard);
  if (!out.ok()) return InvalidArgumentError("not unpadded base64url");
  return out;
}

}  // namespace kubabase
