// SqliteStore on a database file: once the store has been idle for a while its WAL is
// truncated to zero bytes (a checkpoint alone kept a 445 MB WAL for good), and nothing written
// is lost by it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "adapters/asio/asio_executor.h"
#include "adapters/sqlite/sqlite_store.h"
#include "runtime/scope.h"
#include "unit/support/real_loop.h"
#include "unit/support/temp_dir.h"

namespace reliant {
namespace {

namespace fs = std::filesystem;

std::uintmax_t size_or_zero(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

// Runs `body` in one transaction on `store` and records its outcome.
Task<void> transact(Store* store, TransactionBody body, std::optional<Result<void>>* outcome) {
  Task<Result<void>> running = store->transact(std::move(body));
  Result<void> done = co_await running;
  *outcome = std::move(done);
}

struct Fixture {
  testing::TempDir dir{"reliant-sqlite"};
  AsioExecutor executor;
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Scope> scope;

  explicit Fixture(int idle_ms) {
    SqliteOptions options;
    options.wal_truncate_idle_ms = idle_ms;
    auto opened = SqliteStore::open(executor, (dir.path / "reliant.db").string(), options);
    EXPECT_TRUE(opened.has_value()) << opened.error().message;
    if (opened) store = std::move(*opened);
    scope = std::make_unique<Scope>(executor);
  }
  ~Fixture() {
    scope.reset();
    store.reset();
  }
  Result<void> run(TransactionBody body) {
    std::optional<Result<void>> outcome;
    scope->spawn(transact(store.get(), std::move(body), &outcome));
    EXPECT_TRUE(testing::run_until(
        executor, [&] { return outcome.has_value(); }, std::chrono::seconds(60)));
    if (!outcome) return fail(ErrorCode::timeout, "the transaction did not finish");
    return std::move(*outcome);
  }
  fs::path wal() const { return dir.path / "reliant.db-wal"; }
};

// Writes `rows` rows of 4 KiB in one transaction.
TransactionBody write_rows(int rows) {
  return [rows](SqlTransaction& tx) -> Result<void> {
    const std::string body(4096, 'x');
    for (int i = 0; i < rows; ++i) {
      auto inserted = tx.execute("INSERT INTO blobs (body) VALUES ($1)", {body});
      if (!inserted) return fail(inserted.error());
    }
    return {};
  };
}

TEST(SqliteStore, TruncatesTheWalOnceIdle) {
  Fixture f(1500);
  ASSERT_TRUE(f.store);
  auto created = f.run([](SqlTransaction& tx) -> Result<void> {
    auto made = tx.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", {});
    if (!made) return fail(made.error());
    return {};
  });
  ASSERT_TRUE(created.has_value()) << created.error().message;
  auto written = f.run(write_rows(2000));  // 8 MB through the WAL
  ASSERT_TRUE(written.has_value()) << written.error().message;
  EXPECT_GT(size_or_zero(f.wal()), 4u << 20) << "the write went through the WAL";

  EXPECT_TRUE(testing::run_until(
      f.executor, [&] { return size_or_zero(f.wal()) == 0; }, std::chrono::seconds(20)))
      << "the WAL is still " << size_or_zero(f.wal()) << " bytes";

  // Nothing was lost, and the store goes on: more writes, then idle, then empty again.
  auto counted = std::make_shared<std::int64_t>(0);
  auto read = f.run([counted](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT COUNT(*) FROM blobs", {});
    if (!rows) return fail(rows.error());
    *counted = std::get<std::int64_t>(rows->rows.at(0).at(0));
    return {};
  });
  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(*counted, 2000);
  ASSERT_TRUE(f.run(write_rows(500)).has_value());
  EXPECT_GT(size_or_zero(f.wal()), 0u);
  EXPECT_TRUE(testing::run_until(
      f.executor, [&] { return size_or_zero(f.wal()) == 0; }, std::chrono::seconds(20)));
}

TEST(SqliteStore, LeavesTheWalAloneWhenTruncatingIsOff) {
  Fixture f(0);
  ASSERT_TRUE(f.store);
  auto created = f.run([](SqlTransaction& tx) -> Result<void> {
    auto made = tx.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", {});
    if (!made) return fail(made.error());
    return {};
  });
  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_TRUE(f.run(write_rows(300)).has_value());
  testing::run_for(f.executor, std::chrono::milliseconds(1500));
  EXPECT_GT(size_or_zero(f.wal()), 0u) << "checkpoints alone keep the file";
}

}  // namespace
}  // namespace reliant
