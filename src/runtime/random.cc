// xoshiro256** seeded through splitmix64 (Blackman & Vigna), with rejection sampling for bounds.
#include "runtime/random.h"

#include "base/assert.h"
#include "base/digest.h"

namespace reliant {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Random::Random(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

std::uint64_t Random::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::uint64_t Random::below(std::uint64_t bound) {
  RELIANT_ASSERT(bound > 0);
  // Reject the top partial range so every value is equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  for (;;) {
    const std::uint64_t x = next();
    if (x < limit) return x % bound;
  }
}

std::int64_t Random::between(std::int64_t lo, std::int64_t hi) {
  RELIANT_ASSERT(lo <= hi);
  const auto span = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(next());
  return lo + static_cast<std::int64_t>(below(span + 1));
}

double Random::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

bool Random::chance(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return unit() < p;
}

Duration Random::between(Duration lo, Duration hi) {
  return Duration(
      between(static_cast<std::int64_t>(lo.count()), static_cast<std::int64_t>(hi.count())));
}

Random Random::split(std::uint64_t stream) {
  std::uint64_t mix = next() ^ (stream * 0xd1342543de82ef95ULL);
  return Random(splitmix64(mix));
}

Random Random::split(const std::string& name) { return split(digest64(name)); }

}  // namespace reliant
