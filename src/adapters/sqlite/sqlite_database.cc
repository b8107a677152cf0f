// SQLite connection, statement cache, $N parameter binding and error mapping.
#include "adapters/sqlite/sqlite_database.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "base/assert.h"

namespace reliant {
namespace {

// An error whose message is SQLite's own text or holds SQL: for the logs, never for a client's
// answer (Error::internal_message).
tl::unexpected<Error> driver_error(ErrorCode code, std::string message) {
  return fail(Error{code, std::move(message), true});
}

// The database holds password and token hashes and every chat: only its owner may read it.
// Everything here goes through the path, never through a descriptor of our own: POSIX drops
// every fcntl lock a process holds on a file when it closes *any* descriptor of that file, so
// opening and closing reliant.db beside a live connection would silently drop SQLite's locks,
// and the next process to open the file (an admin command) would believe itself alone,
// checkpoint and delete the WAL under us. SQLite alone opens the database and its -wal and
// -shm; it gives those two the database file's mode.
void make_private(const std::string& path) {
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat info {};
    if (::stat(file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      ::chmod(file.c_str(), info.st_mode & 0700);
    }
  }
}

}  // namespace

class SqliteTransaction final : public SqlTransaction {
 public:
  explicit SqliteTransaction(SqliteDatabase& db) : db_(db) {}

  Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) override {
    SqlRows rows;
    auto stepped = run(sql, params, &rows);
    if (!stepped) return fail(stepped.error());
    return rows;
  }

  Result<std::int64_t> execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    auto stepped = run(sql, params, nullptr);
    if (!stepped) return fail(stepped.error());
    return static_cast<std::int64_t>(sqlite3_changes(db_.db_));
  }

 private:
  Result<void> run(std::string_view sql, const std::vector<SqlValue>& params, SqlRows* rows) {
    auto prepared = db_.prepare(sql);
    if (!prepared) return fail(prepared.error());
    sqlite3_stmt* stmt = (*prepared)->stmt;
    const std::vector<int>& slot_params = (*prepared)->slot_params;
    // Every statement is reset on the way out so the cache can reuse it.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    // Parameters are written $1, $2, …: slot k of the statement holds $slot_params[k-1], in
    // whatever order they appear.
    for (std::size_t slot = 0; slot < slot_params.size(); ++slot) {
      const auto param = static_cast<std::size_t>(slot_params[slot]);
      if (param < 1 || param > params.size()) {
        return driver_error(ErrorCode::invalid_argument,
                            "statement uses $" + std::to_string(param) + " but " +
                                std::to_string(params.size()) +
                                " parameters were given: " + std::string(sql));
      }
      const int index = static_cast<int>(slot + 1);
      int rc = SQLITE_OK;
      const SqlValue& v = params[param - 1];
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, index);
      } else if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        // SQLITE_STATIC: `params` outlives the statement's use of it (reset on the way out).
        rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return fail(db_.error("bind $" + std::to_string(param), rc));
    }
    if (rows != nullptr) {
      const int columns = sqlite3_column_count(stmt);
      for (int c = 0; c < columns; ++c) rows->columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) return {};
      if (rc != SQLITE_ROW) return fail(db_.error(std::string(sql), rc));
      if (rows == nullptr) continue;
      auto& row = rows->rows.emplace_back();
      for (int c = 0; c < static_cast<int>(rows->columns.size()); ++c) {
        switch (sqlite3_column_type(stmt, c)) {
          case SQLITE_NULL:
            row.emplace_back(nullptr);
            break;
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, c)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt, c));
            break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, c));
            row.emplace_back(std::string(text ? text : "",
                                         static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
          }
        }
      }
    }
  }

  SqliteDatabase& db_;
};

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::open(const std::string& path,
                                                             const SqliteOptions& options) {
  if (options.synchronous != "NORMAL" && options.synchronous != "FULL" &&
      options.synchronous != "OFF") {
    return fail(
        ErrorCode::invalid_argument,
        "sqlite synchronous must be OFF, NORMAL or FULL, got '" + options.synchronous + "'");
  }
  // Before SQLite's first use in the process: no allocation statistics, whose global mutex is
  // taken on every malloc and free SQLite makes. (If SQLite is already initialised this is
  // refused, harmlessly.)
  static const bool configured = [] {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  }();
  (void)configured;
  // Files an older version left readable by others are tightened before SQLite opens them.
  if (path != ":memory:") make_private(path);
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return fail(ErrorCode::unavailable, "cannot open sqlite database '" + path + "': " + message);
  }
  // A file SQLite has just created is empty and made with the umask's mode: made 0600 before
  // the first write, and before the WAL pragma creates -wal and -shm with its mode.
  if (path != ":memory:") make_private(path);
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, options.busy_timeout_ms));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  std::string pragmas =
      "PRAGMA foreign_keys = ON; PRAGMA synchronous = " + options.synchronous + ";";
  if (path != ":memory:") {
    pragmas = "PRAGMA journal_mode = WAL; PRAGMA journal_size_limit = " +
              std::to_string(options.journal_size_limit_bytes) + "; " + pragmas;
  }
  if (auto ok = db->execute_script(pragmas); !ok) {
    return fail(ErrorCode::unavailable,
                "cannot use sqlite database '" + path + "': " + ok.error().message);
  }
  return db;
}

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, prepared] : statements_) sqlite3_finalize(prepared.stmt);
  sqlite3_close(db_);
}

Result<const SqliteDatabase::Prepared*> SqliteDatabase::prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return &it->second;
  const std::string key(sql);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return fail(error(key, rc));
  if (stmt == nullptr) return fail(ErrorCode::invalid_argument, "empty SQL statement");
  if (tail != nullptr &&
      std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos) {
    sqlite3_finalize(stmt);
    return driver_error(ErrorCode::invalid_argument, "one statement at a time, got more: " + key);
  }
  Prepared prepared{stmt, {}};
  for (int slot = 1; slot <= sqlite3_bind_parameter_count(stmt); ++slot) {
    const char* name = sqlite3_bind_parameter_name(stmt, slot);
    if (name == nullptr || name[0] != '$' || std::atoi(name + 1) < 1) {
      sqlite3_finalize(stmt);
      return driver_error(ErrorCode::invalid_argument,
                          "parameters must be written $1, $2, …; got " +
                              std::string(name ? name : "?") + " in: " + key);
    }
    prepared.slot_params.push_back(std::atoi(name + 1));
  }
  return &statements_.emplace(key, std::move(prepared)).first->second;
}

// Runs a parameterless statement from the cache (BEGIN, COMMIT, ROLLBACK).
Result<void> SqliteDatabase::step_once(std::string_view sql) {
  auto prepared = prepare(sql);
  if (!prepared) return fail(prepared.error());
  sqlite3_stmt* stmt = (*prepared)->stmt;
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(error(std::string(sql), rc));
  return {};
}

Error SqliteDatabase::error(const std::string& context, int code) const {
  const std::string message = context + ": " + sqlite3_errmsg(db_);
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT: {
      const int extended = sqlite3_extended_errcode(db_);
      if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error{ErrorCode::already_exists, message, true};
      }
      return Error{ErrorCode::failed_precondition, message, true};
    }
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{ErrorCode::unavailable, message, true};
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return Error{ErrorCode::unavailable, message, true};
    case SQLITE_ERROR:
      return Error{ErrorCode::invalid_argument, message, true};
    default:
      return Error{ErrorCode::internal, message, true};
  }
}

Result<void> SqliteDatabase::execute_script(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return driver_error(ErrorCode::internal, text);
  }
  return {};
}

Result<void> SqliteDatabase::checkpoint_wal(bool truncate, int wait_ms) {
  if (truncate) sqlite3_busy_timeout(db_, wait_ms);
  const int rc = sqlite3_wal_checkpoint_v2(
      db_, nullptr, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, nullptr,
      nullptr);
  if (truncate) sqlite3_busy_timeout(db_, busy_timeout_ms_);
  if (rc != SQLITE_OK) return fail(error("wal_checkpoint", rc));
  return {};
}

Result<std::string> SqliteDatabase::image() const {
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(db_, "main", &size, 0);
  if (bytes == nullptr) return driver_error(ErrorCode::internal, "cannot serialize the database");
  std::string out(reinterpret_cast<const char*>(bytes), static_cast<std::size_t>(size));
  sqlite3_free(bytes);
  return out;
}

Result<void> SqliteDatabase::load_image(const std::string& image) {
  RELIANT_ASSERT_MSG(statements_.empty(), "a database image loaded after statements ran");
  // The image goes into a connection of its own (sqlite3_deserialize: a database in memory,
  // kept in a "file" of the memdb VFS), and from there its pages are copied into this one
  // (sqlite3_backup), which stays a plain in-memory database: deserialized here, every commit
  // would copy each page it wrote from SQLite's cache into that file, a memcpy of the page that
  // a plain in-memory database, whose cache is its storage, does not make.
  sqlite3* source = nullptr;
  if (const int rc = sqlite3_open_v2(":memory:", &source,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
      rc != SQLITE_OK) {
    sqlite3_close(source);
    return driver_error(ErrorCode::unavailable,
                        std::string("cannot open a database for an image: ") + sqlite3_errstr(rc));
  }
  const std::unique_ptr<sqlite3, int (*)(sqlite3*)> closing(source, sqlite3_close);
  // Read in place: READONLY, so SQLite never writes the image's bytes (hence the const_cast),
  // and they outlive `source`, which the copy below is the only reader of.
  auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(image.data()));
  const auto size = static_cast<sqlite3_int64>(image.size());
  if (const int rc =
          sqlite3_deserialize(source, "main", bytes, size, size, SQLITE_DESERIALIZE_READONLY);
      rc != SQLITE_OK) {
    return driver_error(ErrorCode::invalid_argument,
                        std::string("cannot read a database image: ") + sqlite3_errstr(rc));
  }
  sqlite3_backup* copy = sqlite3_backup_init(db_, "main", source, "main");
  if (copy == nullptr) return fail(error("copy an image", sqlite3_errcode(db_)));
  const int stepped = sqlite3_backup_step(copy, -1);
  const int finished = sqlite3_backup_finish(copy);
  if (stepped != SQLITE_DONE) return fail(error("copy an image", stepped));
  if (finished != SQLITE_OK) return fail(error("copy an image", finished));
  return {};
}

Result<void> SqliteDatabase::transact(const TransactionBody& body) {
  if (auto begun = step_once("BEGIN IMMEDIATE"); !begun) {
    return driver_error(ErrorCode::unavailable,
                        "cannot begin a transaction: " + begun.error().message);
  }
  SqliteTransaction tx(*this);
  bool threw = false;
  Result<void> outcome = run_guarded(body, tx, threw);
  if (outcome) outcome = tx.run_steps_before_commit();
  if (!outcome) {
    (void)step_once("ROLLBACK");
    return outcome;
  }
  if (auto committed = step_once("COMMIT"); !committed) {
    (void)step_once("ROLLBACK");
    return driver_error(ErrorCode::unavailable, "commit failed: " + committed.error().message);
  }
  return {};
}

}  // namespace reliant
