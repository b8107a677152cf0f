// SqliteDatabase: one SQLite connection and synchronous transactions on it — the shared core of
// the monolith's Store (run on a thread of its own) and the simulator's Store (run in virtual
// time).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/text_hash.h"
#include "runtime/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace reliant {

struct SqliteOptions {
  // "FULL" survives power loss at every commit; "NORMAL" (with WAL) may lose the last
  // transactions on power loss but never corrupts. The monolith defaults to NORMAL.
  std::string synchronous = "NORMAL";
  int busy_timeout_ms = 5000;
  // SqliteStore: after this long without a transaction, the WAL is checkpointed and truncated
  // to zero bytes; a checkpoint alone leaves the file at the largest size it ever reached.
  // Zero: never.
  int wal_truncate_idle_ms = 5000;
  // A WAL that a checkpoint emptied is cut back to this size when writing starts over in it
  // (PRAGMA journal_size_limit), so one burst of writes does not keep its size for good.
  std::int64_t journal_size_limit_bytes = 64 << 20;
};

class SqliteDatabase {
 public:
  // Opens (creating if needed) `path`, or an in-memory database for ":memory:". Enables WAL
  // (for files) and foreign keys. The file and its -wal and -shm are made 0600. Fails with
  // `unavailable` when the file cannot be opened.
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

  // Copies the WAL's frames back into the database (file databases only). PASSIVE
  // (`truncate` false) copies what it can without waiting for anyone. TRUNCATE copies every
  // frame and truncates the WAL file to zero bytes; it needs every other connection to be
  // between transactions, and while it waits new writers wait too, so it waits at most
  // `wait_ms` and then fails with `unavailable` (try again later).
  Result<void> checkpoint_wal(bool truncate, int wait_ms = 0);

  // The main database's pages as one byte string (sqlite3_serialize), and a database replaced
  // by such a string: the simulator copies one migrated schema into every seed's database
  // instead of migrating each. Loading is for in-memory databases, before any statement ran;
  // the database stays a plain in-memory one (its pages are copied in, not deserialized).
  Result<std::string> image() const;
  Result<void> load_image(const std::string& image);

 private:
  friend class SqliteTransaction;
  // A prepared statement and, for each of its parameter slots, which $N it is (1-based), so
  // binding needs no name lookups.
  struct Prepared {
    sqlite3_stmt* stmt = nullptr;
    std::vector<int> slot_params;
  };
  SqliteDatabase(sqlite3* db, int busy_timeout_ms) : db_(db), busy_timeout_ms_(busy_timeout_ms) {}
  Result<const Prepared*> prepare(std::string_view sql);
  Result<void> step_once(std::string_view sql);
  Error error(const std::string& context, int code) const;

  sqlite3* db_;
  int busy_timeout_ms_;
  // Prepared statements by SQL text: repositories run the same few statements over and over.
  std::unordered_map<std::string, Prepared, TextHash, std::equal_to<>> statements_;
};

}  // namespace reliant
