// Users and their personal access tokens: the repository the admin CLI, the api server and the
// gateway's PAT validation share. Functions run inside a Store transaction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/personal_access_token.h"
#include "runtime/store.h"

namespace reliant {

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::int64_t created_at_ms = 0;
};

struct PersonalAccessToken {
  std::string id;
  std::string user_id;
  std::string name;
  std::string display_prefix;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> last_used_at_ms;
  std::optional<std::int64_t> revoked_at_ms;
  std::optional<std::int64_t> expires_at_ms;  // none: never expires
};

// Fails with `already_exists` when the email is taken, `invalid_argument` for a malformed email.
Result<void> insert_user(SqlTransaction& tx, const User& user);
// A user the identity provider's JWTs with subject `user.id` sign in as (users.jwt_subject); a
// user with this id already there is no error: whether this call inserted it. The first requests
// of a new JWT user may race. A taken email still fails with `already_exists`.
Result<bool> insert_jwt_user_unless_present(SqlTransaction& tx, const User& user);
// The user JWTs with this subject sign in as, if any: only users made that way (or from before
// migration 13, without a password) have one.
Result<std::optional<User>> find_jwt_user(SqlTransaction& tx, const std::string& subject);
Result<std::optional<User>> find_user(SqlTransaction& tx, const std::string& id);
Result<std::optional<User>> find_user_by_email(SqlTransaction& tx, const std::string& email);
// "ID or EMAIL" as the admin CLI accepts it.
Result<std::optional<User>> find_user_by_id_or_email(SqlTransaction& tx, const std::string& key);
Result<std::vector<User>> list_users(SqlTransaction& tx);

// Stores the token's metadata and hash (never the token). The token itself is shown once by
// the caller and cannot be recovered.
Result<void> insert_token(SqlTransaction& tx, const PersonalAccessToken& token,
                          const std::string& token_hash);
Result<std::vector<PersonalAccessToken>> list_tokens(SqlTransaction& tx,
                                                     const std::optional<std::string>& user_id);
// Fails with `not_found` for an unknown id; revoking twice keeps the first revocation time.
// With `owner`, only that user's token: another user's is `not_found` too, so ids of others'
// tokens are never confirmed.
Result<void> revoke_token(SqlTransaction& tx, const std::string& token_id, std::int64_t now_ms,
                          const std::optional<std::string>& owner = std::nullopt);

// A token made for `user_id` from 32 secret random bytes: what is stored, and the token itself
// (shown once). `expires_at_ms` none: never expires.
struct NewToken {
  PersonalAccessToken meta;
  std::string token;
};
NewToken make_token(const std::array<std::uint8_t, kPatRandomBytes>& secret, std::string id,
                    std::string user_id, std::string name, std::int64_t now_ms,
                    std::optional<std::int64_t> expires_at_ms = std::nullopt);
// insert_token with the new token's hash.
Result<void> insert_new_token(SqlTransaction& tx, const NewToken& token);

// Passwords: stored only as the PasswordHasher's string. Fails with not_found for an unknown
// user.
Result<void> set_password_hash(SqlTransaction& tx, const std::string& user_id,
                               const std::string& password_hash);
struct PasswordRecord {
  User user;
  std::optional<std::string> password_hash;  // none: the user has no password
};
// nullopt when no user has this email.
Result<std::optional<PasswordRecord>> find_password(SqlTransaction& tx, const std::string& email);

struct Authenticated {
  User user;
  std::string token_id;
  std::optional<std::int64_t> expires_at_ms;  // none: the token never expires
};
// How precisely a token's last use is recorded.
inline constexpr std::int64_t kTokenUseResolutionMs = 60'000;
// Checks a presented token: well-formed, known (hash compared in constant time), not revoked.
// Records the last-used time (to kTokenUseResolutionMs). Fails with `unauthenticated` otherwise —
// the same error for every reason, so a caller learns nothing about which tokens exist.
Result<Authenticated> authenticate_token(SqlTransaction& tx, const std::string& token,
                                         std::int64_t now_ms);
// The ids among `token_ids` whose tokens still authenticate at `now_ms`: they exist, are not
// revoked and have not expired. What holders of long-lived connections re-check, for all their
// connections together: on Postgres one round trip for all the ids.
Result<std::set<std::string>> active_tokens(SqlTransaction& tx,
                                            const std::set<std::string>& token_ids,
                                            std::int64_t now_ms);

}  // namespace reliant
