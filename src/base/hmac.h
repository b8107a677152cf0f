// HMAC (RFC 2104): keys derived from a secret, and signatures a peer checks — SHA-256, and the
// SHA-1 and SHA-512 some webhook senders sign with.
#pragma once

#include <string>
#include <string_view>

#include "base/sha256.h"

namespace reliant {

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message);

enum class HmacHash { sha1, sha256, sha512 };
// The raw MAC bytes (20, 32 or 64 of them).
std::string hmac_bytes(HmacHash hash, std::string_view key, std::string_view message);

}  // namespace reliant
