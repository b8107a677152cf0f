// SqlTransaction::before_commit on SQLite and Postgres: a body's steps run after its statements,
// inside its transaction; a step that fails rolls the whole body back; a body whose last
// statement could commit alone (query_last) keeps it in the transaction while steps wait. And the
// round trips Postgres saves (the BEGIN sent with the first statement, the COMMIT with the last,
// statements sent together) keep every transaction whole.
#include <gtest/gtest.h>

#include "runtime/scope.h"
#include "services/storage/group_commit_store.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class StepsBeforeCommit : public testing_store::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
      auto made = tx.execute("CREATE TABLE s (k BIGINT PRIMARY KEY, v TEXT NOT NULL)", {});
      if (!made) return fail(made.error());
      return {};
    }));
  }

  // The rows of s, as "k=v" in key order.
  std::vector<std::string> rows() {
    std::vector<std::string> out;
    EXPECT_TRUE(transact([&out](SqlTransaction& tx) -> Result<void> {
      auto read = tx.query("SELECT k, v FROM s ORDER BY k", {});
      if (!read) return fail(read.error());
      for (const auto& row : read->rows) {
        out.push_back(std::to_string(std::get<std::int64_t>(row[0])) + "=" +
                      std::get<std::string>(row[1]));
      }
      return {};
    }));
    return out;
  }
};

Result<void> insert(SqlTransaction& tx, std::int64_t k, const std::string& v) {
  auto done = tx.execute("INSERT INTO s (k, v) VALUES ($1, $2)", {k, v});
  if (!done) return fail(done.error());
  return {};
}

TEST_P(StepsBeforeCommit, AStepRunsAfterTheBodysStatementsAndSeesThem) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([](SqlTransaction& end) -> Result<void> {
      auto seen = end.query("SELECT COUNT(*) FROM s", {});
      if (!seen) return fail(seen.error());
      return insert(end, 100,
                    "step saw " + std::to_string(std::get<std::int64_t>(seen->rows[0][0])));
    });
    if (auto ok = insert(tx, 1, "one"); !ok) return ok;
    return insert(tx, 2, "two");
  }));
  EXPECT_EQ(rows(), (std::vector<std::string>{"1=one", "2=two", "100=step saw 2"}));
}

TEST_P(StepsBeforeCommit, AFailingStepRollsTheBodyBack) {
  auto failed = transact([](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([](SqlTransaction&) -> Result<void> {
      return fail(ErrorCode::failed_precondition, "the step refused");
    });
    return insert(tx, 1, "one");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "the step refused");
  EXPECT_TRUE(rows().empty());
}

TEST_P(StepsBeforeCommit, AFailedBodyRunsNoStep) {
  bool ran = false;
  auto failed = transact([&ran](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([&ran](SqlTransaction&) -> Result<void> {
      ran = true;
      return {};
    });
    return fail(ErrorCode::failed_precondition, "the body refused");
  });
  ASSERT_FALSE(failed);
  EXPECT_FALSE(ran);
}

// On Postgres a last statement with no transaction begun would commit alone; a waiting step
// keeps it in the transaction, so the step's failure undoes it too.
TEST_P(StepsBeforeCommit, ALastStatementWaitsForTheSteps) {
  auto failed = transact([](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([](SqlTransaction&) -> Result<void> {
      return fail(ErrorCode::failed_precondition, "the step refused");
    });
    auto last = tx.query_last("INSERT INTO s (k, v) VALUES (1, 'last') RETURNING k", {});
    if (!last) return fail(last.error());
    return {};
  });
  ASSERT_FALSE(failed);
  EXPECT_TRUE(rows().empty()) << "the last statement committed on its own";
}

Result<void> insert_last(SqlTransaction& tx, std::int64_t k, const std::string& v) {
  auto done = tx.query_last("INSERT INTO s (k, v) VALUES ($1, $2) RETURNING k", {k, v});
  if (!done) return fail(done.error());
  if (done->rows.size() != 1) return fail(ErrorCode::internal, "no row returned");
  return {};
}

TEST_P(StepsBeforeCommit, ALastStatementAfterOthersCommitsWithThem) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert(tx, 1, "one"); !ok) return ok;
    return insert_last(tx, 2, "two");
  }));
  auto failed = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert(tx, 3, "three"); !ok) return ok;
    return insert_last(tx, 1, "again");  // a duplicate key: nothing of the body stays
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::already_exists) << failed.error().message;
  EXPECT_EQ(rows(), (std::vector<std::string>{"1=one", "2=two"}));
}

// Only the last step's last statement ends the transaction: a step followed by another runs its
// "last" statement as any other, and the next step's statements still belong to the body.
TEST_P(StepsBeforeCommit, OnlyTheLastStepsLastStatementEndsTheTransaction) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([](SqlTransaction& end) { return insert_last(end, 10, "first step"); });
    tx.before_commit([](SqlTransaction& end) -> Result<void> {
      if (auto ok = insert(end, 11, "second step"); !ok) return ok;
      return insert_last(end, 12, "its last");
    });
    return insert(tx, 1, "body");
  }));
  auto failed = transact([](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([](SqlTransaction& end) { return insert_last(end, 20, "first step"); });
    tx.before_commit([](SqlTransaction& end) { return insert_last(end, 12, "a duplicate"); });
    return insert(tx, 2, "body");
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(rows(),
            (std::vector<std::string>{"1=body", "10=first step", "11=second step", "12=its last"}));
}

TEST_P(StepsBeforeCommit, StatementsSentTogetherRunInOrderAndFailTogether) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    auto results = tx.query_together(
        {{"INSERT INTO s (k, v) VALUES ($1, $2) RETURNING k", {std::int64_t{1}, "one"}},
         {"SELECT COUNT(*) AS n FROM s", {}},
         {"UPDATE s SET v = $2 WHERE k = $1 RETURNING v", {std::int64_t{1}, "changed"}}});
    if (!results) return fail(results.error());
    EXPECT_EQ(results->size(), 3u);
    EXPECT_EQ(std::get<std::int64_t>((*results)[0].rows.at(0).at(0)), 1);
    EXPECT_EQ(std::get<std::int64_t>((*results)[1].rows.at(0).at(0)), 1) << "sees the insert";
    EXPECT_EQ(std::get<std::string>((*results)[2].rows.at(0).at(0)), "changed");
    return {};
  }));
  // Reads alone, before anything began a transaction.
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    auto results = tx.query_together(
        {{"SELECT COUNT(*) AS n FROM s", {}}, {"SELECT v FROM s WHERE k = $1", {std::int64_t{1}}}});
    if (!results) return fail(results.error());
    EXPECT_EQ(std::get<std::string>((*results)[1].rows.at(0).at(0)), "changed");
    return {};
  }));
  auto failed = transact([](SqlTransaction& tx) -> Result<void> {
    auto results = tx.query_together(
        {{"INSERT INTO s (k, v) VALUES ($1, $2) RETURNING k", {std::int64_t{2}, "two"}},
         {"INSERT INTO s (k, v) VALUES ($1, $2) RETURNING k", {std::int64_t{1}, "again"}},
         {"INSERT INTO s (k, v) VALUES ($1, $2) RETURNING k", {std::int64_t{3}, "three"}}});
    if (!results) return fail(results.error());
    return {};
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::already_exists) << failed.error().message;
  EXPECT_EQ(rows(), (std::vector<std::string>{"1=changed"}));
}

Task<void> insert_with_step(Store& store, std::int64_t k, int* failures) {
  Task<Result<void>> writing = store.transact([k](SqlTransaction& tx) -> Result<void> {
    tx.before_commit([k](SqlTransaction& end) { return insert_last(end, 100 + k, "step"); });
    return insert(tx, k, "body");
  });
  Result<void> written = co_await writing;
  if (!written) ++*failures;
}

// In a group commit the batch's last step ends the shared transaction; one body's failing step
// is that body's failure alone.
TEST_P(StepsBeforeCommit, AGroupCommitsLastStepEndsItsBatch) {
  GroupCommitStore grouped(*store_, executor_, GroupCommitOptions{8, 1});
  int failures = 0;
  {
    Scope scope(executor_);
    for (std::int64_t k : {1, 2, 3, 4}) scope.spawn(insert_with_step(grouped, k, &failures));
    scope.spawn(insert_with_step(grouped, 1, &failures));  // a duplicate key
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(failures, 1) << "the second body for key 1";
  EXPECT_EQ(rows(), (std::vector<std::string>{"1=body", "2=body", "3=body", "4=body", "101=step",
                                              "102=step", "103=step", "104=step"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StepsBeforeCommit, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
