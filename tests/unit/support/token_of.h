// Test users and their tokens without a random source: a well-formed personal access token whose
// random part is `fill` repeated, and a user stored with such a token.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/personal_access_token.h"
#include "services/storage/accounts.h"

namespace reliant {

inline std::string token_of(std::uint8_t fill) {
  std::array<std::uint8_t, kPatRandomBytes> bytes{};
  bytes.fill(fill);
  return format_pat(bytes);
}

// Stores the user user-NAME (NAME@example.com) and its token `token` (tok-NAME).
inline Result<void> insert_user_with_token(SqlTransaction& tx, const std::string& name,
                                           const std::string& token) {
  const std::string id = "user-" + name;
  if (auto ok = insert_user(tx, User{id, name + "@example.com", name, 0}); !ok) return ok;
  PersonalAccessToken meta{"tok-" + name, id, "", pat_display_prefix(token), 0, {}, {}, {}};
  return insert_token(tx, meta, hash_pat(token));
}

}  // namespace reliant
