// OpenSSL's RAND_bytes, seeded by the OS.
#include "app/secure_random.h"

#include <openssl/rand.h>

#include "base/assert.h"

namespace reliant {

void secure_random_bytes(std::uint8_t* out, std::size_t size) {
  RELIANT_ASSERT_MSG(RAND_bytes(out, static_cast<int>(size)) == 1,
                     "the OS random generator failed");
}

std::uint64_t secure_random_u64() {
  std::uint8_t bytes[8];
  secure_random_bytes(bytes, sizeof bytes);
  std::uint64_t value = 0;
  for (auto b : bytes) value = (value << 8) | b;
  return value;
}

}  // namespace reliant
