// A user's own API keys for the model providers (migration 19), kept in settings: sealed at
// rest under the server's secrets key (base/sealed_box.h), which lives in a file outside the
// database, and bound to the user and the provider. Nothing here returns a key but
// open_provider_key, which the worker calls to make a model call with it; listings name only
// which providers have one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sealed_box.h"
#include "runtime/secret_source.h"
#include "runtime/store.h"

namespace reliant {

// The providers a key may be kept for: the kinds of model provider the server talks to.
bool is_key_provider(std::string_view provider);
inline constexpr std::size_t kProviderKeyBytesMax = 512;
// Printable ASCII without spaces, 8 to kProviderKeyBytesMax bytes: what providers issue. A key
// with a line break would split an HTTP header.
bool plausible_provider_key(std::string_view key);

struct ProviderKeyInfo {
  std::string provider;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// Seals `api_key` with a fresh nonce from `secrets` and stores it, replacing the user's key for
// that provider.
Result<void> put_provider_key(SqlTransaction& tx, const SealKey& key, SecretSource& secrets,
                              const std::string& user_id, const std::string& provider,
                              std::string_view api_key, std::int64_t now_ms);
Result<std::vector<ProviderKeyInfo>> list_provider_keys(SqlTransaction& tx,
                                                        const std::string& user_id);
// False when the user kept none for that provider.
Result<bool> delete_provider_key(SqlTransaction& tx, const std::string& user_id,
                                 const std::string& provider);
// The user's key for the provider, nullopt when they keep none; `failed_precondition` naming
// the reason when it was sealed under another secrets key or does not open.
Result<std::optional<std::string>> open_provider_key(SqlTransaction& tx, const SealKey& key,
                                                     const std::string& user_id,
                                                     const std::string& provider);

}  // namespace reliant
