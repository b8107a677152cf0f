// Store: transactional SQL on the system's one database (docs/architecture.md §4, §7).
//
// The port is deliberately at the level of "run this transaction": typed repositories (users,
// tokens, daemons, chats, workflow histories, task queues) are built on top of it once and work
// on every backend — SQLite (monolith, simulator) and Postgres (distributed). The simulator
// wraps the SQLite backend to inject latency, errors before commit and outcome-unknown commits.
// No SQL time or random functions: times and ids are passed in as parameters.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"
#include "runtime/task.h"

namespace reliant {

// NULL, INTEGER, REAL, TEXT (BLOBs travel as TEXT holding bytes).
using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

struct SqlRows {
  std::vector<std::string> columns;
  std::vector<std::vector<SqlValue>> rows;
};

enum class SqlDialect { sqlite, postgres };

// One open transaction. Parameters are written $1, $2, … in the SQL on every backend.
// Valid only inside the body passed to Store::transact.
class SqlTransaction {
 public:
  virtual ~SqlTransaction() = default;
  virtual Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) = 0;
  // Returns the number of rows affected.
  virtual Result<std::int64_t> execute(std::string_view sql,
                                       const std::vector<SqlValue>& params) = 0;
};

using TransactionBody = std::function<Result<void>(SqlTransaction&)>;

class Store {
 public:
  virtual ~Store() = default;

  virtual SqlDialect dialect() const = 0;

  // Runs `body` in one transaction, off the caller's executor (the body must touch only the
  // transaction and the values it captured), and resumes the caller on its executor.
  // Commits when `body` succeeds, rolls back when it fails (its error is returned).
  // Fails with `unavailable` when the database cannot be reached (nothing happened) and with
  // `outcome_unknown` when the commit was sent but its result was lost: the caller must make
  // its writes idempotent or check before retrying.
  virtual Task<Result<void>> transact(TransactionBody body) = 0;
};

}  // namespace reliant
