// HMAC-SHA256 (RFC 2104): keys derived from a secret, and signatures a peer checks.
#pragma once

#include <string_view>

#include "base/sha256.h"

namespace reliant {

Sha256::Digest hmac_sha256(std::string_view key, std::string_view message);

}  // namespace reliant
