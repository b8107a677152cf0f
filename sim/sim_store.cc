// A transaction's life in the simulator: request latency → queue behind earlier ones → maybe a
// slow spell of its own → run and commit at one instant → maybe a fault → reply latency → caller.
#include "sim/sim_store.h"

#include <algorithm>

#include "base/assert.h"
#include "runtime/future.h"

namespace reliant::sim {

SimDatabase::SimDatabase(World& world, Network& network)
    : world_(world), network_(network), random_(world.random().split("database")) {
  auto db = SqliteDatabase::open(":memory:");
  RELIANT_ASSERT_MSG(db.has_value(), "cannot open the simulator's in-memory database");
  db_ = std::move(*db);
}

void SimDatabase::submit(SimExecutor& caller, TransactionBody body, Promise<Result<void>> done) {
  ++stats_.transactions;
  const NodeId node = caller.node();
  const std::uint64_t incarnation = caller.incarnation();
  if (faults_.cut_off.count(node) != 0) {
    // The connection cannot reach the server: it fails after the driver's attempt, nothing ran.
    ++stats_.refused_cut_off;
    world_.schedule(
        world_.now() + 2 * network_.latency(random_), node, incarnation, "db.unreachable", 0,
        [done] { done.set(fail(ErrorCode::unavailable, "database unreachable from this node")); });
    return;
  }
  Instant start = std::max(world_.now() + network_.latency(random_), busy_until_);
  busy_until_ = start;
  // A slow transaction (a lock wait, a cold page, a stalled disk) is late itself; the server
  // goes on with the others meanwhile, as a database with many connections does. Holding every
  // later transaction behind it instead made a few slow draws a backlog that grew without bound
  // under load and outlived the heal.
  if (random_.chance(faults_.slow)) {
    ++stats_.slow;
    start += random_.between(faults_.slow_min, faults_.slow_max);
  }
  world_.schedule(
      start, kWorldNode, 0, "db.transaction", 0,
      [this, node, incarnation, body = std::move(body), done] {
        if (world_.incarnation(node) != incarnation) {
          // The connection died with its process: nothing runs, nobody hears back.
          ++stats_.abandoned;
          return;
        }
        Result<void> outcome;
        if (faults_.outage) {
          ++stats_.refused_in_outage;
          outcome = fail(ErrorCode::unavailable, "database unavailable (outage)");
        } else if (faults_.cut_off.count(node) != 0) {  // cut off while the request travelled
          ++stats_.refused_cut_off;
          outcome = fail(ErrorCode::unavailable, "database unreachable from this node");
        } else if (random_.chance(faults_.fail_before_commit)) {
          ++stats_.failed_before_commit;
          outcome = fail(ErrorCode::unavailable, "connection lost before commit");
        } else {
          outcome = db_->transact(body);
          if (outcome) {
            ++stats_.committed;
            if (random_.chance(faults_.fail_after_commit)) {
              ++stats_.outcome_unknown;
              outcome = fail(ErrorCode::outcome_unknown, "connection lost during commit");
            }
          } else {
            ++stats_.rolled_back;
          }
        }
        world_.schedule(world_.now() + network_.latency(random_), node, incarnation, "db.reply",
                        outcome ? 0 : static_cast<std::uint64_t>(outcome.error().code) + 1,
                        [done, outcome] { done.set(outcome); });
      });
}

Task<Result<void>> SimStore::transact(TransactionBody body) {
  auto [promise, future] = make_promise<Result<void>>(executor_);
  database_.submit(executor_, std::move(body), promise);
  Result<void> outcome = co_await future;
  co_return outcome;
}

}  // namespace reliant::sim
