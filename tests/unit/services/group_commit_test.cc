// Group commit's choice of when a queue leaves as a transaction: the first `eager_in_flight`
// transactions take any queue at once; one more starts only for `overlap_batch` bodies.
// Transactions are held by the test until it releases them, so "in flight" is exact.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runtime/future.h"
#include "runtime/scope.h"
#include "services/storage/group_commit_store.h"
#include "sim/network.h"
#include "sim/sim_executor.h"
#include "sim/sim_store.h"
#include "sim/world.h"

namespace reliant {
namespace {

// A Store whose transactions wait, before they reach the database, for the test to release them.
class HeldStore final : public Store {
 public:
  HeldStore(Store& inner, Executor& executor) : inner_(inner), executor_(executor) {}
  SqlDialect dialect() const override { return inner_.dialect(); }
  Task<Result<void>> transact(TransactionBody body) override {
    auto [release, released] = make_promise<bool>(executor_);
    held_.push_back(release);
    co_await released;
    Task<Result<void>> pending = inner_.transact(std::move(body));
    Result<void> done = co_await pending;
    co_return done;
  }
  std::size_t started() const { return held_.size(); }
  void release(std::size_t i) { held_.at(i).set(true); }

 private:
  Store& inner_;
  Executor& executor_;
  std::vector<Promise<bool>> held_;
};

struct Node {
  sim::World world{7};
  sim::Network network{milliseconds(0), milliseconds(0)};
  sim::SimDatabase database{world, network};
  sim::SimExecutor executor{world, world.add_node("worker")};
  sim::SimStore store{database, executor};
  HeldStore held{store, executor};

  void run_until_idle() {
    while (world.step()) {
    }
  }
};

Task<void> submit_counted(Store& store, int* ran, std::optional<Result<void>>* out) {
  Task<Result<void>> pending = store.transact([ran](SqlTransaction&) -> Result<void> {
    ++*ran;
    return {};
  });
  *out = co_await pending;
}

// A group commit over the held store, and `bodies` bodies to submit one at a time.
struct Grouped {
  Grouped(GroupCommitOptions options, std::size_t bodies)
      : grouped(n.held, n.executor, options), done(bodies) {}
  // Submits body `i` and lets everything that can happen happen.
  void submit(std::size_t i) {
    scope.spawn(submit_counted(grouped, &ran, &done.at(i)));
    n.run_until_idle();
  }
  // Lets the `i`-th transaction to start reach the database.
  void release(std::size_t i) {
    n.held.release(i);
    n.run_until_idle();
  }
  bool committed(std::size_t i) const { return done.at(i) && done.at(i)->has_value(); }

  Node n;
  GroupCommitStore grouped;
  int ran = 0;
  std::vector<std::optional<Result<void>>> done;
  Scope scope{n.executor};
};

TEST(GroupCommit, ASecondTransactionStartsOnlyForABatchWorthIt) {
  Grouped g(
      GroupCommitOptions{
          .batch_max = 32, .in_flight_max = 4, .overlap_batch = 3, .eager_in_flight = 1},
      5);
  g.submit(0);
  EXPECT_EQ(g.n.held.started(), 1u) << "a lone body leaves at once when nothing is in flight";
  g.submit(1);
  g.submit(2);
  EXPECT_EQ(g.n.held.started(), 1u) << "two queued bodies are not worth a second transaction";
  g.submit(3);
  EXPECT_EQ(g.n.held.started(), 2u) << "three are";
  EXPECT_EQ(g.grouped.batches(), 2u);
  EXPECT_EQ(g.grouped.bodies(), 4u);
  g.submit(4);
  EXPECT_EQ(g.n.held.started(), 2u);

  g.release(0);
  ASSERT_TRUE(g.committed(0));
  EXPECT_EQ(g.n.held.started(), 2u) << "a batch is still in flight; one body waits for it";
  for (std::size_t i = 1; i <= 4; ++i) EXPECT_FALSE(g.done[i].has_value()) << i;

  g.release(1);
  for (std::size_t i = 1; i <= 3; ++i) ASSERT_TRUE(g.committed(i)) << i;
  EXPECT_EQ(g.n.held.started(), 3u) << "with nothing in flight the last body leaves alone";
  g.release(2);
  ASSERT_TRUE(g.committed(4));
  EXPECT_EQ(g.grouped.batches(), 3u);
  EXPECT_EQ(g.grouped.bodies(), 5u);
  EXPECT_EQ(g.ran, 5) << "every body ran once";
}

TEST(GroupCommit, TheEagerTransactionsTakeAnyQueueAndTheNextWaitsForABatch) {
  Grouped g(
      GroupCommitOptions{
          .batch_max = 32, .in_flight_max = 4, .overlap_batch = 3, .eager_in_flight = 2},
      6);
  g.submit(0);
  g.submit(1);
  EXPECT_EQ(g.n.held.started(), 2u) << "the second body leaves at once: one eager slot was free";
  g.submit(2);
  g.submit(3);
  EXPECT_EQ(g.n.held.started(), 2u) << "two queued bodies are not worth a third transaction";
  g.submit(4);
  EXPECT_EQ(g.n.held.started(), 3u) << "three are";
  g.submit(5);
  g.release(0);
  ASSERT_TRUE(g.committed(0));
  EXPECT_EQ(g.n.held.started(), 3u) << "two still in flight: a lone body waits";
  g.release(1);
  ASSERT_TRUE(g.committed(1));
  EXPECT_EQ(g.n.held.started(), 4u) << "one in flight: the lone body leaves";
  g.release(2);
  g.release(3);
  for (std::size_t i = 2; i <= 5; ++i) ASSERT_TRUE(g.committed(i)) << i;
  EXPECT_EQ(g.grouped.batches(), 4u);
  EXPECT_EQ(g.ran, 6) << "every body ran once";
}

TEST(GroupCommit, AnOverlapBatchOfOneOpensATransactionPerQueuedBody) {
  Grouped g(GroupCommitOptions{.batch_max = 32, .in_flight_max = 3, .overlap_batch = 1}, 4);
  for (std::size_t i = 0; i < 4; ++i) g.submit(i);
  EXPECT_EQ(g.n.held.started(), 3u) << "one transaction per body, up to the slots";
  for (std::size_t i = 0; i < 4; ++i) g.release(i);
  for (std::size_t i = 0; i < 4; ++i) ASSERT_TRUE(g.committed(i)) << i;
  EXPECT_EQ(g.ran, 4);
}

// A body that logs its runs and, unless it fails, leaves a step for the end that logs too.
TransactionBody logging_body(std::vector<std::string>& log, std::string name, bool fails) {
  return [&log, name, fails](SqlTransaction& tx) -> Result<void> {
    log.push_back(name);
    if (fails) return fail(ErrorCode::failed_precondition, name + " refused");
    tx.before_commit([&log, name](SqlTransaction&) -> Result<void> {
      log.push_back(name + " step");
      return {};
    });
    return {};
  };
}

Task<void> submit_body(Store& store, TransactionBody body, std::optional<Result<void>>* out) {
  Task<Result<void>> pending = store.transact(std::move(body));
  *out = co_await pending;
}

// The order a batch runs its bodies and their steps in, behind a filler transaction that holds
// the one slot until the bodies have queued.
std::vector<std::string> batch_order(const std::vector<std::pair<std::string, bool>>& bodies,
                                     std::vector<std::optional<Result<void>>>& done) {
  Node n;
  GroupCommitStore grouped(n.held, n.executor, GroupCommitOptions{8, 1});
  std::vector<std::string> log;
  done.assign(bodies.size() + 1, std::nullopt);
  Scope scope(n.executor);
  scope.spawn(submit_body(grouped, logging_body(log, "filler", false), &done[0]));
  n.run_until_idle();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    scope.spawn(
        submit_body(grouped, logging_body(log, bodies[i].first, bodies[i].second), &done[i + 1]));
  }
  n.run_until_idle();
  for (std::size_t i = 0; i < 3; ++i) {
    if (i < n.held.started()) n.held.release(i);
    n.run_until_idle();
  }
  return log;
}

TEST(GroupCommit, StepsBeforeTheCommitRunAfterEveryBodyOfTheBatch) {
  std::vector<std::optional<Result<void>>> done;
  const auto log = batch_order({{"a", false}, {"b", false}}, done);
  EXPECT_EQ(log, (std::vector<std::string>{"filler", "filler step", "a", "b", "a step", "b step"}));
  for (const auto& outcome : done) EXPECT_TRUE(outcome && outcome->has_value());
}

TEST(GroupCommit, RerunWithSavepointsEachBodysStepsRunInsideItsSavepointAndAFailedOnesNever) {
  std::vector<std::optional<Result<void>>> done;
  const auto log = batch_order({{"a", false}, {"c", true}, {"b", false}}, done);
  EXPECT_EQ(log, (std::vector<std::string>{"filler", "filler step", "a", "c",  // optimistic
                                           "a", "a step", "c", "b", "b step"}));
  ASSERT_EQ(done.size(), 4u);
  EXPECT_TRUE(done[1] && done[1]->has_value());
  EXPECT_TRUE(done[2] && !done[2]->has_value());
  EXPECT_TRUE(done[3] && done[3]->has_value());
}

// A commit whose outcome is unknown (the last step carried the COMMIT, and its answer was lost)
// may have happened: the batch is not run again, and every body hears it may have.
TEST(GroupCommit, ABatchWhoseCommitMayHaveHappenedIsNotRunAgain) {
  Node n;
  GroupCommitStore grouped(n.held, n.executor, GroupCommitOptions{8, 1});
  std::vector<std::string> log;
  std::vector<std::optional<Result<void>>> done(3);
  Scope scope(n.executor);
  scope.spawn(submit_body(grouped, logging_body(log, "filler", false), &done[0]));
  n.run_until_idle();
  scope.spawn(submit_body(grouped, logging_body(log, "a", false), &done[1]));
  TransactionBody lost = [&log](SqlTransaction& tx) -> Result<void> {
    log.push_back("b");
    tx.before_commit([](SqlTransaction&) -> Result<void> {
      return fail(ErrorCode::outcome_unknown, "connection lost during commit");
    });
    return {};
  };
  scope.spawn(submit_body(grouped, std::move(lost), &done[2]));
  n.run_until_idle();
  for (std::size_t i = 0; i < 2; ++i) {
    n.held.release(i);
    n.run_until_idle();
  }
  EXPECT_EQ(log, (std::vector<std::string>{"filler", "filler step", "a", "b", "a step"}));
  EXPECT_EQ(n.held.started(), 2u) << "no third transaction: the batch ran once";
  for (std::size_t i : {1u, 2u}) {
    ASSERT_TRUE(done[i] && !done[i]->has_value()) << i;
    EXPECT_EQ(done[i]->error().code, ErrorCode::outcome_unknown) << i;
  }
}

}  // namespace
}  // namespace reliant
