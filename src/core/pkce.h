// PKCE (RFC 7636) with the S256 method: the CLI keeps a random verifier and sends only its
// challenge; whoever trades a login code must show the verifier, so a code seen by another
// program on the machine is useless to it.
#pragma once

#include <string>
#include <string_view>

namespace reliant {

// base64url(SHA-256(verifier)), 43 characters.
std::string pkce_challenge(std::string_view verifier);

// RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~].
bool valid_pkce_verifier(std::string_view verifier);

}  // namespace reliant
