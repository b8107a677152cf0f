// Group commit: a queue drained into shared transactions whenever one can start.
#include "services/storage/group_commit_store.h"

#include <algorithm>
#include <memory>

#include "base/assert.h"
#include "runtime/sleep.h"

namespace reliant {

GroupCommitStore::GroupCommitStore(Store& inner, Executor& executor, GroupCommitOptions options)
    : inner_(inner), options_(options), scope_(executor) {
  RELIANT_ASSERT(options_.batch_max >= 1 && options_.in_flight_max >= 1);
  RELIANT_ASSERT(options_.overlap_batch >= 1);
}

Task<Result<void>> GroupCommitStore::transact(TransactionBody body) {
  auto [promise, future] = make_promise<Result<void>>(scope_.executor());
  queue_.push_back(Pending{std::move(body), promise});
  flush_if_possible();
  Result<void> outcome = co_await future;
  co_return outcome;
}

bool GroupCommitStore::worth_a_transaction() const {
  if (queue_.empty() || in_flight_ >= options_.in_flight_max) return false;
  return in_flight_ < options_.eager_in_flight ||
         queue_.size() >= std::min(options_.overlap_batch, options_.batch_max);
}

void GroupCommitStore::flush_if_possible() {
  while (worth_a_transaction()) {
    std::vector<Pending> batch;
    while (!queue_.empty() && batch.size() < options_.batch_max) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    ++in_flight_;
    scope_.spawn(flush(std::move(batch)));
  }
}

namespace {

// Marks the optimistic attempt's deliberate rollback: a body failed, so the batch is rerun with
// savepoints. Not an error any caller sees.
constexpr const char* kRerunWithSavepoints = "group commit: a body failed, rerun with savepoints";

// A batch's shared transaction as one body sees it: a body's last statement is not the batch's,
// so it never runs as a transaction of its own (SqlTransaction::query_last). The last step's is,
// once every body has run (`ending`): the commit may go with it.
class SharedTransaction final : public SqlTransaction {
 public:
  explicit SharedTransaction(SqlTransaction& batch) : batch_(batch) {}
  Result<SqlRows> query(std::string_view sql, const std::vector<SqlValue>& params) override {
    return batch_.query(sql, params);
  }
  Result<SqlRows> query_last(std::string_view sql, const std::vector<SqlValue>& params) override {
    if (ending_ && !has_steps_before_commit()) return batch_.query_last(sql, params);
    return batch_.query(sql, params);
  }
  // The batch's steps run now, and nothing after them.
  void ending() { ending_ = true; }
  Result<std::int64_t> execute(std::string_view sql, const std::vector<SqlValue>& params) override {
    return batch_.execute(sql, params);
  }
  Result<std::vector<SqlRows>> query_together(
      const std::vector<SqlStatement>& statements) override {
    return batch_.query_together(statements);
  }
  // At once: carried by another body's statement, a deferred write's failure would be that
  // body's error, which it may take for one of its own (a run that ended, say).
  Result<void> defer(std::string_view sql, std::vector<SqlValue> params, RowsCheck check) override {
    return SqlTransaction::defer(sql, std::move(params), std::move(check));
  }

 private:
  SqlTransaction& batch_;
  bool ending_ = false;
};

// What the optimistic attempt answers for a failure: rerun the batch with savepoints — unless
// the failure was a commit whose outcome is unknown (a lone body's last statement, or the last
// step's, carried the COMMIT): it may have happened, and a rerun would do it all twice.
Result<void> rerun_unless_committed(const Error& error) {
  if (error.code == ErrorCode::outcome_unknown) return fail(error);
  return fail(ErrorCode::cancelled, kRerunWithSavepoints);
}

// The batch as one transaction. Optimistic: no savepoints (each costs a round trip on Postgres);
// the first failing body aborts the whole attempt. With savepoints: each body is isolated.
TransactionBody batch_body(std::shared_ptr<std::vector<TransactionBody>> bodies,
                           std::shared_ptr<std::vector<Result<void>>> results, bool savepoints) {
  return [bodies, results, savepoints](SqlTransaction& batch) -> Result<void> {
    // A body alone in its batch is its transaction: its last statement may run on its own.
    SharedTransaction shared(batch);
    SqlTransaction& tx = bodies->size() == 1 && !savepoints ? batch : shared;
    for (std::size_t i = 0; i < bodies->size(); ++i) {
      if (!savepoints) {
        Result<void> outcome = (*bodies)[i](tx);
        if (!outcome) return rerun_unless_committed(outcome.error());
        (*results)[i] = std::move(outcome);
        continue;
      }
      if (auto ok = tx.execute("SAVEPOINT group_commit", {}); !ok) return fail(ok.error());
      Result<void> outcome = (*bodies)[i](tx);
      // Isolated, a body's steps before the commit are part of it: inside its savepoint.
      if (outcome) outcome = tx.run_steps_before_commit();
      if (!outcome) tx.drop_steps_before_commit();
      const char* end =
          outcome ? "RELEASE SAVEPOINT group_commit" : "ROLLBACK TO SAVEPOINT group_commit";
      if (auto ok = tx.execute(end, {}); !ok) return fail(ok.error());
      if (!outcome) {
        // ROLLBACK TO keeps the savepoint; release it so savepoints do not pile up.
        if (auto ok = tx.execute("RELEASE SAVEPOINT group_commit", {}); !ok)
          return fail(ok.error());
      }
      (*results)[i] = std::move(outcome);
    }
    // Optimistic, the batch's steps run after all its bodies (the shared view queued them; a
    // lone body's are the inner store's to run). One failing reruns the batch with savepoints.
    if (!savepoints && &tx == &shared) {
      shared.ending();
      if (auto ok = shared.run_steps_before_commit(); !ok)
        return rerun_unless_committed(ok.error());
    }
    return {};
  };
}

}  // namespace

Task<void> GroupCommitStore::flush(std::vector<Pending> batch) {
  ++batches_;
  bodies_ += batch.size();
  auto bodies = std::make_shared<std::vector<TransactionBody>>();
  for (auto& p : batch) bodies->push_back(std::move(p.body));
  auto results = std::make_shared<std::vector<Result<void>>>(bodies->size());
  Task<Result<void>> optimistic = inner_.transact(batch_body(bodies, results, false));
  Result<void> committed = co_await optimistic;
  if (!committed && committed.error().message == kRerunWithSavepoints) {
    ++reruns_;
    Task<Result<void>> isolated = inner_.transact(batch_body(bodies, results, true));
    committed = co_await isolated;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    Result<void> outcome = committed ? (*results)[i] : Result<void>(fail(committed.error()));
    // `unavailable`: nothing of the body was committed (the batch, or its savepoint, rolled
    // back), so it runs once more, alone: one batch's deadlock with another, or a lost
    // connection, is then no body's failure.
    if (!outcome && outcome.error().code == ErrorCode::unavailable && batch.size() > 1) {
      ++alone_;
      Task<Result<void>> again = inner_.transact((*bodies)[i]);
      outcome = co_await again;
    }
    batch[i].done.set(std::move(outcome));
  }
  // Before this slot takes the next batch, the callers just answered (their resumptions are
  // queued on the executor) get to submit their next bodies; taken at once, a batch would hold
  // only what arrived meanwhile (measured on Postgres with 32 callers and 4 slots: 2.8 bodies
  // per transaction).
  co_await sleep(scope_.executor(), Duration::zero());
  --in_flight_;
  flush_if_possible();
}

}  // namespace reliant
