// The dial key of a managed daemon (see the header).
#include "core/managed_dial_key.h"

#include <array>

#include "base/base64url.h"
#include "base/hmac.h"

namespace reliant {

std::string draw_dial_secret(SecretSource& secrets) {
  std::array<std::uint8_t, kDialSecretBytes> bytes{};
  secrets.fill(bytes.data(), bytes.size());
  return base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string managed_dial_key(std::string_view dial_secret, std::string_view daemon_id) {
  const Sha256::Digest mac =
      hmac_sha256(dial_secret, std::string("managed-dial/v1/").append(daemon_id));
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
}

}  // namespace reliant
