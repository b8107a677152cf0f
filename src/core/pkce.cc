// PKCE S256 on the project's SHA-256.
#include "core/pkce.h"

#include "base/base64url.h"
#include "base/sha256.h"

namespace reliant {

std::string pkce_challenge(std::string_view verifier) {
  const auto digest = Sha256::of(verifier);
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

bool valid_pkce_verifier(std::string_view verifier) {
  if (verifier.size() < 43 || verifier.size() > 128) return false;
  for (const char c : verifier) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~';
    if (!ok) return false;
  }
  return true;
}

}  // namespace reliant
