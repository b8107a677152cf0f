// digest64: a fast, stable 64-bit digest of bytes (FNV-1a) for traces and seeds — not for security.
#pragma once

#include <cstdint>
#include <string_view>

namespace reliant {

// The same bytes give the same digest on every run and machine; collisions are unlikely enough
// for telling trace payloads apart, not for anything an adversary controls (use Sha256 there).
// Chain digests of several fields by passing the previous digest as `basis`.
constexpr std::uint64_t kDigestBasis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t digest64(std::string_view bytes, std::uint64_t basis = kDigestBasis) {
  std::uint64_t hash = basis;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace reliant
