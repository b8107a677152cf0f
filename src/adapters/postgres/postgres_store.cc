// PostgresStore: libpqxx transactions on pool threads; library exceptions become Errors here
// and never cross the port.
#include "adapters/postgres/postgres_store.h"

#include <optional>
#include <pqxx/pqxx>
#include <string_view>
#include <unordered_map>

#include "base/assert.h"
#include "base/text_hash.h"
#include "runtime/future.h"

namespace reliant {
namespace {

// libpq type OIDs (pg_type.h) that map onto SqlValue's numeric alternatives.
constexpr pqxx::oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701,
                    kNumeric = 1700;

// Prepared statements of one connection, by SQL text: the engine runs the same few statements
// over and over, and planning a statement can cost more than running it (measured: the engine
// step's CTE, p50 1.5 ms unprepared).
using PreparedNames = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;

// An error whose message is Postgres's or libpqxx's own text (and maybe SQL): for the logs,
// never for a client's answer (Error::internal_message).
tl::unexpected<Error> driver_error(ErrorCode code, std::string message) {
  return fail(Error{code, std::move(message), true});
}

// Whether `sql` only reads, so that it may run before the transaction begins: a plain SELECT
// that locks nothing and calls nothing with an effect. Under READ COMMITTED every statement
// takes its own snapshot, so a read before BEGIN sees what it would have seen after it; a body
// that only reads then costs no BEGIN and no COMMIT (two round trips of its one or two).
bool reads_only(std::string_view sql) {
  if (!sql.starts_with("SELECT ")) return false;
  for (std::string_view effect :
       {" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE", "pg_advisory",
        "nextval(", "setval(", "pg_notify", "set_config", "txid_current", "pg_current_xact"}) {
    if (sql.find(effect) != std::string_view::npos) return false;
  }
  return true;
}

// A body's statements: leading reads in autocommit (reads_only), then — from the first
// statement that may write or lock — one transaction (READ COMMITTED, libpqxx's default).
class PostgresTransaction final : public SqlTransaction {
 public:
  PostgresTransaction(pqxx::connection& connection, PreparedNames& prepared)
      : connection_(connection), prepared_(prepared) {}

  // The transaction, if a statement began one.
  pqxx::work* work() { return work_ ? &*work_ : nullptr; }

  Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    return rows_of(exec(sql, params));
  }

  Result<SqlRows> query_last(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    alone_ = work_ == std::nullopt && !has_steps_before_commit();
    Result<SqlRows> rows = rows_of(exec(sql, params));
    last_done_ = true;
    if (!rows) alone_ = false;  // nothing of it happened
    return rows;
  }

  // Whether the body's last statement committed on its own.
  bool committed_alone() const { return alone_; }

  // The steps the body left for the end (SqlTransaction::before_commit): they follow its last
  // statement, which then never ran alone (query_last).
  Result<void> finish() {
    RELIANT_ASSERT_MSG(!alone_ || !has_steps_before_commit(),
                       "a step before the commit of a body whose last statement committed alone");
    last_done_ = false;
    return run_steps_before_commit();
  }

  Result<std::int64_t> execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    auto result = exec(sql, params);
    if (!result) return fail(result.error());
    return static_cast<std::int64_t>(result->affected_rows());
  }

 private:
  static Result<SqlRows> rows_of(Result<pqxx::result> result) {
    if (!result) return fail(result.error());
    SqlRows rows;
    const pqxx::result& r = *result;
    for (pqxx::row::size_type c = 0; c < r.columns(); ++c)
      rows.columns.emplace_back(r.column_name(c));
    rows.rows.reserve(r.size());
    for (const auto& row : r) {
      auto& out = rows.rows.emplace_back();
      out.reserve(row.size());
      for (const auto& field : row) {
        if (field.is_null()) {
          out.emplace_back(nullptr);
          continue;
        }
        switch (field.type()) {
          case kInt2:
          case kInt4:
          case kInt8:
            out.emplace_back(field.as<std::int64_t>());
            break;
          case kBool:
            out.emplace_back(std::int64_t{field.c_str()[0] == 't' ? 1 : 0});
            break;
          case kFloat4:
          case kFloat8:
          case kNumeric:
            out.emplace_back(field.as<double>());
            break;
          default:
            out.emplace_back(std::string(field.c_str(), field.size()));
        }
      }
    }
    return rows;
  }

  Result<pqxx::result> exec(std::string_view sql, const std::vector<SqlValue>& params) {
    // Parameters travel as text; NULL is a null pointer.
    std::vector<std::string> storage;
    storage.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
      if (std::holds_alternative<std::nullptr_t>(p)) {
        values.push_back(nullptr);
        continue;
      }
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        storage.push_back(std::to_string(*n));
      } else if (const auto* d = std::get_if<double>(&p)) {
        storage.push_back(pqxx::to_string(*d));
      } else {
        storage.push_back(std::get<std::string>(p));
      }
      values.push_back(storage.back().c_str());
    }
    try {
      auto it = prepared_.find(sql);
      if (it == prepared_.end()) {
        std::string key(sql);
        const std::string name = "r" + std::to_string(prepared_.size() + 1);
        connection_.prepare(name, key);
        it = prepared_.emplace(std::move(key), name).first;
      }
      return for_statement(sql).exec_prepared(it->second,
                                              pqxx::prepare::make_dynamic_params(values));
    } catch (const pqxx::unique_violation& e) {
      return driver_error(ErrorCode::already_exists, e.what());
    } catch (const pqxx::integrity_constraint_violation& e) {
      return driver_error(ErrorCode::failed_precondition, e.what());
    } catch (const pqxx::broken_connection& e) {
      // A statement that is its own transaction may have committed before the loss.
      if (alone_) {
        return driver_error(ErrorCode::outcome_unknown,
                            std::string("connection lost during a statement: ") + e.what());
      }
      return driver_error(ErrorCode::unavailable, std::string("connection lost: ") + e.what());
    } catch (const pqxx::transaction_rollback& e) {  // deadlock, serialization failure: retry
      return driver_error(ErrorCode::unavailable,
                          std::string("transaction rolled back by the server, retry: ") + e.what());
    } catch (const pqxx::syntax_error& e) {  // also undefined tables and columns
      return driver_error(ErrorCode::invalid_argument,
                          std::string(e.what()) + " in: " + std::string(sql));
    } catch (const pqxx::data_exception& e) {
      return driver_error(ErrorCode::invalid_argument, e.what());
    } catch (const pqxx::sql_error& e) {
      return driver_error(ErrorCode::internal, e.what());
    } catch (const std::exception& e) {
      return driver_error(ErrorCode::internal, e.what());
    }
  }

  pqxx::transaction_base& for_statement(std::string_view sql) {
    if (work_) return *work_;
    if (alone_ || reads_only(sql)) {
      if (!reads_) reads_.emplace(connection_);
      return *reads_;
    }
    reads_.reset();  // one transaction object per connection at a time
    work_.emplace(connection_);
    return *work_;
  }

  pqxx::connection& connection_;
  PreparedNames& prepared_;
  std::optional<pqxx::nontransaction> reads_;
  std::optional<pqxx::work> work_;
  bool alone_ = false;      // the last statement runs, or ran, as a transaction of its own
  bool last_done_ = false;  // the body's last statement has run
};

Result<std::unique_ptr<pqxx::connection>> connect(const std::string& url) {
  try {
    auto connection = std::make_unique<pqxx::connection>(url);
    // Every statement is prepared and its shape never changes, so the generic plan is the right
    // one. Left to choose, Postgres re-plans some statements (the engine's multi-CTE append) on
    // every execution: 0.3 ms of planning per step, more than the statement takes to run.
    pqxx::nontransaction(*connection).exec("SET plan_cache_mode = force_generic_plan");
    return connection;
  } catch (const pqxx::broken_connection& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    const bool malformed =
        why.find("invalid") != std::string::npos || why.find("missing") != std::string::npos;
    return driver_error(malformed ? ErrorCode::invalid_argument : ErrorCode::unavailable,
                        "cannot connect to Postgres at " + redact_url(url) + ": " + why);
  } catch (const std::exception& e) {
    return driver_error(ErrorCode::invalid_argument,
                        "cannot connect to Postgres at " + redact_url(url) + ": " + e.what());
  }
}

}  // namespace

struct PostgresStore::Connections {
  std::vector<std::unique_ptr<pqxx::connection>> each;
  std::vector<PreparedNames> prepared;  // prepared[i] belongs to each[i]
};

std::string redact_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const auto at = url.find('@', scheme + 3);
  if (at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(Executor& executor,
                                                           const std::string& url,
                                                           const PostgresOptions& options) {
  if (options.pool_size == 0)
    return fail(ErrorCode::invalid_argument, "the Postgres pool needs at least one connection");
  auto connections = std::make_unique<Connections>();
  for (std::size_t i = 0; i < options.pool_size; ++i) {
    auto connection = connect(url);
    if (!connection) return fail(connection.error());
    connections->each.push_back(std::move(*connection));
  }
  connections->prepared.resize(connections->each.size());
  return std::unique_ptr<PostgresStore>(new PostgresStore(executor, url, std::move(connections)));
}

PostgresStore::PostgresStore(Executor& executor, std::string url,
                             std::unique_ptr<Connections> connections)
    : executor_(executor),
      url_(std::move(url)),
      connections_(std::move(connections)),
      pool_(std::make_unique<BlockingPool>(connections_->each.size())) {}

PostgresStore::~PostgresStore() { pool_.reset(); }  // threads stop before their connections close

Task<Result<void>> PostgresStore::transact(TransactionBody body) {
  auto [promise, future] = make_promise<Result<void>>(executor_);
  pool_->submit([this, body = std::move(body), promise = promise](std::size_t index) {
    Result<void> outcome = run(index, body);
    executor_.post([promise, outcome = std::move(outcome)] { promise.set(outcome); });
  });
  Result<void> outcome = co_await future;
  co_return outcome;
}

Result<void> PostgresStore::run(std::size_t index, const TransactionBody& body) {
  auto& connection = connections_->each[index];
  if (!connection || !connection->is_open()) {
    // A lost connection is replaced on next use; until the server is back, callers see
    // `unavailable` and nothing happened.
    auto fresh = connect(url_);
    if (!fresh) return driver_error(ErrorCode::unavailable, fresh.error().message);
    connection = std::move(*fresh);
    connections_->prepared[index].clear();
  }
  try {
    PostgresTransaction tx(*connection, connections_->prepared[index]);
    Result<void> outcome = body(tx);
    if (outcome) outcome = tx.finish();
    pqxx::work* work = tx.work();
    RELIANT_ASSERT_MSG(outcome || !tx.committed_alone(),
                       "a body failed after its last statement committed");
    if (!outcome) {
      if (work != nullptr) work->abort();
      return outcome;
    }
    if (work == nullptr) return {};  // the body only read
    try {
      work->commit();
    } catch (const pqxx::in_doubt_error& e) {
      return driver_error(ErrorCode::outcome_unknown,
                          std::string("commit outcome unknown: ") + e.what());
    } catch (const pqxx::broken_connection& e) {
      return driver_error(ErrorCode::outcome_unknown,
                          std::string("connection lost during commit: ") + e.what());
    } catch (const pqxx::serialization_failure& e) {
      return driver_error(ErrorCode::unavailable,
                          std::string("serialization failure, retry: ") + e.what());
    }
    return {};
  } catch (const pqxx::broken_connection& e) {
    connection.reset();
    return driver_error(ErrorCode::unavailable,
                        std::string("connection to Postgres lost: ") + e.what());
  } catch (const std::exception& e) {
    return driver_error(ErrorCode::internal, e.what());
  }
}

}  // namespace reliant
