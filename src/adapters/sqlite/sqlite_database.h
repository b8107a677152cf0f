// SqliteDatabase: one SQLite connection and synchronous transactions on it — the shared core of
// the monolith's Store (run on a thread of its own) and the simulator's Store (run in virtual
// time).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "runtime/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace reliant {

struct SqliteOptions {
  // "FULL" survives power loss at every commit; "NORMAL" (with WAL) may lose the last
  // transactions on power loss but never corrupts. The monolith defaults to NORMAL.
  std::string synchronous = "NORMAL";
  int busy_timeout_ms = 5000;
};

class SqliteDatabase {
 public:
  // Opens (creating if needed) `path`, or an in-memory database for ":memory:". Enables WAL
  // (for files) and foreign keys. Fails with `unavailable` when the file cannot be opened.
  static Result<std::unique_ptr<SqliteDatabase>> open(const std::string& path,
                                                      const SqliteOptions& options = {});
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  // Runs `body` inside BEGIN IMMEDIATE … COMMIT (single writer), rolling back when it fails.
  // Not thread-safe: one caller at a time.
  Result<void> transact(const TransactionBody& body);

  // Outside any transaction, e.g. PRAGMAs.
  Result<void> execute_script(const std::string& sql);

 private:
  friend class SqliteTransaction;
  // A prepared statement and, for each of its parameter slots, which $N it is (1-based), so
  // binding needs no name lookups.
  struct Prepared {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> slot_params;
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  explicit SqliteDatabase(sqlite3* db) : db_(db) {}
  Result<const Prepared*> prepare(std::string_view sql);
  Result<void> step_once(std::string_view sql);
  Error error(const std::string& context, int code) const;

  sqlite3* db_;
  // Prepared statements by SQL text: repositories run the same few statements over and over.
  std::unordered_map<std::string, Prepared, TextHash, std::equal_to<>> statements_;
};

}  // namespace reliant
