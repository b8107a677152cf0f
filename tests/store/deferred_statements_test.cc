// SqlTransaction::defer on SQLite (at once) and Postgres (carried by the next statement, or the
// commit): a deferred write is seen by what follows it and commits with the transaction; its
// failure, or its check's refusal, fails the body and nothing of it commits — inside a group
// commit too, where it fails only its own body.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "adapters/asio/run_blocking.h"
#include "runtime/scope.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/sql_row.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

constexpr const char* kInsert = "INSERT INTO d (k) VALUES ($1)";

class DeferredStatements : public testing_store::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                  if (auto made = tx.execute("CREATE TABLE d (k BIGINT PRIMARY KEY)", {}); !made)
                    return fail(made.error());
                  if (auto one = tx.execute(kInsert, {std::int64_t{1}}); !one)
                    return fail(one.error());
                  return {};
                }).has_value());
  }

  // The keys stored, as "1,2,3".
  std::string keys() {
    std::string listed;
    auto read = transact([&listed](SqlTransaction& tx) -> Result<void> {
      auto rows = tx.query("SELECT k FROM d ORDER BY k", {});
      if (!rows) return fail(rows.error());
      for (const SqlRecord& row : records(*rows)) {
        listed += (listed.empty() ? "" : ",") + std::to_string(row.integer("k"));
      }
      return {};
    });
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return listed;
  }
};

TEST_P(DeferredStatements, TheNextStatementSeesADeferredWrite) {
  std::int64_t seen = 0;
  ASSERT_TRUE(transact([&seen](SqlTransaction& tx) -> Result<void> {
                if (auto d = tx.defer(kInsert, {std::int64_t{2}}); !d) return d;
                auto rows = tx.query("SELECT COUNT(*) AS n FROM d", {});
                if (!rows) return fail(rows.error());
                seen = first_record(*rows).integer("n");
                return {};
              }).has_value());
  EXPECT_EQ(seen, 2);
  EXPECT_EQ(keys(), "1,2");
}

TEST_P(DeferredStatements, TheCommitCarriesWhatNoStatementDid) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                if (auto d = tx.defer(kInsert, {std::int64_t{2}}); !d) return d;
                return tx.defer(kInsert, {std::int64_t{3}});
              }).has_value());
  EXPECT_EQ(keys(), "1,2,3");
  // A body's last statement commits with what it carries, as one transaction.
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                if (auto d = tx.defer(kInsert, {std::int64_t{4}}); !d) return d;
                auto rows = tx.query_last("SELECT COUNT(*) AS n FROM d", {});
                if (!rows) return fail(rows.error());
                if (first_record(*rows).integer("n") != 4)
                  return fail(ErrorCode::internal, "the last statement missed the deferred one");
                return {};
              }).has_value());
  EXPECT_EQ(keys(), "1,2,3,4");
}

TEST_P(DeferredStatements, AFailedDeferredWriteFailsTheBodyAndNothingCommits) {
  // Carried by a statement: the duplicate key is the error, and the statement's insert of 3 is
  // rolled back with the rest.
  auto carried = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto d = tx.defer(kInsert, {std::int64_t{2}}); !d) return d;
    if (auto d = tx.defer(kInsert, {std::int64_t{1}}); !d) return d;
    if (auto r = tx.execute(kInsert, {std::int64_t{3}}); !r) return fail(r.error());
    return {};
  });
  ASSERT_FALSE(carried.has_value());
  EXPECT_EQ(carried.error().code, ErrorCode::already_exists) << carried.error().message;
  // Carried by the commit.
  auto committed = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto r = tx.execute(kInsert, {std::int64_t{4}}); !r) return fail(r.error());
    return tx.defer(kInsert, {std::int64_t{1}});
  });
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, ErrorCode::already_exists) << committed.error().message;
  EXPECT_EQ(keys(), "1");
  // No connection is left inside the failed transaction: every one of the pool's writes again.
  for (std::int64_t k = 10; k < 26; ++k) {
    auto written = transact([k](SqlTransaction& tx) -> Result<void> {
      if (auto d = tx.defer(kInsert, {k}); !d) return d;
      if (auto r = tx.execute("DELETE FROM d WHERE k = $1", {k}); !r) return fail(r.error());
      return {};
    });
    EXPECT_TRUE(written.has_value()) << written.error().message;
  }
  EXPECT_EQ(keys(), "1");
}

TEST_P(DeferredStatements, ACheckSeesTheRowsAndItsRefusalFailsTheBody) {
  std::int64_t returned = 0;
  const auto refuse_five = [&returned](const SqlRows& rows) -> Result<void> {
    returned = first_record(rows).integer("k");
    if (returned == 5) return fail(ErrorCode::failed_precondition, "five is refused");
    return {};
  };
  const auto insert = [&refuse_five](std::int64_t k, bool then_read) -> TransactionBody {
    return [&refuse_five, k, then_read](SqlTransaction& tx) -> Result<void> {
      if (auto d = tx.defer("INSERT INTO d (k) VALUES ($1) RETURNING k", {k}, refuse_five); !d)
        return d;
      if (!then_read) return {};
      auto rows = tx.query("SELECT COUNT(*) AS n FROM d", {});
      if (!rows) return fail(rows.error());
      return {};
    };
  };
  ASSERT_TRUE(transact(insert(2, true)).has_value());
  EXPECT_EQ(returned, 2);
  ASSERT_TRUE(transact(insert(3, false)).has_value());
  EXPECT_EQ(returned, 3);
  for (bool then_read : {true, false}) {
    auto refused = transact(insert(5, then_read));
    ASSERT_FALSE(refused.has_value());
    EXPECT_NE(refused.error().message.find("five is refused"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(returned, 5);
  }
  EXPECT_EQ(keys(), "1,2,3");
}

// Postgres holds the write: a body that makes nothing of the carrying statement's error still
// does not commit it (SQLite ran it at once, and the body saw the error from defer itself).
TEST_P(DeferredStatements, ARefusedWriteNeverCommitsWhateverTheBodyMakesOfIt) {
  if (GetParam() != "postgres") GTEST_SKIP() << "SQLite runs a deferred write at once";
  const auto refuse = [](const SqlRows&) -> Result<void> {
    return fail(ErrorCode::failed_precondition, "refused");
  };
  for (bool then_last : {false, true}) {
    auto ignored = transact([&refuse, then_last](SqlTransaction& tx) -> Result<void> {
      if (auto d = tx.defer(kInsert, {std::int64_t{7}}, refuse); !d) return d;
      (void)tx.query("SELECT COUNT(*) AS n FROM d", {});
      if (then_last) (void)tx.query_last("SELECT COUNT(*) AS n FROM d", {});
      return {};
    });
    ASSERT_FALSE(ignored.has_value());
    EXPECT_NE(ignored.error().message.find("refused"), std::string::npos);
  }
  EXPECT_EQ(keys(), "1");
}

Task<void> defer_insert(Store& store, std::int64_t k, int* errors) {
  // Key 1 exists: bodies of k % 5 == 0 defer a duplicate, after an insert of their own key.
  TransactionBody body = [k](SqlTransaction& tx) -> Result<void> {
    if (auto d = tx.defer(kInsert, {k}); !d) return d;
    if (k % 5 == 0) return tx.defer(kInsert, {std::int64_t{1}});
    return {};
  };
  Task<Result<void>> pending = store.transact(std::move(body));
  Result<void> done = co_await pending;
  if (!done) {
    EXPECT_EQ(done.error().code, ErrorCode::already_exists) << done.error().message;
    ++*errors;
  }
}

TEST_P(DeferredStatements, InAGroupCommitAFailedDeferredWriteFailsOnlyItsBody) {
  GroupCommitStore grouped(*store_, executor_, GroupCommitOptions{8, 1});
  int errors = 0;
  {
    Scope scope(executor_);
    for (std::int64_t k = 10; k < 40; ++k) scope.spawn(defer_insert(grouped, k, &errors));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(errors, 6);  // 10, 15 … 35
  std::string expected = "1";
  for (std::int64_t k = 10; k < 40; ++k) {
    if (k % 5 != 0) expected += "," + std::to_string(k);
  }
  EXPECT_EQ(keys(), expected);
  EXPECT_LT(grouped.batches(), 30u) << "bodies submitted together share transactions";
}

INSTANTIATE_TEST_SUITE_P(Backends, DeferredStatements, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
