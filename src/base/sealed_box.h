// Secrets kept at rest (a user's provider API keys): AES-256-GCM under a server key that lives
// outside the database, bound to what they belong to (the associated data: a user and a
// provider), so a sealed value copied onto another row does not open. A sealed value is
// nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes); each seal takes a fresh random nonce.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant {

inline constexpr std::size_t kSealKeyBytes = 32;
inline constexpr std::size_t kSealNonceBytes = 12;
inline constexpr std::size_t kSealTagBytes = 16;

struct SealKey {
  std::array<std::uint8_t, kSealKeyBytes> bytes{};
  // The first 8 bytes of the key's SHA-256, hex: stored beside what it sealed, so a value sealed
  // under another key is named as such instead of failing as tampered.
  std::string fingerprint() const;
};

// `nonce` must be fresh random bytes for every seal under one key.
std::string seal(const SealKey& key, const std::array<std::uint8_t, kSealNonceBytes>& nonce,
                 std::string_view plaintext, std::string_view associated_data);
// The plaintext, or `permission_denied` when the value was altered, sealed under another key or
// for other associated data.
Result<std::string> open_sealed(const SealKey& key, std::string_view sealed,
                                std::string_view associated_data);

}  // namespace reliant
