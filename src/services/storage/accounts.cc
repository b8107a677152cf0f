// Users and tokens over SQL. Every statement is portable across SQLite and Postgres.
#include "services/storage/accounts.h"

#include "base/constant_time.h"
#include "core/personal_access_token.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kUserColumns = "id, email, name, created_at_ms";
constexpr const char* kTokenColumns =
    "id, user_id, name, display_prefix, created_at_ms, last_used_at_ms, revoked_at_ms, "
    "expires_at_ms";

User user_from(const SqlRecord& row) {
  return User{row.text("id"), row.text("email"), row.text("name"), row.integer("created_at_ms")};
}

PersonalAccessToken token_from(const SqlRecord& row) {
  return PersonalAccessToken{row.text("id"),
                             row.text("user_id"),
                             row.text("name"),
                             row.text("display_prefix"),
                             row.integer("created_at_ms"),
                             row.optional_integer("last_used_at_ms"),
                             row.optional_integer("revoked_at_ms"),
                             row.optional_integer("expires_at_ms")};
}

Result<std::optional<User>> one_user(SqlTransaction& tx, const std::string& where,
                                     const std::string& value) {
  auto rows = tx.query(
      std::string("SELECT ") + kUserColumns + " FROM users WHERE " + where + " = $1", {value});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<User>();
  return std::optional<User>(user_from(first_record(*rows)));
}

bool plausible_email(const std::string& email) {
  const auto at = email.find('@');
  return at != std::string::npos && at > 0 && at + 1 < email.size() &&
         email.find('@', at + 1) == std::string::npos &&
         email.find_first_of(" \t\r\n") == std::string::npos && email.size() <= 320;
}

}  // namespace

Result<void> insert_user(SqlTransaction& tx, const User& user) {
  if (!plausible_email(user.email)) {
    return fail(ErrorCode::invalid_argument, "'" + user.email + "' is not an email address");
  }
  auto inserted =
      tx.execute("INSERT INTO users (id, email, name, created_at_ms) VALUES ($1, $2, $3, $4)",
                 {user.id, user.email, user.name, user.created_at_ms});
  if (!inserted) {
    if (inserted.error().code == ErrorCode::already_exists) {
      return fail(ErrorCode::already_exists, "a user with email " + user.email + " already exists");
    }
    return fail(inserted.error());
  }
  return {};
}

Result<bool> insert_jwt_user_unless_present(SqlTransaction& tx, const User& user) {
  if (!plausible_email(user.email)) {
    return fail(ErrorCode::invalid_argument, "'" + user.email + "' is not an email address");
  }
  // ON CONFLICT on the id only: a statement that failed on it would end a Postgres
  // transaction, while a taken email must still fail.
  auto inserted = tx.execute(
      "INSERT INTO users (id, email, name, created_at_ms, jwt_subject) "
      "VALUES ($1, $2, $3, $4, $1) ON CONFLICT (id) DO NOTHING",
      {user.id, user.email, user.name, user.created_at_ms});
  if (!inserted) {
    if (inserted.error().code == ErrorCode::already_exists) {
      return fail(ErrorCode::already_exists, "a user with email " + user.email + " already exists");
    }
    return fail(inserted.error());
  }
  return *inserted == 1;
}

Result<std::optional<User>> find_user(SqlTransaction& tx, const std::string& id) {
  return one_user(tx, "id", id);
}

Result<std::optional<User>> find_user_by_email(SqlTransaction& tx, const std::string& email) {
  return one_user(tx, "email", email);
}

Result<std::optional<User>> find_jwt_user(SqlTransaction& tx, const std::string& subject) {
  return one_user(tx, "jwt_subject", subject);
}

Result<std::optional<User>> find_user_by_id_or_email(SqlTransaction& tx, const std::string& key) {
  return key.find('@') != std::string::npos ? find_user_by_email(tx, key) : find_user(tx, key);
}

Result<std::vector<User>> list_users(SqlTransaction& tx) {
  auto rows = tx.query(
      std::string("SELECT ") + kUserColumns + " FROM users ORDER BY created_at_ms, id", {});
  if (!rows) return fail(rows.error());
  std::vector<User> users;
  for (const SqlRecord& row : records(*rows)) users.push_back(user_from(row));
  return users;
}

Result<void> insert_token(SqlTransaction& tx, const PersonalAccessToken& token,
                          const std::string& token_hash) {
  auto inserted = tx.execute(
      "INSERT INTO personal_access_tokens (id, user_id, name, display_prefix, token_hash, "
      "created_at_ms, expires_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {token.id, token.user_id, token.name, token.display_prefix, token_hash, token.created_at_ms,
       nullable(token.expires_at_ms)});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<std::vector<PersonalAccessToken>> list_tokens(SqlTransaction& tx,
                                                     const std::optional<std::string>& user_id) {
  std::string sql = std::string("SELECT ") + kTokenColumns + " FROM personal_access_tokens";
  std::vector<SqlValue> params;
  if (user_id) {
    sql += " WHERE user_id = $1";
    params.emplace_back(*user_id);
  }
  sql += " ORDER BY created_at_ms, id";
  auto rows = tx.query(sql, params);
  if (!rows) return fail(rows.error());
  std::vector<PersonalAccessToken> tokens;
  for (const SqlRecord& row : records(*rows)) tokens.push_back(token_from(row));
  return tokens;
}

Result<void> revoke_token(SqlTransaction& tx, const std::string& token_id, std::int64_t now_ms,
                          const std::optional<std::string>& owner) {
  auto exists = owner ? tx.query(
                            "SELECT revoked_at_ms FROM personal_access_tokens WHERE id = $1 AND "
                            "user_id = $2",
                            {token_id, *owner})
                      : tx.query("SELECT revoked_at_ms FROM personal_access_tokens WHERE id = $1",
                                 {token_id});
  if (!exists) return fail(exists.error());
  if (exists->rows.empty()) return fail(ErrorCode::not_found, "no token with id " + token_id);
  auto updated = tx.execute(
      "UPDATE personal_access_tokens SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS "
      "NULL",
      {token_id, now_ms});
  if (!updated) return fail(updated.error());
  return {};
}

NewToken make_token(const std::array<std::uint8_t, kPatRandomBytes>& secret, std::string id,
                    std::string user_id, std::string name, std::int64_t now_ms,
                    std::optional<std::int64_t> expires_at_ms) {
  std::string token = format_pat(secret);
  PersonalAccessToken meta{
      std::move(id), std::move(user_id), std::move(name), pat_display_prefix(token), now_ms, {}, {},
      expires_at_ms};
  return NewToken{std::move(meta), std::move(token)};
}

Result<void> insert_new_token(SqlTransaction& tx, const NewToken& token) {
  return insert_token(tx, token.meta, hash_pat(token.token));
}

Result<void> set_password_hash(SqlTransaction& tx, const std::string& user_id,
                               const std::string& password_hash) {
  auto updated =
      tx.execute("UPDATE users SET password_hash = $2 WHERE id = $1", {user_id, password_hash});
  if (!updated) return fail(updated.error());
  if (*updated == 0) return fail(ErrorCode::not_found, "no user " + user_id);
  return {};
}

Result<std::optional<PasswordRecord>> find_password(SqlTransaction& tx, const std::string& email) {
  auto rows = tx.query(
      std::string("SELECT ") + kUserColumns + ", password_hash FROM users WHERE email = $1",
      {email});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<PasswordRecord>();
  const SqlRecord row = first_record(*rows);
  return std::optional<PasswordRecord>(
      PasswordRecord{user_from(row), row.optional_text("password_hash")});
}

Result<Authenticated> authenticate_token(SqlTransaction& tx, const std::string& token,
                                         std::int64_t now_ms) {
  const auto refused = [] {
    return fail(ErrorCode::unauthenticated, "invalid, revoked or expired token");
  };
  if (!looks_like_pat(token)) return refused();
  const std::string hash = hash_pat(token);
  auto rows = tx.query(
      "SELECT t.id AS token_id, t.token_hash, t.revoked_at_ms, t.expires_at_ms, "
      "t.last_used_at_ms, u.id AS user_id, u.email, u.name, u.created_at_ms "
      "FROM personal_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
      {hash});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return refused();
  const SqlRecord row = first_record(*rows);
  // The index lookup found it by hash; compare again in constant time so no code path's timing
  // depends on how much of a guessed hash matched.
  if (!constant_time_equal(row.text("token_hash"), hash) ||
      row.optional_integer("revoked_at_ms").has_value())
    return refused();
  const auto expires_at_ms = row.optional_integer("expires_at_ms");
  if (expires_at_ms && *expires_at_ms <= now_ms) return refused();
  const std::string token_id = row.text("token_id");
  // When a token was last used, to the minute: writing it on every request would make each
  // authenticated call a write transaction (a commit, on Postgres an fsync) for a date nobody
  // reads more precisely.
  const auto last_used_ms = row.optional_integer("last_used_at_ms");
  if (!last_used_ms || now_ms - *last_used_ms >= kTokenUseResolutionMs || now_ms < *last_used_ms) {
    auto touched = tx.execute(
        "UPDATE personal_access_tokens SET last_used_at_ms = $2 WHERE id = $1", {token_id, now_ms});
    if (!touched) return fail(touched.error());
  }
  return Authenticated{
      User{row.text("user_id"), row.text("email"), row.text("name"), row.integer("created_at_ms")},
      token_id, expires_at_ms};
}

Result<std::set<std::string>> active_tokens(SqlTransaction& tx,
                                            const std::set<std::string>& token_ids,
                                            std::int64_t now_ms) {
  if (token_ids.empty()) return std::set<std::string>();
  std::vector<SqlStatement> statements;
  statements.reserve(token_ids.size());
  for (const std::string& id : token_ids) {
    statements.push_back(
        {"SELECT 1 FROM personal_access_tokens WHERE id = $1 AND revoked_at_ms "
         "IS NULL AND (expires_at_ms IS NULL OR expires_at_ms > $2)",
         {id, now_ms}});
  }
  auto rows = tx.query_together(statements);
  if (!rows) return fail(rows.error());
  RELIANT_ASSERT(rows->size() == token_ids.size());
  std::set<std::string> active;
  auto id = token_ids.begin();
  for (const SqlRows& read : *rows) {
    if (!read.rows.empty()) active.insert(*id);
    ++id;
  }
  return active;
}

}  // namespace reliant
