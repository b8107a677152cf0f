// Engine workload: clients start echo_chain runs through the (faulty) store while real Workers
// run them; at the end the database itself is checked — every run ended exactly once, every
// step's result counted once, histories gapless, queues drained.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/engine/workflow.h"
#include "runtime/env.h"
#include "runtime/scope.h"
#include "services/worker/worker.h"
#include "sim/checker.h"
#include "sim/swarm.h"
#include "sim/workload/engine_config.h"
#include "sim/world.h"

namespace reliant {
class SqliteDatabase;
}

namespace reliant::sim {

// What an engine client did; kept outside the component so it survives crashes.
struct EngineClientStats {
  std::vector<std::string> started;  // run ids whose start is known to have committed
  std::uint64_t start_retries = 0;
};

inline constexpr const char* kEngineQueue = "sim";

// Starts `config.runs` echo_chain runs named "<name>-<i>", one per interval. A start whose outcome
// is unknown is retried with the same id; `already_exists` then means it had committed.
class EngineClient {
 public:
  EngineClient(Env& env, std::string name, EngineClientConfig config, EngineClientStats& stats);

 private:
  Task<void> start_all();

  Env& env_;
  std::string name_;
  EngineClientConfig config_;
  EngineClientStats& stats_;
  Backoff backoff_;
  Scope scope_;
};

// The registries every simulated worker shares (immutable once built).
struct EngineRegistries {
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  EngineRegistries();
};

// A worker plus the bookkeeping that keeps its counters across crashes.
class SimWorker {
 public:
  // The swarm's settings first, then the scenario's (which win where both set one).
  SimWorker(Env& env, const std::string& name, const EngineWorkerSettings& settings,
            const Swarm& swarm, const EngineRegistries& registries, engine::WorkerStats& total);
  ~SimWorker();
  const engine::WorkerStats& stats() const { return worker_.stats(); }

 private:
  engine::WorkerStats& total_;
  engine::Worker worker_;
};

void add_stats(engine::WorkerStats& total, const engine::WorkerStats& more);

struct EngineSummary {
  std::int64_t runs = 0, completed = 0, failed = 0, cancelled = 0, running = 0;
  std::int64_t tasks_open = 0;
};

// Reads the whole database and checks the engine's invariants (those the scenario names).
struct ClientExpectation {
  std::string name;
  const EngineClientStats* stats;
  std::int64_t runs;
};
EngineSummary check_engine(SqliteDatabase& db, Instant now,
                           const std::vector<std::string>& invariants,
                           const std::vector<ClientExpectation>& clients, Checker& checker);

}  // namespace reliant::sim
