// Secrets of the whole deployment in the store (see the header).
#include "services/storage/cluster_secrets.h"

#include "base/assert.h"
#include "services/storage/sql_row.h"

namespace reliant {

Result<std::string> cluster_secret(SqlTransaction& tx, const std::string& name,
                                   const std::string& drawn, std::int64_t now_ms) {
  RELIANT_ASSERT(!drawn.empty());
  auto inserted = tx.execute(
      "INSERT INTO cluster_secrets (name, value, created_at_ms) VALUES ($1, $2, $3) "
      "ON CONFLICT (name) DO NOTHING",
      {name, drawn, now_ms});
  if (!inserted) return fail(inserted.error());
  auto rows = tx.query("SELECT value FROM cluster_secrets WHERE name = $1", {name});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return fail(ErrorCode::internal, "cluster secret " + name + " vanished");
  return first_record(*rows).text("value");
}

}  // namespace reliant
