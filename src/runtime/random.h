// Random: a seeded, splittable generator (xoshiro256**). One per world or process, split per node.
//
// It is a concrete class rather than a port because the algorithm is the same everywhere; what
// differs is the seed (fixed in the simulator, drawn from the OS once at start-up in binaries).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/time.h"

namespace reliant {

class Random {
 public:
  explicit Random(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, bound); bound > 0.
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi]; lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p (p <= 0: never, p >= 1: always).
  bool chance(double p);
  Duration between(Duration lo, Duration hi);

  // An independent generator derived from this one's next output and `stream`. Splitting in the
  // same order with the same streams always yields the same generators.
  Random split(std::uint64_t stream);
  Random split(const std::string& name);

 private:
  std::array<std::uint64_t, 4> s_;
};

}  // namespace reliant
