// BearerVerifier: checks a bearer token issued by someone else (a JWT from the identity
// provider, --jwt-public-key of spec S1.5) and says whose it is. The api component asks it; the
// crypto lives in an adapter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant {

struct VerifiedIdentity {
  std::string subject;                        // the provider's user id ("sub")
  std::string email;                          // when the token carries one
  std::optional<std::int64_t> expires_at_ms;  // "exp", when the token has one
};

class BearerVerifier {
 public:
  virtual ~BearerVerifier() = default;
  // Fails with `unauthenticated` and the reason (malformed, bad signature, expired, not yet
  // valid, wrong audience, no subject).
  virtual Result<VerifiedIdentity> verify(std::string_view token, std::int64_t now_ms) const = 0;
};

}  // namespace reliant
