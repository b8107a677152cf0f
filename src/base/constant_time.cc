// Constant-time equality: accumulate differences instead of returning at the first one.
#include "base/constant_time.h"

#include <algorithm>

namespace reliant {

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  // volatile keeps the compiler from turning the loop back into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

}  // namespace reliant
