// One-time codes of the CLI's browser sign-in (`reliant auth login`, `daemon register`): the
// browser gets a code after the user signs in and hands it to the CLI's loopback listener; the
// CLI trades it, with its PKCE verifier, for a token. Only a hash of each code is stored.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

struct LoginCode {
  std::string code_hash;       // hex SHA-256 of the code
  std::string user_id;         // who signed in
  std::string redirect_uri;    // where the code was sent: the exchange must name the same
  std::string code_challenge;  // base64url SHA-256 of the CLI's verifier (PKCE S256)
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

// Also forgets codes that expired long ago, so the table stays small.
Result<void> insert_login_code(SqlTransaction& tx, const LoginCode& code);

// Marks the code used and returns it. Fails with unauthenticated — the same error whether the
// code is unknown, used or expired — so a caller learns nothing from trying codes.
Result<LoginCode> redeem_login_code(SqlTransaction& tx, const std::string& code_hash,
                                    std::int64_t now_ms);

}  // namespace reliant
