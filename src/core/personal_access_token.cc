// PAT encoding: the 256-bit number written in base62, fixed width.
#include "core/personal_access_token.h"

#include <algorithm>

#include "base/sha256.h"

namespace reliant {
namespace {
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::size_t kEncodedChars = 43;  // ceil(256 / log2(62))
}  // namespace

std::string secret_base62(const std::array<std::uint8_t, kPatRandomBytes>& random_bytes) {
  // Repeated division of the big-endian number by 62.
  std::array<std::uint8_t, kPatRandomBytes> number = random_bytes;
  std::string digits;
  digits.reserve(kEncodedChars);
  for (std::size_t i = 0; i < kEncodedChars; ++i) {
    unsigned remainder = 0;
    for (auto& byte : number) {
      const unsigned value = (remainder << 8) | byte;
      byte = static_cast<std::uint8_t>(value / 62);
      remainder = value % 62;
    }
    digits.push_back(kBase62[remainder]);
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string format_pat(const std::array<std::uint8_t, kPatRandomBytes>& random_bytes) {
  return std::string(kPatPrefix) + secret_base62(random_bytes);
}

bool looks_like_pat(std::string_view token) {
  if (token.size() != kPatPrefix.size() + kEncodedChars ||
      token.substr(0, kPatPrefix.size()) != kPatPrefix) {
    return false;
  }
  const auto body = token.substr(kPatPrefix.size());
  return std::all_of(body.begin(), body.end(),
                     [](char c) { return kBase62.find(c) != std::string_view::npos; });
}

std::string hash_pat(std::string_view token) { return to_hex(Sha256::of(token)); }

std::string pat_display_prefix(std::string_view token) {
  return std::string(token.substr(0, std::min<std::size_t>(token.size(), kPatPrefix.size() + 4)));
}

}  // namespace reliant
