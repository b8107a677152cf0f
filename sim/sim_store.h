// The simulated database: the real SQLite backend (in memory) run in virtual time, with the
// faults a networked database has — latency, errors before commit (nothing happened), errors
// after commit (it happened, the caller cannot know), slow transactions and outages.
//
// SimDatabase is the world's one database server; each SimStore is one process incarnation's
// connection to it. Transactions execute one at a time at a single virtual instant, like
// SQLite's single writer, in the order they arrive, but for a slow one, which runs later and
// holds none of the others back; the reply is a world event for the caller's incarnation, so a
// caller that crashed meanwhile never hears back (but its commit stands). A transaction whose
// caller died before it ran is rolled back without running its body, as a real server rolls back
// what a dead connection left open — the body belongs to the dead incarnation and may use its
// state.
#pragma once

#include <memory>
#include <set>

#include "adapters/sqlite/sqlite_database.h"
#include "runtime/future.h"
#include "runtime/store.h"
#include "sim/network.h"
#include "sim/sim_executor.h"

namespace reliant::sim {

struct StoreFaults {
  double fail_before_commit = 0;
  double fail_after_commit = 0;
  double slow = 0;
  Duration slow_min = milliseconds(100);
  Duration slow_max = seconds(2);
  bool outage = false;       // while set, every transaction fails with `unavailable`
  std::set<NodeId> cut_off;  // nodes that cannot reach the database (the others still can)
};

struct StoreStats {
  std::uint64_t transactions = 0;
  std::uint64_t committed = 0;
  std::uint64_t rolled_back = 0;  // the body failed
  std::uint64_t failed_before_commit = 0;
  std::uint64_t outcome_unknown = 0;
  std::uint64_t slow = 0;
  std::uint64_t refused_in_outage = 0;
  std::uint64_t refused_cut_off = 0;  // from a node partitioned from the database
  std::uint64_t abandoned = 0;        // the caller's process died before the transaction ran
};

class SimDatabase {
 public:
  SimDatabase(World& world, Network& network);

  StoreFaults& faults() { return faults_; }
  const StoreStats& stats() const { return stats_; }
  // Direct access for the runner (the migrated schema it starts from, its end-of-run checks),
  // never from components.
  SqliteDatabase& database() { return *db_; }

 private:
  friend class SimStore;
  void submit(SimExecutor& caller, TransactionBody body, Promise<Result<void>> done);

  World& world_;
  Network& network_;
  Random random_;
  std::unique_ptr<SqliteDatabase> db_;
  StoreFaults faults_;
  StoreStats stats_;
  Instant busy_until_ = kSimEpoch;  // transactions arrive in order: the next starts after this
};

class SimStore final : public Store {
 public:
  SimStore(SimDatabase& database, SimExecutor& executor)
      : database_(database), executor_(executor) {}

  SqlDialect dialect() const override { return SqlDialect::sqlite; }
  Task<Result<void>> transact(TransactionBody body) override;

 private:
  SimDatabase& database_;
  SimExecutor& executor_;
};

}  // namespace reliant::sim
