// Randomness for secrets and seeds in the real binaries, from the operating system's CSPRNG.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/secret_source.h"

namespace reliant {

// Fills `out` with cryptographically secure random bytes; aborts if the OS cannot provide them
// (no secret may ever be made from weak randomness).
void secure_random_bytes(std::uint8_t* out, std::size_t size);
std::uint64_t secure_random_u64();

// The SecretSource port on the same generator.
class OsSecretSource final : public SecretSource {
 public:
  void fill(std::uint8_t* out, std::size_t size) override { secure_random_bytes(out, size); }
};

}  // namespace reliant
