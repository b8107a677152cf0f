// SecretSource: random bytes an adversary must not predict — tokens, login codes, salts. The
// real binaries read the OS's CSPRNG; the simulator and tests draw from their seeded Random,
// which is predictable and therefore never used for secrets outside them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/random.h"

namespace reliant {

class SecretSource {
 public:
  virtual ~SecretSource() = default;
  virtual void fill(std::uint8_t* out, std::size_t size) = 0;
};

// For the simulator and tests only (see above).
class SeededSecretSource final : public SecretSource {
 public:
  explicit SeededSecretSource(Random& random) : random_(random) {}
  void fill(std::uint8_t* out, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(random_.next());
  }

 private:
  Random& random_;
};

}  // namespace reliant
