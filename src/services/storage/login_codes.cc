// Login codes over SQL; redemption is one conditional UPDATE, so two racing exchanges of the
// same code cannot both succeed.
#include "services/storage/login_codes.h"

#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr std::int64_t kForgetAfterMs = 24LL * 3600 * 1000;

}  // namespace

Result<void> insert_login_code(SqlTransaction& tx, const LoginCode& code) {
  auto pruned = tx.execute("DELETE FROM login_codes WHERE expires_at_ms < $1",
                           {code.created_at_ms - kForgetAfterMs});
  if (!pruned) return fail(pruned.error());
  auto inserted = tx.execute(
      "INSERT INTO login_codes (code_hash, user_id, redirect_uri, code_challenge, "
      "created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
      {code.code_hash, code.user_id, code.redirect_uri, code.code_challenge, code.created_at_ms,
       code.expires_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<LoginCode> redeem_login_code(SqlTransaction& tx, const std::string& code_hash,
                                    std::int64_t now_ms) {
  const auto refused = [] {
    return fail(ErrorCode::unauthenticated, "the login code is unknown, used or expired");
  };
  auto used = tx.execute(
      "UPDATE login_codes SET used_at_ms = $2 "
      "WHERE code_hash = $1 AND used_at_ms IS NULL AND expires_at_ms > $2",
      {code_hash, now_ms});
  if (!used) return fail(used.error());
  if (*used == 0) return refused();
  auto rows = tx.query(
      "SELECT code_hash, user_id, redirect_uri, code_challenge, created_at_ms, expires_at_ms "
      "FROM login_codes WHERE code_hash = $1",
      {code_hash});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return refused();
  const SqlRecord row = first_record(*rows);
  return LoginCode{row.text("code_hash"),        row.text("user_id"),
                   row.text("redirect_uri"),     row.text("code_challenge"),
                   row.integer("created_at_ms"), row.integer("expires_at_ms")};
}

}  // namespace reliant
