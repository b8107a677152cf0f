// A user's settings: one JSON object per user, stored whole (the client owns its shape).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/store.h"

namespace reliant {

// {} when the user never saved any.
Result<nlohmann::json> load_settings(SqlTransaction& tx, const std::string& user_id);
// Replaces the user's settings with `settings` (a JSON object).
Result<void> save_settings(SqlTransaction& tx, const std::string& user_id,
                           const nlohmann::json& settings, std::int64_t now_ms);

}  // namespace reliant
