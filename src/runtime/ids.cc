// ULID-style id generation: monotonic within a millisecond, sortable as strings.
#include "runtime/ids.h"

#include <algorithm>

namespace reliant {
namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}

std::string IdGenerator::next() {
  const auto ms_signed = to_ms(clock_.now());
  const std::uint64_t ms = ms_signed < 0 ? 0 : static_cast<std::uint64_t>(ms_signed);
  if (ms > last_ms_ || (last_hi_ == 0 && last_lo_ == 0)) {
    last_ms_ = std::max(ms, last_ms_);
    last_hi_ = random_.next() & 0xffff;
    last_lo_ = random_.next();
  } else {
    // Same (or earlier: clocks may step back) millisecond: stay monotonic by incrementing.
    if (++last_lo_ == 0) last_hi_ = (last_hi_ + 1) & 0xffff;
  }
  // 128 bits: 48 time | 16 hi | 64 lo, written as 26 base32 digits (130 bits, top 2 zero).
  std::string out(26, '0');
  std::uint64_t high = ((last_ms_ & 0xffffffffffffULL) << 16) | last_hi_;
  std::uint64_t low = last_lo_;
  for (int i = 25; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = kAlphabet[low & 31];
    low = (low >> 5) | (high << 59);  // shift the 128-bit value right by 5
    high >>= 5;
  }
  return out;
}

bool is_valid_id(const std::string& id) {
  if (id.size() != 26 || id[0] > '7') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::find(std::begin(kAlphabet), std::end(kAlphabet) - 1, c) != std::end(kAlphabet) - 1;
  });
}

}  // namespace reliant
