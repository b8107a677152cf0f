// Provider keys over SQL, sealed (provider_keys.h).
#include "services/storage/provider_keys.h"

#include <algorithm>

#include "base/base64url.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

// What a sealed key is bound to: a row's value opens only for its own user and provider.
std::string bound_to(const std::string& user_id, const std::string& provider) {
  return "reliant provider key\n" + user_id + "\n" + provider;
}

}  // namespace

bool is_key_provider(std::string_view provider) {
  return provider == "anthropic" || provider == "openai";
}

bool plausible_provider_key(std::string_view key) {
  return key.size() >= 8 && key.size() <= kProviderKeyBytesMax &&
         std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Result<void> put_provider_key(SqlTransaction& tx, const SealKey& key, SecretSource& secrets,
                              const std::string& user_id, const std::string& provider,
                              std::string_view api_key, std::int64_t now_ms) {
  std::array<std::uint8_t, kSealNonceBytes> nonce{};
  secrets.fill(nonce.data(), nonce.size());
  const std::string sealed =
      base64url_encode(seal(key, nonce, api_key, bound_to(user_id, provider)));
  auto updated = tx.execute(
      "UPDATE provider_keys SET sealed = $3, key_fingerprint = $4, updated_at_ms = $5 WHERE "
      "user_id = $1 AND provider = $2",
      {user_id, provider, sealed, key.fingerprint(), now_ms});
  if (!updated) return fail(updated.error());
  if (*updated > 0) return {};
  auto inserted = tx.execute(
      "INSERT INTO provider_keys (user_id, provider, sealed, key_fingerprint, created_at_ms, "
      "updated_at_ms) VALUES ($1, $2, $3, $4, $5, $5)",
      {user_id, provider, sealed, key.fingerprint(), now_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<std::vector<ProviderKeyInfo>> list_provider_keys(SqlTransaction& tx,
                                                        const std::string& user_id) {
  auto rows = tx.query(
      "SELECT provider, created_at_ms, updated_at_ms FROM provider_keys WHERE user_id = $1 "
      "ORDER BY provider",
      {user_id});
  if (!rows) return fail(rows.error());
  std::vector<ProviderKeyInfo> keys;
  for (const SqlRecord& row : records(*rows)) {
    keys.push_back(
        {row.text("provider"), row.integer("created_at_ms"), row.integer("updated_at_ms")});
  }
  return keys;
}

Result<bool> delete_provider_key(SqlTransaction& tx, const std::string& user_id,
                                 const std::string& provider) {
  auto deleted = tx.execute("DELETE FROM provider_keys WHERE user_id = $1 AND provider = $2",
                            {user_id, provider});
  if (!deleted) return fail(deleted.error());
  return *deleted > 0;
}

Result<std::optional<std::string>> open_provider_key(SqlTransaction& tx, const SealKey& key,
                                                     const std::string& user_id,
                                                     const std::string& provider) {
  auto rows = tx.query(
      "SELECT sealed, key_fingerprint FROM provider_keys WHERE user_id = $1 AND provider = $2",
      {user_id, provider});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<std::string>();
  const SqlRecord row = first_record(*rows);
  if (row.text("key_fingerprint") != key.fingerprint()) {
    return fail(
        ErrorCode::failed_precondition,
        "your " + provider + " key was sealed under another server secrets key; store it again");
  }
  // Text that is not base64url opens as nothing would: refused below like any tampered value.
  const auto sealed = base64url_decode(row.text("sealed"));
  auto opened = open_sealed(key, sealed.value_or(""), bound_to(user_id, provider));
  if (!opened) {
    return fail(ErrorCode::failed_precondition, "your stored " + provider + " key does not open (" +
                                                    opened.error().message + "); store it again");
  }
  return std::optional<std::string>(std::move(*opened));
}

}  // namespace reliant
