// SqliteDatabase's images, as the simulator uses them: a migrated database's pages copied into a
// fresh in-memory one, which then works like any database (reads, commits, rollbacks), and an
// image that is not one refused with an error.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "adapters/sqlite/sqlite_database.h"

namespace reliant {
namespace {

std::unique_ptr<SqliteDatabase> in_memory() {
  auto opened = SqliteDatabase::open(":memory:");
  EXPECT_TRUE(opened.has_value()) << opened.error().message;
  return opened ? std::move(*opened) : nullptr;
}

// The `n` column of table t, summed: what the database holds, in one number.
std::int64_t sum_of_n(SqliteDatabase& db) {
  std::int64_t sum = -1;
  const auto read = db.transact([&sum](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT COALESCE(SUM(n), 0) AS total FROM t", {});
    if (!rows) return fail(rows.error());
    sum = std::get<std::int64_t>(rows->rows.at(0).at(0));
    return {};
  });
  EXPECT_TRUE(read.has_value()) << read.error().message;
  return sum;
}

TEST(SqliteImage, ACopiedImageHoldsTheSchemaAndRowsAndCommitsAndRollsBackOnItsOwn) {
  auto original = in_memory();
  ASSERT_TRUE(original);
  ASSERT_TRUE(original
                  ->execute_script("CREATE TABLE t (n INTEGER NOT NULL); "
                                   "CREATE INDEX t_n ON t(n); "
                                   "INSERT INTO t VALUES (1), (2), (3);")
                  .has_value());
  auto image = original->image();
  ASSERT_TRUE(image.has_value()) << image.error().message;

  auto copy = in_memory();
  ASSERT_TRUE(copy);
  ASSERT_TRUE(copy->load_image(*image).has_value());
  EXPECT_EQ(sum_of_n(*copy), 6);

  // A commit lands in the copy only.
  ASSERT_TRUE(copy->transact([](SqlTransaction& tx) -> Result<void> {
                    auto inserted = tx.execute("INSERT INTO t VALUES ($1)", {std::int64_t{10}});
                    if (!inserted) return fail(inserted.error());
                    return {};
                  })
                  .has_value());
  EXPECT_EQ(sum_of_n(*copy), 16);
  EXPECT_EQ(sum_of_n(*original), 6);

  // A failed body rolls back what it wrote.
  const auto failed = copy->transact([](SqlTransaction& tx) -> Result<void> {
    auto inserted = tx.execute("INSERT INTO t VALUES ($1)", {std::int64_t{100}});
    if (!inserted) return fail(inserted.error());
    return fail(ErrorCode::internal, "the body gives up");
  });
  EXPECT_FALSE(failed.has_value());
  EXPECT_EQ(sum_of_n(*copy), 16);

  // The same image loads again, unchanged by what its copies did.
  auto second = in_memory();
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->load_image(*image).has_value());
  EXPECT_EQ(sum_of_n(*second), 6);
}

TEST(SqliteImage, BytesThatAreNoDatabaseAreRefused) {
  auto db = in_memory();
  ASSERT_TRUE(db);
  const auto loaded = db->load_image(std::string(4096, 'x'));
  ASSERT_FALSE(loaded.has_value());
  EXPECT_FALSE(loaded.error().message.empty());
}

}  // namespace
}  // namespace reliant
