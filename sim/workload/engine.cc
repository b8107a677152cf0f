// Engine clients, simulated workers and the end-of-run database checks.
#include "sim/workload/engine.h"

#include <algorithm>

#include "adapters/sqlite/sqlite_database.h"
#include "core/engine/builtin_workflows.h"
#include "core/engine/run_state.h"
#include "runtime/sleep.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {

using engine::Json;

EngineClient::EngineClient(Env& env, std::string name, EngineClientConfig config,
                           EngineClientStats& stats)
    : env_(env),
      name_(std::move(name)),
      config_(config),
      stats_(stats),
      backoff_(BackoffPolicy{milliseconds(100), seconds(5), 2.0, 0.5}),
      scope_(env.executor) {
  scope_.spawn(start_all());
}

Task<void> EngineClient::start_all() {
  for (std::int64_t i = 1; i <= config_.runs; ++i) {
    const std::string id = name_ + "-" + std::to_string(i);
    if (std::find(stats_.started.begin(), stats_.started.end(), id) != stats_.started.end())
      continue;
    co_await sleep(env_.executor, config_.interval);
    Json input{
        {"steps", env_.random.between(config_.steps_min, config_.steps_max)},
        {"payload", id},
        {"delay_ms", to_ms(env_.random.between(config_.step_delay_min, config_.step_delay_max))},
        {"heartbeat_timeout_ms", to_ms(config_.heartbeat_timeout)},
        {"start_to_close_ms", to_ms(config_.start_to_close)},
        {"max_attempts", config_.attempts_max}};
    const engine::NewRun run{id, kEngineQueue, "echo_chain", std::move(input)};
    for (;;) {
      const std::int64_t now_ms = to_ms(env_.executor.now());
      TransactionBody body = [run, now_ms, dialect = env_.store->dialect()](SqlTransaction& tx) {
        return engine::start_run(tx, dialect, run, now_ms);
      };
      Task<Result<void>> starting = env_.store->transact(std::move(body));
      Result<void> started = co_await starting;
      if (started || started.error().code == ErrorCode::already_exists) break;
      ++stats_.start_retries;  // unavailable or outcome unknown: the same id makes retrying safe
      co_await sleep(env_.executor, backoff_.next(env_.random));
    }
    backoff_.reset();
    stats_.started.push_back(id);
    (void)env_.bus->publish(engine::wake_subject(kEngineQueue), "");
  }
}

EngineRegistries::EngineRegistries() {
  engine::register_builtin_workflows(workflows);
  engine::register_builtin_activities(activities);
}

namespace {
engine::WorkerConfig worker_config(Env& env, const std::string& name, const EngineWorkerSettings& s,
                                   const Swarm& swarm) {
  engine::WorkerConfig config;
  swarm.apply(config);
  config.worker_id = name + "/" + std::to_string(env.random.next() % 1'000'000);
  config.queue = kEngineQueue;
  config.poll_interval = s.poll_interval;
  config.reap_interval = s.reap_interval;
  config.decision_lease = s.decision_lease;
  config.batch = s.batch;
  return config;
}
}  // namespace

SimWorker::SimWorker(Env& env, const std::string& name, const EngineWorkerSettings& settings,
                     const Swarm& swarm, const EngineRegistries& registries,
                     engine::WorkerStats& total)
    : total_(total),
      worker_(env, worker_config(env, name, settings, swarm), registries.workflows,
              registries.activities) {}

SimWorker::~SimWorker() { add_stats(total_, worker_.stats()); }

void add_stats(engine::WorkerStats& total, const engine::WorkerStats& more) {
  total.claimed += more.claimed;
  total.eager += more.eager;
  total.decisions += more.decisions;
  total.dropped_decisions += more.dropped_decisions;
  total.activities_run += more.activities_run;
  total.activities_failed += more.activities_failed;
  total.results_ignored += more.results_ignored;
  total.timers_fired += more.timers_fired;
  total.reaped += more.reaped;
  total.store_errors += more.store_errors;
}

EngineSummary check_engine(SqliteDatabase& db, Instant now,
                           const std::vector<std::string>& invariants,
                           const std::vector<ClientExpectation>& clients, Checker& checker) {
  const auto checks = [&](const char* name) {
    return std::find(invariants.begin(), invariants.end(), name) != invariants.end();
  };
  EngineSummary summary;
  auto read = db.transact([&](SqlTransaction& tx) -> Result<void> {
    auto runs =
        tx.query("SELECT id, status, input_json, result_json FROM workflow_runs ORDER BY id", {});
    if (!runs) return fail(runs.error());
    for (const SqlRecord& row : records(*runs)) {
      const std::string id = row.text("id");
      auto status_read = row.enumerated("status", engine::kRunStatusNames);
      if (!status_read) return fail(status_read.error());
      const engine::RunStatus status = *status_read;
      ++summary.runs;
      summary.completed += status == engine::RunStatus::completed;
      summary.failed += status == engine::RunStatus::failed;
      summary.cancelled += status == engine::RunStatus::cancelled;
      summary.running += status == engine::RunStatus::running;
      auto history = engine::load_history(tx, id);
      if (!history) return fail(history.error());
      auto state = engine::RunState::fold(*history);
      if (!state && checks("results_once")) {
        checker.violation(now, "results_once", "run " + id + ": " + state.error().message);
        continue;
      }
      if (checks("runs_end_once")) {
        const auto terminals = std::count_if(
            history->begin(), history->end(),
            [](const engine::HistoryEvent& e) { return engine::is_terminal(e.kind); });
        if (status == engine::RunStatus::running || terminals != 1 ||
            !engine::is_terminal(history->back().kind)) {
          checker.violation(now, "runs_end_once",
                            "run " + id + " is " + std::string(engine::to_string(status)) +
                                " with " + std::to_string(terminals) +
                                " terminal event(s) after every fault was healed");
        }
      }
      if (checks("results_once") && status == engine::RunStatus::completed) {
        const Json input = Json::parse(row.text("input_json"), nullptr, false);
        const Json result = Json::parse(row.text("result_json"), nullptr, false);
        const auto steps = input.value("steps", std::int64_t{0});
        bool in_order = result.is_object() && result["outputs"].is_array() &&
                        static_cast<std::int64_t>(result["outputs"].size()) == steps;
        for (std::int64_t s = 0; in_order && s < steps; ++s) {
          in_order = result["outputs"][static_cast<std::size_t>(s)].value("step",
                                                                          std::int64_t{0}) == s + 1;
        }
        if (!in_order) {
          checker.violation(now, "results_once",
                            "run " + id + " completed with " + result.dump() + " for " +
                                std::to_string(steps) + " steps");
        }
      }
    }
    auto open = tx.query("SELECT COUNT(*) AS tasks FROM engine_tasks", {});  // retired: deleted
    if (!open) return fail(open.error());
    summary.tasks_open = first_record(*open).integer("tasks");
    if (checks("queues_drain") && summary.tasks_open > 0) {
      checker.violation(
          now, "queues_drain",
          std::to_string(summary.tasks_open) + " task(s) still ready or leased at the end");
    }
    return {};
  });
  if (!read)
    checker.violation(now, "results_once", "cannot read the database: " + read.error().message);
  if (checks("runs_end_once")) {
    for (const auto& client : clients) {
      if (static_cast<std::int64_t>(client.stats->started.size()) < client.runs) {
        checker.violation(now, "runs_end_once",
                          client.name + " started only " +
                              std::to_string(client.stats->started.size()) + " of " +
                              std::to_string(client.runs) + " runs");
      }
    }
  }
  return summary;
}

}  // namespace reliant::sim
