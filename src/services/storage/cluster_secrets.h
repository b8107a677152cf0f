// Secrets of the whole deployment, shared by its replicas through the store (cluster_secrets):
// the first replica that needs one draws it, every other reads the same. Functions run inside a
// Store transaction.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

// The secret called `name`: the stored one, or `drawn` stored now when there is none yet (two
// replicas drawing at once both get the one stored first).
Result<std::string> cluster_secret(SqlTransaction& tx, const std::string& name,
                                   const std::string& drawn, std::int64_t now_ms);

}  // namespace reliant
