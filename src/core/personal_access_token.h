// Personal access tokens: their format ("rlnt_pat_" + 43 base62 characters from 256 random bits)
// and the hash stored in place of the token. The randomness is the caller's: a CSPRNG in the
// binaries, the world's generator in the simulator.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace reliant {

inline constexpr std::string_view kPatPrefix = "rlnt_pat_";
inline constexpr std::size_t kPatRandomBytes = 32;
// The longest name a user may give a token, in bytes.
inline constexpr std::size_t kPatNameBytesMax = 100;

// 32 random bytes as a fixed-width base62 number: the secret part of this project's tokens.
std::string secret_base62(const std::array<std::uint8_t, kPatRandomBytes>& random_bytes);
// The token for 32 random bytes.
std::string format_pat(const std::array<std::uint8_t, kPatRandomBytes>& random_bytes);
// Whether `token` has the shape of a PAT (prefix, length, alphabet) — cheap rejection of junk
// before any database lookup.
bool looks_like_pat(std::string_view token);
// What is stored at rest: hex SHA-256 of the whole token. Tokens carry 256 bits of entropy, so
// a fast hash is enough (no dictionary to attack).
std::string hash_pat(std::string_view token);
// The first characters, safe to show in listings ("rlnt_pat_3fZq…").
std::string pat_display_prefix(std::string_view token);

}  // namespace reliant
