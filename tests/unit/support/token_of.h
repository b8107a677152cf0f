// A well-formed personal access token whose random part is `fill` repeated: distinct tokens for
// the tests' users without a random source.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/personal_access_token.h"

namespace reliant {

inline std::string token_of(std::uint8_t fill) {
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  bytes.fill(fill);
  return format_pat(bytes);
}

}  // namespace reliant
