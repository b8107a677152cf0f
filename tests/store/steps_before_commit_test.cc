// SqlTransaction::before_commit on SQLite and Postgres: a body's steps run after its statements,
// inside its transaction; a step that fails rolls the whole body back; a body whose last
// statement could commit alone (query_last) keeps it in the transaction while steps wait.
#include <gtest/gtest.h>

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

INSTANTIATE_TEST_SUITE_P(Backends, StepsBeforeCommit, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
