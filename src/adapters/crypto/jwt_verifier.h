// JwtVerifier: JSON Web Tokens signed with the identity provider's key (RS256 or ES256), checked
// against its public key PEM: signature, expiry (`exp`, required), `nbf`, and audience.
#pragma once

#include <memory>
#include <string>

#include "runtime/bearer_verifier.h"

namespace reliant {

struct JwtOptions {
  std::string public_key_pem;       // an RSA or EC (P-256) public key, PEM
  std::string audience;             // empty: not checked
  std::int64_t leeway_ms = 30'000;  // clock skew tolerated on exp and nbf
};

class JwtVerifier final : public BearerVerifier {
 public:
  // Fails with invalid_argument when the PEM is not an RSA or P-256 public key.
  static Result<std::unique_ptr<JwtVerifier>> create(JwtOptions options);
  ~JwtVerifier() override;

  Result<VerifiedIdentity> verify(std::string_view token, std::int64_t now_ms) const override;

 private:
  struct Key;
  JwtVerifier(std::unique_ptr<Key> key, JwtOptions options);
  std::unique_ptr<Key> key_;
  JwtOptions options_;
};

}  // namespace reliant
