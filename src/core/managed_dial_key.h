// The dial key: what a gateway shows a managed daemon it dials, so that the daemon serves the
// platform's gateways and nobody else who reaches its port (another process on the control
// plane's machine, another pod in the cluster).
//
// Each daemon's key is derived from one secret of the deployment (the store's cluster secret,
// drawn by the first control plane): HMAC-SHA256(secret, "managed-dial/v1/" + daemon id). The
// control plane hands it to the daemon at each start, in the environment (kDialKeyVariable, from
// a Secret on Kubernetes, never on a command line), and to the gateway it asks to dial, in the
// connect command; the gateway sends it in the stream's metadata (kDialKeyMetadata) and the
// daemon compares it in constant time. A key belongs to one daemon: a gateway told a stale
// address where another daemon now listens is refused there rather than serving one user's
// calls on another's daemon.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/secret_source.h"

namespace reliant {

inline constexpr std::string_view kDialKeyVariable = "RELIANT_DIAL_KEY";
inline constexpr std::string_view kDialKeyMetadata = "x-reliant-dial-key";
// The store's name for the secret the keys derive from (cluster_secrets).
inline constexpr std::string_view kDialSecretName = "managed-dial";
inline constexpr std::size_t kDialSecretBytes = 32;

// A new cluster secret's text: base64url of kDialSecretBytes drawn from `secrets`.
std::string draw_dial_secret(SecretSource& secrets);

// The daemon's key: base64url of the HMAC, 43 characters.
std::string managed_dial_key(std::string_view dial_secret, std::string_view daemon_id);

}  // namespace reliant
