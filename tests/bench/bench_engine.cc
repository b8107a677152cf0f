// Durable-engine benchmark: steps per second against the floor of the same backend, measured in
// one run so the ratio holds however fast the machine is today. Run by tools/bench_engine.sh.
//   bench_engine --driver sqlite --sqlite-path /tmp/x.db --synchronous NORMAL
//   bench_engine --driver postgres --url postgres://…/db
//   bench_engine … --smoke      a few of every measurement, to check it still runs (the test suite)
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <utility>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/memory/in_process_bus.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "core/engine/builtin_workflows.h"
#include "core/workflow/engine_workflow.h"
#include "percentile.h"
#include "runtime/sleep.h"
#include "services/engine/engine_sql.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/migrator.h"
#include "services/storage/sql_row.h"
#include "services/worker/worker.h"

namespace reliant {
namespace {

using engine::Json;
using Clock = std::chrono::steady_clock;
using bench::percentile;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `count` transactions from `clients` concurrent submitters; returns per-transaction
// latencies in microseconds and the wall time.
struct Load {
  std::vector<double> latencies_us;
  double wall_s = 0;
  int errors = 0;  // transactions that failed
  double rate() const { return static_cast<double>(latencies_us.size()) / wall_s; }
  void add(const Load& other) {
    latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
    wall_s += other.wall_s;
    errors += other.errors;
  }
};

constexpr int kRounds = 5;

Task<void> submitter(Store& store, std::vector<TransactionBody>* bodies, std::size_t* next,
                     std::vector<double>* latencies, int* errors) {
  while (*next < bodies->size()) {
    TransactionBody body = (*bodies)[(*next)++];
    const auto start = Clock::now();
    Task<Result<void>> pending = store.transact(std::move(body));
    Result<void> done = co_await pending;
    latencies->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (!done) {
      ++*errors;
      std::fprintf(stderr, "transaction failed: %s\n", done.error().message.c_str());
    }
  }
}

// `settle`: first let SQLite's checkpointer (every 100 ms) copy what the set-up wrote — thousands
// of runs for the engine steps — so each measurement pays for its own writes only.
Load run_load(AsioExecutor& executor, Store& store, std::vector<TransactionBody> bodies,
              int clients, std::chrono::milliseconds settle) {
  std::this_thread::sleep_for(settle);
  Load load;
  std::size_t next = 0;
  const auto start = Clock::now();
  {
    Scope scope(executor);
    for (int c = 0; c < clients; ++c)
      scope.spawn(submitter(store, &bodies, &next, &load.latencies_us, &load.errors));
    executor.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  load.wall_s = seconds_since(start);
  if (load.errors > 0) std::fprintf(stderr, "%d transactions failed\n", load.errors);
  return load;
}

Result<void> exec(AsioExecutor& executor, Store& store, std::string sql) {
  return run_blocking(executor, store.transact([sql](SqlTransaction& tx) -> Result<void> {
    auto r = tx.execute(sql, {});
    if (!r) return fail(r.error());
    return {};
  }));
}

// The floor: a bare transaction of one INSERT and one UPDATE (of one of kCounters rows: the
// transactions in flight at once, even batched, never update the same row, as engine steps
// never complete the same task; 16 rows made batches of them deadlock on Postgres).
constexpr std::int64_t kCounters = 1024;

std::vector<TransactionBody> floor_bodies(std::int64_t count, std::int64_t base) {
  std::vector<TransactionBody> bodies;
  for (std::int64_t i = 0; i < count; ++i) {
    bodies.push_back([id = base + i](SqlTransaction& tx) -> Result<void> {
      if (auto r = tx.execute("INSERT INTO bench_floor (id, v) VALUES ($1, $2)", {id, id}); !r)
        return fail(r.error());
      if (auto r = tx.execute("UPDATE bench_counter SET n = n + 1 WHERE id = $1", {id % kCounters});
          !r)
        return fail(r.error());
      return {};
    });
  }
  return bodies;
}

// Engine steps: `count` leased activity tasks, each completed in its own transaction (history
// append + task transition + next decision task).
std::vector<TransactionBody> engine_step_bodies(AsioExecutor& executor, Store& store,
                                                const engine::WorkflowRegistry& workflows,
                                                std::int64_t count, const std::string& prefix) {
  const auto dialect = store.dialect();
  const std::int64_t now = to_ms(executor.now());
  auto claimed = std::make_shared<std::vector<engine::ClaimedTask>>();
  auto prepared = run_blocking(
      executor, store.transact([&, dialect, now, claimed](SqlTransaction& tx) -> Result<void> {
        for (std::int64_t i = 0; i < count; ++i) {
          // Zero-padded like real ids (ULIDs sort by creation time): inserts append to b-trees.
          char id[32];
          std::snprintf(id, sizeof id, "%08lld", static_cast<long long>(i));
          const engine::NewRun run{prefix + id, prefix, "echo_chain", Json{{"steps", 1}}};
          if (auto r = engine::start_run(tx, dialect, run, now); !r) return r;
        }
        auto decisions = engine::claim_tasks(tx, dialect, prefix, "bench", now, 600'000, count);
        if (!decisions) return fail(decisions.error());
        for (const auto& task : *decisions) {
          if (auto r = engine::decide_and_commit(tx, dialect, task, workflows, now); !r)
            return fail(r.error());
        }
        auto activities = engine::claim_tasks(tx, dialect, prefix, "bench", now, 600'000, count);
        if (!activities) return fail(activities.error());
        *claimed = std::move(*activities);
        return {};
      }));
  if (!prepared) {
    std::fprintf(stderr, "prepare: %s\n", prepared.error().message.c_str());
    std::exit(1);
  }
  std::vector<TransactionBody> bodies;
  for (const auto& task : *claimed) {
    bodies.push_back([task, dialect, now](SqlTransaction& tx) -> Result<void> {
      auto r = engine::complete_activity(tx, dialect, task, Json{{"ok", true}}, now);
      if (!r) return fail(r.error());
      return *r ? Result<void>{} : fail(ErrorCode::internal, "result ignored");
    });
  }
  return bodies;
}

// Records when each step's activity starts: the interval between consecutive starts of one chain
// is the engine's per-step overhead (decide, claim, load, complete, wake).
class StampActivity final : public engine::Activity {
 public:
  explicit StampActivity(std::vector<Clock::time_point>* stamps) : stamps_(stamps) {}
  std::string_view name() const override { return "echo"; }
  Task<Result<Json>> run(engine::ActivityContext&, Json input) override {
    stamps_->push_back(Clock::now());
    co_return input;
  }

 private:
  std::vector<Clock::time_point>* stamps_;
};

// Sets *done once no run of the namespace `queue` is running. Polled every 5 ms: it reads the
// runs' status index, so it costs the store little however many tasks the runs made.
Task<void> wait_drained(Store& store, Executor& executor, std::string queue, bool* done) {
  for (;;) {
    Task<Result<std::int64_t>> pending =
        store.transact_for([queue](SqlTransaction& tx) -> Result<std::int64_t> {
          auto rows = tx.query(
              "SELECT COUNT(*) AS running FROM workflow_runs WHERE namespace = $1 AND status = "
              "'running'",
              {queue});
          if (!rows) return fail(rows.error());
          return first_record(*rows).integer("running");
        });
    Result<std::int64_t> running = co_await pending;
    if (running && *running == 0) break;
    co_await sleep(executor, milliseconds(5));
  }
  *done = true;
}

// A work node that does nothing: what is left is the engine's cost of a node.
class NoopNode final : public engine::Activity {
 public:
  std::string_view name() const override { return "node.run"; }
  Task<Result<Json>> run(engine::ActivityContext&, Json) override {
    co_return Json{{"exit_code", 0}, {"stdout", ""}, {"stderr", ""}};
  }
};

Task<void> wait_run(Store& store, Executor& executor, std::string id, bool* done) {
  for (;;) {
    auto ended = std::make_shared<bool>(false);
    TransactionBody body = [id, ended](SqlTransaction& tx) -> Result<void> {
      auto r = engine::get_run(tx, id);
      if (!r) return fail(r.error());
      *ended = r->terminal();
      return {};
    };
    Task<Result<void>> pending = store.transact(std::move(body));
    Result<void> read = co_await pending;
    if (read && *ended) break;
    co_await sleep(executor, milliseconds(5));
  }
  *done = true;
}

struct Options {
  std::string driver = "sqlite";
  std::string url;
  std::string sqlite_path = "/tmp/reliant_bench_engine.db";
  std::string synchronous = "NORMAL";
  std::int64_t steps = 2000;
  std::string label;
  bool nodes_only = false;  // just the workflow-language nodes (for profiling)
  bool smoke = false;       // a few of each, no pauses; exit 1 if a transaction failed
};

void line(const std::string& label, const std::string& what, const Load& load, double floor_rate) {
  std::printf("%-22s %-34s %9.0f/s  %5.2fx floor  p50 %7.0f us  p99 %7.0f us\n", label.c_str(),
              what.c_str(), load.rate(), floor_rate > 0 ? load.rate() / floor_rate : 1.0,
              percentile(load.latencies_us, 0.5), percentile(load.latencies_us, 0.99));
  std::fflush(stdout);
}

int run(const Options& o) {
  AsioExecutor executor;
  std::unique_ptr<Store> store;
  std::size_t pool = 1;
  if (o.driver == "postgres") {
    pool = 4;
    auto pg = PostgresStore::open(executor, o.url, PostgresOptions{pool});
    if (!pg) return std::fprintf(stderr, "%s\n", pg.error().message.c_str()), 1;
    store = std::move(*pg);
  } else {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(o.sqlite_path + suffix);
    auto lite = SqliteStore::open(executor, o.sqlite_path, SqliteOptions{o.synchronous});
    if (!lite) return std::fprintf(stderr, "%s\n", lite.error().message.c_str()), 1;
    store = std::move(*lite);
  }
  const std::string label = o.label.empty() ? o.driver : o.label;
  const SqlDialect dialect = store->dialect();
  if (auto m = run_blocking(executor, migrate_up(*store, executor.now())); !m) {
    return std::fprintf(stderr, "%s\n", m.error().message.c_str()), 1;
  }
  for (const char* sql :
       {"DROP TABLE IF EXISTS bench_floor", "DROP TABLE IF EXISTS bench_counter",
        "CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)",
        "CREATE TABLE bench_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"}) {
    if (auto r = exec(executor, *store, sql); !r)
      return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
  }
  if (auto r = run_blocking(executor, store->transact([](SqlTransaction& tx) -> Result<void> {
        for (std::int64_t i = 0; i < kCounters; ++i) {
          if (auto ok = tx.execute("INSERT INTO bench_counter VALUES ($1, 0)", {i}); !ok)
            return fail(ok.error());
        }
        return {};
      }));
      !r) {
    return std::fprintf(stderr, "%s\n", r.error().message.c_str()), 1;
  }
  engine::WorkflowRegistry workflows;
  engine::register_builtin_workflows(workflows);
  const std::int64_t n = o.steps;
  // The fixed-size measurements, and the pause before each load: a smoke run checks that every
  // measurement still runs and succeeds, and times nothing.
  const int chain_steps = o.smoke ? 30 : 300;
  const int dispatch_runs = o.smoke ? 10 : 100;
  const int node_runs = o.smoke ? 4 : 40;
  const std::chrono::milliseconds settle(o.smoke ? 0 : 300);
  int failed = 0;  // transactions, over every load
  const auto measure = [&](Store& on, std::vector<TransactionBody> bodies, int clients) {
    Load load = run_load(executor, on, std::move(bodies), clients, settle);
    failed += load.errors;
    return load;
  };

  // The floor and the engine take turns, kRounds rounds of n / kRounds transactions each, so a
  // change in the machine's speed during the run (other tenants, the checkpointer) weighs on
  // both alike.
  const auto compare = [&](int clients, std::int64_t base, const std::string& prefix) {
    Load floor;
    Load step;
    const std::int64_t per_round = std::max<std::int64_t>(1, n / kRounds);
    for (int round = 0; round < kRounds; ++round) {
      floor.add(measure(*store, floor_bodies(per_round, base + round * per_round), clients));
      step.add(measure(*store,
                       engine_step_bodies(executor, *store, workflows, per_round,
                                          prefix + std::to_string(round) + "-"),
                       clients));
    }
    return std::pair{floor, step};
  };
  InProcessBroker broker(1);
  InProcessBus bus(broker, executor);
  Random random(1);
  Env env{executor, random, &bus, nullptr, store.get(), nullptr};
  if (!o.nodes_only) {
    const auto [floor1, step1] = compare(1, 0, "s1-");
    line(label, "floor: INSERT+UPDATE, 1 client", floor1, 0);
    line(label, "engine step, 1 worker", step1, floor1.rate());
    if (pool > 1) {
      const auto [floor4, step4] = compare(4, n, "s4-");
      line(label, "floor: INSERT+UPDATE, 4 clients", floor4, 0);
      line(label, "engine step, 4 workers", step4, floor4.rate());
    }
    {
      // Group commit against the same steps unbatched, in alternating rounds (the machine's speed
      // drifts by 2× within minutes: measured one after the other, the gain would be the drift's).
      GroupCommitStore grouped(*store, executor, GroupCommitOptions{32, pool});
      const Load floor_g = measure(grouped, floor_bodies(n, 2 * n), 32);
      line(label, "floor, group commit (32 clients)", floor_g, floor1.rate());
      Load alone;
      Load batched;
      std::vector<double> gains;
      const std::int64_t per_round = std::max<std::int64_t>(1, n / kRounds);
      for (int round = 0; round < kRounds; ++round) {
        const std::string prefix = "sg" + std::to_string(round);
        const Load a = measure(
            *store, engine_step_bodies(executor, *store, workflows, per_round, prefix + "a-"), 1);
        const Load b = measure(
            grouped, engine_step_bodies(executor, *store, workflows, 4 * per_round, prefix + "b-"),
            32);
        gains.push_back(b.rate() / a.rate());
        alone.add(a);
        batched.add(b);
      }
      line(label, "engine step, group commit (32)", batched, floor1.rate());
      std::sort(gains.begin(), gains.end());
      std::printf(
          "%-22s %-34s %9.2fx its own unbatched rate, rounds %.2fx..%.2fx (%.1f bodies per "
          "transaction, %llu batches rerun with savepoints, %llu bodies run alone)\n",
          label.c_str(), "group commit gain, engine steps", batched.rate() / alone.rate(),
          gains.front(), gains.back(),
          static_cast<double>(grouped.bodies()) / static_cast<double>(grouped.batches()),
          static_cast<unsigned long long>(grouped.reruns()),
          static_cast<unsigned long long>(grouped.alone()));
    }

    // End to end: one worker runs a 300-step chain; per-step overhead from activity start times.
    {
      std::vector<Clock::time_point> stamps;
      engine::ActivityRegistry activities;
      activities.add(std::make_unique<StampActivity>(&stamps));
      engine::WorkerConfig config;
      config.worker_id = "bench-chain";
      config.queue = "chain";
      auto worker = std::make_unique<engine::Worker>(env, config, workflows, activities);
      const engine::NewRun run{"chain-run", "chain", "echo_chain", Json{{"steps", chain_steps}}};
      const std::int64_t now = to_ms(executor.now());
      (void)run_blocking(executor, store->transact([run, now, dialect](SqlTransaction& tx) {
        return engine::start_run(tx, dialect, run, now);
      }));
      (void)bus.publish(engine::wake_subject("chain"), "");
      bool done = false;
      Scope scope(executor);
      scope.spawn(wait_run(*store, executor, "chain-run", &done));
      executor.run_until([&done] { return done; });
      std::vector<double> gaps;
      for (std::size_t i = 1; i < stamps.size(); ++i) {
        gaps.push_back(
            std::chrono::duration<double, std::micro>(stamps[i] - stamps[i - 1]).count());
      }
      std::printf("%-22s %-34s %9.0f/s  p50 %7.0f us  p99 %7.0f us per step\n", label.c_str(),
                  "chain, 1 worker, end to end", 1e6 / percentile(gaps, 0.5), percentile(gaps, 0.5),
                  percentile(gaps, 0.99));
    }
    // Dispatch: 4 workers, 100 runs × 5 steps.
    {
      engine::ActivityRegistry activities;
      engine::register_builtin_activities(activities);
      std::vector<std::unique_ptr<engine::Worker>> workers;
      const std::int64_t now = to_ms(executor.now());
      (void)run_blocking(executor, store->transact([&, now](SqlTransaction& tx) -> Result<void> {
        for (int i = 0; i < dispatch_runs; ++i) {
          const engine::NewRun run{"dispatch-" + std::to_string(i), "dispatch", "echo_chain",
                                   Json{{"steps", 5}}};
          if (auto r = engine::start_run(tx, dialect, run, now); !r) return r;
        }
        return {};
      }));
      const auto start = Clock::now();
      for (int w = 0; w < 4; ++w) {
        engine::WorkerConfig config;
        config.worker_id = "dispatch-" + std::to_string(w);
        config.queue = "dispatch";
        workers.push_back(std::make_unique<engine::Worker>(env, config, workflows, activities));
      }
      bool done = false;
      Scope scope(executor);
      scope.spawn(wait_drained(*store, executor, "dispatch", &done));
      executor.run_until([&done] { return done; });
      const double wall = seconds_since(start);
      std::uint64_t tasks = 0;
      for (const auto& w : workers) tasks += w->stats().claimed;
      std::printf("%-22s %-34s %9.0f tasks/s (%llu tasks: %d runs x 5 steps, decisions included)\n",
                  label.c_str(), "dispatch, 4 workers", static_cast<double>(tasks) / wall,
                  static_cast<unsigned long long>(tasks), dispatch_runs);
    }
  }
  // Workflow-language nodes: runs of a YAML chain of no-op work nodes on 4 workers; a node
  // transition is its decision (from the worker's kept state of the run, or the interpreter
  // replayed over its history), its activity and its result. Once with each worker's steps in
  // transactions of their own, once group-committed as `reliant server worker` commits them.
  constexpr int kNodes = 100;
  std::string yaml = "name: noop\nentry: n1\nnodes:\n";
  std::string edges = "edges:\n";
  for (int i = 1; i <= kNodes; ++i) {
    yaml += "  - {id: n" + std::to_string(i) + ", type: run, command: 'true'}\n";
    if (i > 1) {
      edges += "  - {from: n" + std::to_string(i - 1) + ", to: n" + std::to_string(i) + "}\n";
    }
  }
  workflow::RunRequest request;
  request.user_id = "bench";
  request.source = yaml + edges;
  request.file = "noop.yaml";
  engine::WorkflowRegistry language;
  language.add(std::make_unique<workflow::EngineWorkflow>());
  engine::ActivityRegistry activities;
  activities.add(std::make_unique<NoopNode>());
  const auto run_nodes = [&](Store& worker_store, const std::string& queue, const char* what) {
    const std::int64_t now = to_ms(executor.now());
    (void)run_blocking(executor, store->transact([&, now](SqlTransaction& tx) -> Result<void> {
      for (int i = 0; i < node_runs; ++i) {
        const engine::NewRun run{queue + "-" + std::to_string(i), queue,
                                 std::string(workflow::kEngineWorkflowName),
                                 workflow::to_json(request)};
        if (auto r = engine::start_run(tx, dialect, run, now); !r) return r;
      }
      return {};
    }));
    Env worker_env{executor, random, &bus, nullptr, &worker_store, nullptr};
    const auto start = Clock::now();
    std::vector<std::unique_ptr<engine::Worker>> workers;
    for (int w = 0; w < 4; ++w) {
      engine::WorkerConfig config;
      config.worker_id = queue + "-" + std::to_string(w);
      config.queue = queue;
      workers.push_back(std::make_unique<engine::Worker>(worker_env, config, language, activities));
    }
    bool done = false;
    Scope scope(executor);
    scope.spawn(wait_drained(*store, executor, queue, &done));
    executor.run_until([&done] { return done; });
    const double wall = seconds_since(start);
    engine::WorkerStats sum;
    for (const auto& w : workers) {
      sum.decisions += w->stats().decisions;
      sum.sticky_hits += w->stats().sticky_hits;
      sum.eager_decisions += w->stats().eager_decisions;
      sum.polls += w->stats().polls;
    }
    std::printf(
        "%-22s %-34s %9.0f nodes/s (%d runs x %d no-op work nodes, 4 workers; %llu decisions, "
        "%llu from a kept state, %llu made with the result before them; %llu polls)\n",
        label.c_str(), what, node_runs * kNodes / wall, node_runs, kNodes,
        static_cast<unsigned long long>(sum.decisions),
        static_cast<unsigned long long>(sum.sticky_hits),
        static_cast<unsigned long long>(sum.eager_decisions),
        static_cast<unsigned long long>(sum.polls));
  };
  run_nodes(*store, "nodes", "workflow nodes, end to end");
  {
    GroupCommitStore grouped(*store, executor, GroupCommitOptions{32, pool});
    run_nodes(grouped, "nodes-g", "workflow nodes, group commit");
    std::printf("%-22s %-34s %9.2f bodies per transaction (%llu batches)\n", label.c_str(),
                "workflow nodes, group commit",
                static_cast<double>(grouped.bodies()) / static_cast<double>(grouped.batches()),
                static_cast<unsigned long long>(grouped.batches()));
  }
  if (o.smoke && failed > 0) {
    std::fprintf(stderr, "%s: %d transactions failed in all\n", label.c_str(), failed);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace reliant

int main(int argc, char** argv) {
  reliant::Options o;
  CLI::App app{"Durable-engine throughput against the backend's floor"};
  app.add_option("--driver", o.driver, "sqlite or postgres");
  app.add_option("--url", o.url, "Postgres URL");
  app.add_option("--sqlite-path", o.sqlite_path, "SQLite file (recreated)");
  app.add_option("--synchronous", o.synchronous, "SQLite synchronous: NORMAL or FULL");
  app.add_option("--steps", o.steps, "Transactions per measurement");
  app.add_option("--label", o.label, "Row label");
  app.add_flag("--nodes-only", o.nodes_only, "Only the workflow-language nodes (for profiling)");
  app.add_flag("--smoke", o.smoke,
               "A few of each measurement and no pauses; exit 1 if a transaction failed");
  CLI11_PARSE(app, argc, argv);
  return reliant::run(o);
}
