// GroupCommitStore: a Store that runs transactions submitted while the database is busy
// together, in one database transaction — one commit (one fsync) for many small steps.
//
// A batch first runs without savepoints (each costs a round trip); if a body fails, the batch is
// rolled back and rerun with each body inside its own SAVEPOINT, so a failing body is rolled back
// alone and gets its own error; the others commit. Bodies must therefore be safe to run again
// after a rollback — true of any transaction body, which touches only the transaction. If the
// shared transaction itself fails (connection lost, commit outcome unknown), every body in it gets
// that error — callers handle it as they would for a transaction of their own — except
// `unavailable`, which means nothing was committed: then each body runs again in a transaction of
// its own, as does a body that failed `unavailable` inside a committed batch. Two batches running
// at once can deadlock where their bodies alone never would (each body takes its locks in one
// order, but a batch holds the locks of its earlier bodies while it waits), and the server breaks
// the deadlock by rolling one of them back.
#pragma once

#include <cstddef>
#include <deque>

#include "runtime/future.h"
#include "runtime/scope.h"
#include "runtime/store.h"

namespace reliant {

struct GroupCommitOptions {
  std::size_t batch_max = 32;     // bodies per database transaction
  std::size_t in_flight_max = 4;  // database transactions at once (the pool size)
  // Bodies a transaction needs to start while eager_in_flight others are. The first ones take
  // whatever is queued, so a lone body waits for nothing but transactions already running; one
  // more in flight costs the database a commit and lock and CPU contention, worth it for a batch
  // and not for a body or two (Postgres on 2 cores, 4 slots, no-op workflow nodes: taking any
  // queue made batches of 2.3 bodies; waiting for 8 made batches of 8 and 25-50% more nodes/s).
  std::size_t overlap_batch = 8;
  // Transactions that start on whatever is queued. With one, a body that came while a batch ran
  // waited for its commit, although the database had room: chats on a quiet cluster (8 clients)
  // spent their time in that queue. Two keep one committing while the next runs; batches under
  // load stay at 8 (bench_engine, Postgres fsync on, 32 clients: 8.2 bodies a transaction).
  std::size_t eager_in_flight = 2;
};

class GroupCommitStore final : public Store {
 public:
  GroupCommitStore(Store& inner, Executor& executor, GroupCommitOptions options = {});

  SqlDialect dialect() const override { return inner_.dialect(); }
  Task<Result<void>> transact(TransactionBody body) override;

  std::uint64_t batches() const { return batches_; }
  std::uint64_t bodies() const { return bodies_; }
  // Batches rerun with savepoints because a body failed.
  std::uint64_t reruns() const { return reruns_; }
  // Bodies run again in a transaction of their own after a batch could not take them.
  std::uint64_t alone() const { return alone_; }

 private:
  struct Pending {
    TransactionBody body;
    Promise<Result<void>> done;
  };
  // Whether the queue should leave as a transaction now (options_.overlap_batch).
  bool worth_a_transaction() const;
  void flush_if_possible();
  Task<void> flush(std::vector<Pending> batch);

  Store& inner_;
  GroupCommitOptions options_;
  std::deque<Pending> queue_;
  std::size_t in_flight_ = 0;
  std::uint64_t batches_ = 0;
  std::uint64_t bodies_ = 0;
  std::uint64_t reruns_ = 0;
  std::uint64_t alone_ = 0;
  Scope scope_;
};

}  // namespace reliant
