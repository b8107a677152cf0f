// PostgresStore: transactions on pool threads over libpq; the server's errors become Errors here
// and never cross the port.
#include "adapters/postgres/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "base/assert.h"
#include "base/text_hash.h"
#include "runtime/future.h"

namespace reliant {
namespace {

// libpq type OIDs (pg_type.h) that map onto SqlValue's numeric alternatives.
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701,
              kNumeric = 1700;

// Prepared statements of one connection, by SQL text: the engine runs the same few statements
// over and over, and planning a statement can cost more than running it (measured: the engine
// step's CTE, p50 1.5 ms unprepared).
using PreparedNames = std::unordered_map<std::string, std::string, TextHash, std::equal_to<>>;

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// One server connection and what it has prepared; closed on destruction.
struct Connection {
  explicit Connection(PGconn* handle) : handle(handle) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { PQfinish(handle); }
  bool lost() const { return broken || PQstatus(handle) == CONNECTION_BAD; }

  PGconn* handle;
  PreparedNames prepared;
  bool broken = false;  // left in a state no statement can follow: replaced before its next use
};

// An error whose message is Postgres's or libpq's own text (and maybe SQL): for the logs, never
// for a client's answer (Error::internal_message).
tl::unexpected<Error> driver_error(ErrorCode code, std::string message) {
  return fail(Error{code, std::move(message), true});
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// What a failed statement stands for, by its SQLSTATE's class; a lost connection is
// `unavailable`, or `outcome_unknown` where what was lost may have committed (`may_have_committed`:
// a statement run as its own transaction, or one sent with the COMMIT).
tl::unexpected<Error> statement_error(const Connection& connection, const PGresult* result,
                                      std::string_view sql, bool may_have_committed) {
  std::string message =
      trimmed(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection.handle));
  const char* field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view state = field != nullptr ? field : "";
  if (connection.lost() || state.starts_with("08")) {
    if (may_have_committed) {
      return driver_error(ErrorCode::outcome_unknown,
                          "connection lost during a statement: " + message);
    }
    return driver_error(ErrorCode::unavailable, "connection lost: " + message);
  }
  if (state == "23505") return driver_error(ErrorCode::already_exists, message);
  if (state.starts_with("23")) return driver_error(ErrorCode::failed_precondition, message);
  if (state.starts_with("40")) {  // deadlock, serialization failure: retry
    return driver_error(ErrorCode::unavailable,
                        "transaction rolled back by the server, retry: " + message);
  }
  if (state.starts_with("42")) {  // syntax errors, undefined tables and columns
    return driver_error(ErrorCode::invalid_argument, message + " in: " + std::string(sql));
  }
  if (state.starts_with("22")) return driver_error(ErrorCode::invalid_argument, message);
  return driver_error(ErrorCode::internal, message);
}

bool succeeded(const PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
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

// A statement's parameters as libpq takes them: text, NULL as a null pointer.
class TextParams {
 public:
  explicit TextParams(const std::vector<SqlValue>& params) {
    storage_.reserve(params.size());
    values_.reserve(params.size());
    for (const auto& p : params) {
      if (std::holds_alternative<std::nullptr_t>(p)) {
        values_.push_back(nullptr);
        continue;
      }
      if (const auto* n = std::get_if<std::int64_t>(&p)) {
        storage_.push_back(std::to_string(*n));
      } else if (const auto* d = std::get_if<double>(&p)) {
        std::array<char, 32> digits{};  // shortest text that reads back as the same double
        const auto written = std::to_chars(digits.data(), digits.data() + digits.size(), *d);
        storage_.emplace_back(digits.data(), written.ptr);
      } else {
        storage_.push_back(std::get<std::string>(p));
      }
      values_.push_back(storage_.back().c_str());
    }
  }
  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }

 private:
  std::vector<std::string> storage_;  // reserved up front: its strings never move
  std::vector<const char*> values_;
};

SqlRows rows_of(const PGresult* result) {
  SqlRows rows;
  const int columns = PQnfields(result);
  const int count = PQntuples(result);
  for (int c = 0; c < columns; ++c) rows.columns.emplace_back(PQfname(result, c));
  rows.rows.reserve(static_cast<std::size_t>(count));
  for (int r = 0; r < count; ++r) {
    auto& out = rows.rows.emplace_back();
    out.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) {
        out.emplace_back(nullptr);
        continue;
      }
      const char* text = PQgetvalue(result, r, c);
      const auto length = static_cast<std::size_t>(PQgetlength(result, r, c));
      switch (PQftype(result, c)) {
        case kInt2:
        case kInt4:
        case kInt8: {
          std::int64_t n = 0;
          std::from_chars(text, text + length, n);
          out.emplace_back(n);
          break;
        }
        case kBool:
          out.emplace_back(std::int64_t{text[0] == 't' ? 1 : 0});
          break;
        case kFloat4:
        case kFloat8:
        case kNumeric:
          out.emplace_back(std::strtod(text, nullptr));
          break;
        default:
          out.emplace_back(std::string(text, length));
      }
    }
  }
  return rows;
}

// One statement of a pipeline: a prepared statement's name and parameters, or SQL without any.
struct Sent {
  const std::string* prepared = nullptr;
  const TextParams* params = nullptr;
  const char* sql = nullptr;
};

// Sends `statements` in one round trip (libpq's pipeline mode) and returns each one's result, in
// order; after a failure the server skips the rest, whose results then say so
// (PGRES_PIPELINE_ABORTED). Empty when the connection failed before results came back.
std::vector<PgResult> pipeline(Connection& connection, const std::vector<Sent>& statements) {
  PGconn* handle = connection.handle;
  std::vector<PgResult> results;
  if (PQenterPipelineMode(handle) == 0) return results;
  bool sent = true;
  for (const Sent& s : statements) {
    sent = sent &&
           (s.prepared != nullptr
                ? PQsendQueryPrepared(handle, s.prepared->c_str(), s.params->count(),
                                      s.params->values(), nullptr, nullptr, 0) == 1
                : PQsendQueryParams(handle, s.sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1);
  }
  sent = sent && PQpipelineSync(handle) == 1;
  if (sent) {
    for (std::size_t i = 0; i < statements.size(); ++i) {
      PgResult result(PQgetResult(handle));
      if (result == nullptr) break;                                // the connection failed
      while (PGresult* more = PQgetResult(handle)) PQclear(more);  // the end of this one's
      results.push_back(std::move(result));
    }
    // The sync's own result, then the connection is idle again.
    while (PGresult* rest = PQgetResult(handle)) {
      const bool synced = PQresultStatus(rest) == PGRES_PIPELINE_SYNC;
      PQclear(rest);
      if (synced) break;
    }
  }
  // Results left unread keep it in pipeline mode, where nothing else can run.
  if (PQexitPipelineMode(handle) == 0) connection.broken = true;
  if (results.size() != statements.size()) results.clear();
  return results;
}

// A body's statements: leading reads in autocommit (reads_only), then — from the first
// statement that may write or lock — one transaction (READ COMMITTED, the server's default).
// Round trips a transaction does not need are saved: its BEGIN goes out with its first statement,
// and its COMMIT with its last when the body names it (query_last).
class PostgresTransaction final : public SqlTransaction {
 public:
  explicit PostgresTransaction(Connection& connection) : connection_(connection) {}

  bool begun() const { return begun_; }
  bool committed() const { return committed_; }
  // Whether deferred statements wait for a statement, or the commit, to carry them.
  bool deferring() const { return !deferred_.empty(); }
  // Whether the body's last statement committed on its own.
  bool committed_alone() const { return alone_; }

  Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    return exec(sql, params, false);
  }

  Result<SqlRows> query_last(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    // With a step to follow, the statement is not the transaction's last; after a deferred
    // write failed, the transaction must not commit, whatever the body made of the error.
    if (has_steps_before_commit() || failed_deferred_) return exec(sql, params, false);
    // Deferred writes make it a transaction's last statement, not one of its own.
    alone_ = !begun_ && deferred_.empty();
    Result<SqlRows> rows = exec(sql, params, !alone_);
    last_done_ = true;
    if (!rows) alone_ = false;  // nothing of it happened
    return rows;
  }

  Result<std::vector<SqlRows>> query_together(
      const std::vector<SqlStatement>& statements) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    if (statements.size() < 2) return SqlTransaction::query_together(statements);
    std::vector<TextParams> params;
    params.reserve(statements.size());  // Sent points into it
    std::vector<Sent> sent;
    for (const SqlStatement& statement : statements) {
      auto name = prepared(statement.sql);
      if (!name) return fail(name.error());
      sent.push_back(Sent{*name, &params.emplace_back(statement.params), nullptr});
    }
    const bool begins = !begun_ && std::any_of(statements.begin(), statements.end(),
                                               [](const SqlStatement& statement) {
                                                 return !reads_only(statement.sql);
                                               });
    auto results = deferred_.empty() ? send(std::move(sent), begins, statements[0].sql)
                                     : carry(std::move(sent), false, statements[0].sql);
    if (!results) return fail(results.error());
    std::vector<SqlRows> rows;
    rows.reserve(statements.size());
    for (std::size_t i = 0; i < statements.size(); ++i) {
      const PGresult* result = (*results)[i].get();
      if (!succeeded(result)) return statement_error(connection_, result, statements[i].sql, false);
      rows.push_back(rows_of(result));
    }
    return rows;
  }

  Result<std::int64_t> execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    auto rows = exec(sql, params, false, true);
    if (!rows) return fail(rows.error());
    return affected_;
  }

  // Held until the body's next statement, or the commit, carries it (carry()). Prepared now: a
  // statement that cannot be fails here.
  Result<void> defer(std::string_view sql, std::vector<SqlValue> params, RowsCheck check) override {
    RELIANT_ASSERT_MSG(!last_done_, "a statement after the body's last");
    RELIANT_ASSERT_MSG(!reads_only(sql), "a deferred statement is a write");
    auto name = prepared(sql);
    if (!name) return fail(name.error());
    deferred_.push_back(Deferred{*name, std::string(sql), std::move(params), std::move(check)});
    return {};
  }

  // The steps the body left for the end (SqlTransaction::before_commit): they follow its last
  // statement, which then neither ran alone nor committed (query_last).
  Result<void> finish() {
    RELIANT_ASSERT_MSG(!(alone_ || committed_) || !has_steps_before_commit(),
                       "a step queued after the body's last statement committed");
    last_done_ = false;
    return run_steps_before_commit();
  }

  Result<void> commit() {
    if (failed_deferred_) {
      roll_back();
      return fail(*failed_deferred_);
    }
    if (!deferred_.empty()) {
      // The deferred statements with the COMMIT, unless a check must see their rows first.
      const bool with_commit = !deferred_checked();
      auto results = carry({}, with_commit, "the deferred statements");
      if (!results) {
        roll_back();  // the server skipped the COMMIT: the transaction is open, and failed
        return fail(results.error());
      }
      if (with_commit) return committed_by(results->back().get(), "COMMIT");
    }
    RELIANT_ASSERT(begun_ && !committed_);
    PgResult result(PQexec(connection_.handle, "COMMIT"));
    return committed_by(result.get(), "COMMIT");
  }

  void roll_back() {
    deferred_.clear();
    if (!begun_ || committed_ || connection_.lost()) return;
    PgResult ignored(PQexec(connection_.handle, "ROLLBACK"));
  }

 private:
  Result<SqlRows> exec(std::string_view sql, const std::vector<SqlValue>& params, bool committing,
                       bool count_affected = false) {
    auto name = prepared(sql);
    if (!name) return fail(name.error());
    const TextParams text(params);
    const Sent statement{*name, &text, nullptr};
    PgResult result;
    PgResult commit_result;
    bool commit_after = false;  // a deferred check holds the COMMIT back (carry)
    if (!deferred_.empty()) {   // the deferred statements go first, in the same round trip
      const bool with_commit = committing && !deferred_checked();
      commit_after = committing && !with_commit;
      auto results = carry({statement}, with_commit, sql);
      if (!results) return fail(results.error());
      result = std::move(results->front());
      if (with_commit) commit_result = std::move(results->back());
    } else if (!begun_ && !alone_ && !reads_only(sql)) {  // this statement begins the transaction
      RELIANT_ASSERT(!committing);
      auto results = send({statement}, true, sql);
      if (!results) return fail(results.error());
      result = std::move(results->front());
    } else if (committing) {  // the transaction's last statement, and its COMMIT
      std::vector<PgResult> results =
          pipeline(connection_, {statement, Sent{nullptr, nullptr, "COMMIT"}});
      if (results.empty()) return statement_error(connection_, nullptr, sql, true);
      result = std::move(results[0]);
      commit_result = std::move(results[1]);
    } else {
      result.reset(PQexecPrepared(connection_.handle, name.value()->c_str(), text.count(),
                                  text.values(), nullptr, nullptr, 0));
    }
    if (!succeeded(result.get())) return statement_error(connection_, result.get(), sql, alone_);
    if (commit_result != nullptr) {
      if (auto ok = committed_by(commit_result.get(), sql); !ok) return fail(ok.error());
    }
    if (commit_after) {
      if (auto ok = commit(); !ok) return fail(ok.error());
    }
    if (count_affected) {
      const char* affected = PQcmdTuples(result.get());
      affected_ = 0;
      std::from_chars(affected, affected + std::strlen(affected), affected_);
    }
    return rows_of(result.get());
  }

  // Sends `statements` in one round trip, after a BEGIN when `begins` (whose result is checked
  // here), and gives their results in order. `first_sql` names the first, for errors.
  Result<std::vector<PgResult>> send(std::vector<Sent> statements, bool begins,
                                     std::string_view first_sql) {
    if (begins) statements.insert(statements.begin(), Sent{nullptr, nullptr, "BEGIN"});
    std::vector<PgResult> results = pipeline(connection_, statements);
    if (results.empty()) {
      return statement_error(connection_, nullptr, begins ? "BEGIN" : first_sql, false);
    }
    if (begins) {
      if (!succeeded(results[0].get())) {
        return statement_error(connection_, results[0].get(), "BEGIN", false);
      }
      begun_ = true;
      results.erase(results.begin());
    }
    return results;
  }

  // Sends the deferred statements, then `statements`, then the COMMIT when `committing`, in one
  // round trip (after a BEGIN when none went out yet: deferred statements write). Checks the
  // deferred ones — a failure, or a check's refusal, is the error; the server skipped what
  // followed a failed one, the COMMIT with it — and returns the results of the rest.
  Result<std::vector<PgResult>> carry(std::vector<Sent> statements, bool committing,
                                      std::string_view first_sql) {
    std::vector<Deferred> deferred = std::move(deferred_);
    deferred_.clear();
    std::vector<TextParams> params;
    params.reserve(deferred.size());  // Sent points into it
    std::vector<Sent> sent;
    const bool begins = !begun_;
    if (begins) sent.push_back(Sent{nullptr, nullptr, "BEGIN"});
    for (const Deferred& d : deferred) {
      sent.push_back(Sent{d.name, &params.emplace_back(d.params), nullptr});
    }
    sent.insert(sent.end(), statements.begin(), statements.end());
    if (committing) sent.push_back(Sent{nullptr, nullptr, "COMMIT"});
    std::vector<PgResult> results = pipeline(connection_, sent);
    if (results.empty()) return statement_error(connection_, nullptr, first_sql, committing);
    std::size_t next = 0;
    if (begins) {
      if (!succeeded(results[next].get())) {
        return statement_error(connection_, results[next].get(), "BEGIN", false);
      }
      begun_ = true;
      ++next;
    }
    for (const Deferred& d : deferred) {
      const PGresult* result = results[next++].get();
      Result<void> ok =
          succeeded(result) ? Result<void>() : statement_error(connection_, result, d.sql, false);
      if (ok && d.check) ok = d.check(rows_of(result));
      if (!ok) {
        // Named as the deferred statement's, not the carrying one's; and remembered, so that
        // the transaction never commits (a refusal left the server's transaction healthy).
        Error error = ok.error();
        error.message = "a deferred statement: " + error.message;
        failed_deferred_ = error;
        return fail(std::move(error));
      }
    }
    results.erase(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(next));
    return results;
  }

  // Whether a deferred statement's rows must be checked before the transaction may commit.
  bool deferred_checked() const {
    return std::any_of(deferred_.begin(), deferred_.end(),
                       [](const Deferred& d) { return static_cast<bool>(d.check); });
  }

  // The statement's name on this connection, prepared on first use.
  Result<const std::string*> prepared(std::string_view sql) {
    auto it = connection_.prepared.find(sql);
    if (it != connection_.prepared.end()) return &it->second;
    std::string name = "r" + std::to_string(connection_.prepared.size() + 1);
    std::string text(sql);
    PgResult result(PQprepare(connection_.handle, name.c_str(), text.c_str(), 0, nullptr));
    if (!succeeded(result.get())) return statement_error(connection_, result.get(), sql, false);
    return &connection_.prepared.emplace(std::move(text), std::move(name)).first->second;
  }

  // What the COMMIT's result says. A transaction in which a statement failed ends in a rollback
  // whatever its COMMIT asks, and the server says ROLLBACK: nothing was written.
  Result<void> committed_by(const PGresult* result, std::string_view sql) {
    if (!succeeded(result)) {
      if (connection_.lost() || result == nullptr) {
        return driver_error(
            ErrorCode::outcome_unknown,
            "connection lost during commit: " + trimmed(PQerrorMessage(connection_.handle)));
      }
      return statement_error(connection_, result, sql, true);
    }
    if (std::string_view(PQcmdStatus(const_cast<PGresult*>(result))) == "ROLLBACK") {
      return driver_error(ErrorCode::internal,
                          "the transaction rolled back at its commit: one of its statements "
                          "had failed");
    }
    committed_ = true;
    return {};
  }

  // A statement held for the next to carry (SqlTransaction::defer).
  struct Deferred {
    const std::string* name;  // prepared on this connection
    std::string sql;          // for errors
    std::vector<SqlValue> params;
    RowsCheck check;
  };

  Connection& connection_;
  std::vector<Deferred> deferred_;
  std::optional<Error> failed_deferred_;  // a deferred statement failed: no commit
  std::int64_t affected_ = 0;
  bool begun_ = false;      // a statement began the transaction (BEGIN went out with it)
  bool committed_ = false;  // the COMMIT went out with the body's last statement, and held
  bool alone_ = false;      // the last statement runs, or ran, as a transaction of its own
  bool last_done_ = false;  // the body's last statement has run
};

void ignore_notice(void*, const char*) {}  // a ROLLBACK of nothing warns; nobody reads it

Result<std::unique_ptr<Connection>> connect(const std::string& url) {
  auto connection = std::make_unique<Connection>(PQconnectdb(url.c_str()));
  if (connection->handle == nullptr) {
    return driver_error(ErrorCode::unavailable,
                        "cannot connect to Postgres at " + redact_url(url) + ": out of memory");
  }
  if (connection->lost()) {
    const std::string why = trimmed(PQerrorMessage(connection->handle));
    const bool malformed =
        why.find("invalid") != std::string::npos || why.find("missing") != std::string::npos;
    return driver_error(malformed ? ErrorCode::invalid_argument : ErrorCode::unavailable,
                        "cannot connect to Postgres at " + redact_url(url) + ": " + why);
  }
  PQsetNoticeProcessor(connection->handle, ignore_notice, nullptr);
  // Every statement is prepared and its shape never changes, so the generic plan is the right
  // one. Left to choose, Postgres re-plans some statements (the engine's multi-CTE append) on
  // every execution: 0.3 ms of planning per step, more than the statement takes to run.
  // A plan stays cached for the connection's life and is made again only when its tables are
  // analyzed, and every statement here is written for an index. A table analyzed while tiny (a
  // new deployment's first minute) would otherwise get plans that scan it whole, kept while it
  // grows until autovacuum analyzes it again: measured on tools/cluster.sh, ANALYZE after six
  // chats took the next 2,400 from 175 to 65-120 chats/s, each step reading the engine's tables
  // through. With sequential scans off, the planner still scans where no index serves.
  PgResult set(PQexec(connection->handle,
                      "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off"));
  if (!succeeded(set.get())) {
    return driver_error(ErrorCode::unavailable, "cannot connect to Postgres at " + redact_url(url) +
                                                    ": " +
                                                    trimmed(PQresultErrorMessage(set.get())));
  }
  return connection;
}

}  // namespace

struct PostgresStore::Connections {
  std::vector<std::unique_ptr<Connection>> each;
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
  if (!connection || connection->lost()) {
    // A lost connection is replaced on next use; until the server is back, callers see
    // `unavailable` and nothing happened.
    connection.reset();
    auto fresh = connect(url_);
    if (!fresh) return driver_error(ErrorCode::unavailable, fresh.error().message);
    connection = std::move(*fresh);
  }
  PostgresTransaction tx(*connection);
  bool threw = false;
  Result<void> outcome = run_guarded(body, tx, threw);
  if (threw && (tx.committed_alone() || tx.committed())) {
    // What it wrote is in; only what it did after its last statement is not.
    return fail(ErrorCode::outcome_unknown, outcome.error().message + " after its commit");
  }
  if (outcome) outcome = tx.finish();
  RELIANT_ASSERT_MSG(outcome || !tx.committed_alone(),
                     "a body failed after its last statement committed");
  RELIANT_ASSERT_MSG(outcome || !tx.committed(), "a body failed after its commit");
  if (!outcome) {
    tx.roll_back();
    return outcome;
  }
  // It only read, or it committed with its last statement.
  if ((!tx.begun() && !tx.deferring()) || tx.committed()) return {};
  return tx.commit();
}

}  // namespace reliant
