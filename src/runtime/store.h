// Store: transactional SQL on the system's one database (docs/architecture.md §4, §7).
//
// The port is deliberately at the level of "run this transaction": typed repositories (users,
// tokens, daemons, chats, workflow histories, task queues) are built on top of it once and work
// on every backend — SQLite (monolith, simulator) and Postgres (distributed). The simulator
// wraps the SQLite backend to inject latency, errors before commit and outcome-unknown commits.
// No SQL time or random functions: times and ids are passed in as parameters.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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

// A statement and its parameters, for SqlTransaction::query_together.
struct SqlStatement {
  std::string_view sql;
  std::vector<SqlValue> params;
};

// One open transaction. Parameters are written $1, $2, … in the SQL on every backend.
// Valid only inside the body passed to Store::transact.
class SqlTransaction {
 public:
  virtual ~SqlTransaction() = default;
  virtual Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) = 0;
  // Returns the number of rows affected.
  virtual Result<std::int64_t> execute(std::string_view sql,
                                       const std::vector<SqlValue>& params) = 0;
  // The body's last statement, or the last step's (before_commit): nothing may run after it,
  // and once it succeeded the body must too. Where no statement has begun a transaction yet, a
  // backend may run it as a transaction of its own (one statement is atomic); where one has and
  // no step follows, it may send the COMMIT with it. On Postgres either saves a round trip or
  // two, and the second holds the transaction's row locks for one round trip less. Group commit
  // runs a body's inside the shared transaction when its batch has other bodies.
  virtual Result<SqlRows> query_last(std::string_view sql, const std::vector<SqlValue>& params) {
    return query(sql, params);
  }

  // Statements whose parameters do not depend on one another's results, run in order, each
  // seeing what those before it wrote; stops at the first that fails and returns its error. A
  // backend may send them together: on Postgres, one round trip for all, each statement still
  // taking its own snapshot when it starts (after the locks those before it waited for).
  virtual Result<std::vector<SqlRows>> query_together(const std::vector<SqlStatement>& statements) {
    std::vector<SqlRows> results;
    results.reserve(statements.size());
    for (const SqlStatement& statement : statements) {
      auto rows = query(statement.sql, statement.params);
      if (!rows) return fail(rows.error());
      results.push_back(std::move(*rows));
    }
    return results;
  }

  // A write whose rows the body does not need before its next statement: a backend may hold it
  // and send it with that statement (on Postgres, in the same round trip), or with the commit
  // when none follows; it runs before either, as if run here. When it fails, or `check` refuses
  // its rows, the statement that carried it fails with that error (the commit does not happen),
  // so the body fails as it would have here. Default: runs at once.
  using RowsCheck = std::function<Result<void>(const SqlRows&)>;
  virtual Result<void> defer(std::string_view sql, std::vector<SqlValue> params,
                             RowsCheck check = {}) {
    auto rows = query(sql, params);
    if (!rows) return fail(rows.error());
    return check ? check(*rows) : Result<void>();
  }

  // Statements a body leaves for the end: `step` runs after the body and, in a group commit,
  // after every body of its batch, just before the commit. For a statement that locks a row many
  // transactions want (a user's update head, updates::append_user_events), so that the lock is
  // held for the commit only and not while the rest of a batch runs. A body that fails runs none
  // of its steps; a step that fails fails its body.
  using Step = std::function<Result<void>(SqlTransaction&)>;
  void before_commit(Step step) { before_commit_.push_back(std::move(step)); }
  // Whether a step is still to run: one queued, or one after the step running.
  bool has_steps_before_commit() const { return !before_commit_.empty() || steps_after_ > 0; }
  // Runs the steps queued so far, in order, and forgets them: the store calls it once the body
  // succeeded (a group commit once its bodies did).
  Result<void> run_steps_before_commit() {
    std::vector<Step> steps = std::move(before_commit_);
    drop_steps_before_commit();
    Result<void> done;
    for (std::size_t i = 0; i < steps.size() && done; ++i) {
      steps_after_ = steps.size() - 1 - i;
      done = steps[i](*this);
    }
    steps_after_ = 0;
    return done;
  }
  // Forgets the steps of a body that failed.
  void drop_steps_before_commit() {
    before_commit_.clear();
    kept_for_steps_.clear();
  }
  // What the steps before the commit keep, one value per key (the address of a constant of the
  // caller's), until they run: a step that serves every body of a group-commit batch is queued by
  // the first body, which keeps its work list here for the others to add to.
  std::shared_ptr<void>& kept_for_steps(const void* key) {
    for (auto& [k, value] : kept_for_steps_) {
      if (k == key) return value;
    }
    return kept_for_steps_.emplace_back(key, nullptr).second;
  }

 private:
  std::vector<Step> before_commit_;
  std::size_t steps_after_ = 0;  // while a step runs: how many follow it
  std::vector<std::pair<const void*, std::shared_ptr<void>>> kept_for_steps_;
};

using TransactionBody = std::function<Result<void>(SqlTransaction&)>;

// `body(tx)`, with an exception that escapes it as an internal error (`threw` set): a store runs
// bodies on its pool threads, where an escaping exception would end the process — a JSON dump of
// text a client sent that is not UTF-8, say. The store rolls back as for any failed body.
inline Result<void> run_guarded(const TransactionBody& body, SqlTransaction& tx, bool& threw) {
  threw = false;
  try {
    return body(tx);
  } catch (const std::exception& e) {
    threw = true;
    return fail(ErrorCode::internal, std::string("a transaction body threw: ") + e.what());
  }
}

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

  // Runs `body` like transact() and returns what it returned:
  //
  //   Task<Result<DaemonRecord>> finding = store.transact_for(
  //       [id](SqlTransaction& tx) { return find_daemon(tx, id); });
  //   Result<DaemonRecord> daemon = co_await finding;
  //
  // `body` returns a Result<T> (T copyable or movable). Like every coroutine here, await the
  // returned task as a named local (GCC 12); `body` may capture, since it is not a coroutine.
  template <class Body>
  auto transact_for(Body body) -> Task<std::invoke_result_t<Body&, SqlTransaction&>>;
};

namespace detail {
// Storage for a transaction body's value: it may run more than once (a retried serialization
// failure), so the last successful run's value is the one kept.
template <class T>
struct TransactionValue {
  std::optional<T> value;
};
template <>
struct TransactionValue<void> {};

template <class R>
Task<R> transact_returning(Store& store, std::function<R(SqlTransaction&)> body) {
  using T = typename R::value_type;
  auto out = std::make_shared<TransactionValue<T>>();
  TransactionBody wrapped = [body = std::move(body), out](SqlTransaction& tx) -> Result<void> {
    R value = body(tx);
    if (!value) return fail(value.error());
    if constexpr (!std::is_void_v<T>) out->value = std::move(*value);
    return {};
  };
  Task<Result<void>> running = store.transact(std::move(wrapped));
  Result<void> done = co_await running;
  if (!done) co_return fail(done.error());
  if constexpr (std::is_void_v<T>) {
    co_return R{};
  } else {
    co_return std::move(*out->value);
  }
}
}  // namespace detail

template <class Body>
auto Store::transact_for(Body body) -> Task<std::invoke_result_t<Body&, SqlTransaction&>> {
  using R = std::invoke_result_t<Body&, SqlTransaction&>;
  return detail::transact_returning<R>(*this, std::function<R(SqlTransaction&)>(std::move(body)));
}

}  // namespace reliant
