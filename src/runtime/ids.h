// Sortable unique ids (ULID layout): 48-bit millisecond time + 80 random bits, Crockford base32.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/executor.h"
#include "runtime/random.h"

namespace reliant {

class IdGenerator {
 public:
  // Time comes from `clock`, randomness from `random`: both injected, so ids are reproducible
  // in the simulator.
  IdGenerator(const Executor& clock, Random random) : clock_(clock), random_(random) {}

  // 26 characters. Ids made later sort after ids made earlier by the same generator, even
  // within one millisecond (the random part is incremented instead of redrawn).
  std::string next();

 private:
  const Executor& clock_;
  Random random_;
  std::uint64_t last_ms_ = 0;
  std::uint64_t last_hi_ = 0;  // top 16 of the 80 random bits
  std::uint64_t last_lo_ = 0;  // low 64 bits
};

// True when `id` has the ULID shape (26 Crockford base32 characters, first one 0–7).
bool is_valid_id(const std::string& id);

}  // namespace reliant
