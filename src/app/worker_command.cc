// The worker process: one executor, one store, the bus, the built-in workflows and activities,
// and a Worker component; SIGINT/SIGTERM stop it cleanly.
#include "app/worker_command.h"
#include "app/logging.h"
#include "app/process_lifecycle.h"
#include "app/zone_files.h"
#include "services/triggers/trigger_scheduler.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/http/health_server.h"
#include "adapters/memory/in_process_bus.h"
#include "adapters/nats/nats_bus.h"
#include "adapters/postgres/postgres_store.h"
#include "app/data_dir.h"
#include "app/db_config.h"
#include "app/llm_options.h"
#include "app/process_name.h"
#include "app/readiness.h"
#include "app/secret_environment.h"
#include "app/secure_random.h"
#include "core/agent/agent_workflow.h"
#include "core/engine/builtin_workflows.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/sleep.h"
#include "services/agent/agent_activities.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/migrator.h"
#include "services/storage/schema.h"
#include "services/worker/worker.h"

namespace reliant {
namespace {

struct WorkerOptions {
  DbConfig db;
  std::string temporal_host = "localhost";
  int temporal_port = 7233;
  std::string temporal_namespace = "reliant";
  std::string nats_url;
  std::string streaming_driver = "nats";
  int health_port = 8081;
  std::string bind_address = "0.0.0.0";
  std::string worker_id;
  std::int64_t concurrency = 64;
  std::size_t group_commit = 32;  // bodies per shared transaction; 1: none
  std::size_t group_commit_overlap = GroupCommitOptions{}.overlap_batch;
  bool migrate = false;
  LlmOptions llm;
};

std::string default_worker_id() {
  return host_and_pid() + "-" + std::to_string(secure_random_u64() % 100000);
}

// The engine's steps and the activities' writes commit together while the database is busy: one
// commit (one fsync) for many small transactions (docs/architecture.md §7). None with
// --group-commit 1.
std::unique_ptr<GroupCommitStore> group_commit_store(const WorkerOptions& options, Store& store,
                                                     Executor& executor) {
  if (options.group_commit <= 1) return nullptr;
  const std::size_t connections =
      options.db.driver == "postgres" ? PostgresOptions{}.pool_size : std::size_t{1};
  return std::make_unique<GroupCommitStore>(
      store, executor,
      GroupCommitOptions{options.group_commit, connections, options.group_commit_overlap});
}

int run_worker(const WorkerOptions& options) {
  // On SQLite the worker owns the database's folder, as a monolith does: beside a monolith it
  // would take the monolith's engine tasks and run their tools elsewhere. (Postgres is made
  // for many workers.)
  std::unique_ptr<ExclusiveFileLock> claim;
  if (options.db.driver == "sqlite") {
    const std::string folder =
        options.db.url.empty() ? options.db.data_dir
                               : std::filesystem::absolute(options.db.url).parent_path().string();
    if (auto made = ensure_private_directory(folder); !made) {
      spdlog::error("{}", made.error().message);
      return 1;
    }
    auto locked = lock_data_dir(folder);
    if (!locked) return exit_after(locked.error(), 1);
    claim = std::move(*locked);
  }
  raise_descriptor_limit();  // before any listener sizes its caps from it
  AsioExecutor executor;
  auto store = open_server_store(executor, options.db, options.migrate);
  if (!store) return exit_after(store.error(), 1);
  if (options.temporal_host != "localhost" || options.temporal_port != 7233) {
    spdlog::info(
        "--temporal-host/--temporal-port are not used: the durable engine runs on the database");
  }
  // Wake-ups go over NATS when configured, so workers in other processes hear of new tasks at
  // once; without it, over an in-process bus (this worker's own steps) plus the poll.
  InProcessBroker broker(secure_random_u64());
  std::unique_ptr<Bus> bus;
  if (!options.nats_url.empty()) {
    auto nats = NatsBus::connect(executor, NatsOptions{options.nats_url, "reliant-worker"});
    if (!nats) return exit_after(nats.error(), 1);
    bus = std::move(*nats);
  } else {
    spdlog::info("no --nats-url: other processes' new tasks are found by polling (every 2 s)");
    bus = std::make_unique<InProcessBus>(broker, executor);
  }
  Random random(secure_random_u64());
  SpdlogLog log;
  std::unique_ptr<GroupCommitStore> grouped = group_commit_store(options, **store, executor);
  Store* worker_store = grouped ? grouped.get() : store->get();
  Env env{executor, random, bus.get(), nullptr, worker_store, nullptr, &log};
  // Tool calls reach the users' daemons through the gateways (NATS): the same router the
  // api uses.
  routing::BusDaemonRouter router(env);
  auto models = open_models(executor, options.llm, worker_store);
  if (!models) return exit_after(models.error(), 2);
  // Everything secret was read from the environment: out of the tools' reach from here on.
  (void)protect_secret_environment();
  engine::WorkflowRegistry workflows;
  engine::register_builtin_workflows(workflows);
  agent::register_agent_workflow(workflows);
  engine::ActivityRegistry activities;
  engine::register_builtin_activities(activities);
  agent::AgentDeps agent_deps{*worker_store,         bus.get(),
                              *models->llm,          router,
                              models->default_model, agent::builtin_tool_specs()};
  agent_deps.catalog = models->catalog;
  agent_deps.queue = options.temporal_namespace;
  agent::register_agent_activities(activities, agent_deps);
  engine::WorkerConfig config;
  config.worker_id = options.worker_id.empty() ? default_worker_id() : options.worker_id;
  config.queue = options.temporal_namespace;
  config.in_flight_max = options.concurrency;

  StopOnSignals stop_on_signals(executor);
  // Ready once the store answers (and NATS is connected, when wake-ups go over it).
  const NatsBus* nats = options.nats_url.empty() ? nullptr : static_cast<const NatsBus*>(bus.get());
  auto health =
      ServerHealth::start(executor, **store, nats, options.bind_address, options.health_port);
  if (!health) return exit_after(health.error(), 1);
  auto worker = std::make_unique<engine::Worker>(env, config, workflows, activities);
  // Every worker runs the trigger scheduler: replicas share the due schedules through the store.
  auto scheduler = std::make_unique<triggers::TriggerScheduler>(
      env, triggers::SchedulerConfig{config.queue, models->default_model, system_time_zones()});
  spdlog::info("health checks on {}:{} (/health, /ready)", options.bind_address, (*health)->port());
  spdlog::info("worker {} serving queue '{}' on {} (schema {})", config.worker_id, config.queue,
               options.db.driver, latest_schema_version());
  executor.run();
  scheduler.reset();
  worker.reset();
  spdlog::info("worker {} stopped", config.worker_id);
  return 0;
}

}  // namespace

void add_worker_command(CLI::App& server, int& exit_code) {
  auto options = std::make_shared<WorkerOptions>();
  auto* worker =
      server.add_subcommand("worker", "Run a durable-engine worker (workflow and activity tasks)");
  add_db_options(*worker, options->db);
  worker
      ->add_option("--temporal-host", options->temporal_host,
                   "Accepted for compatibility; unused (the engine runs on the database)")
      ->envname("TEMPORAL_HOST")
      ->capture_default_str();
  worker
      ->add_option("--temporal-port", options->temporal_port, "Accepted for compatibility; unused")
      ->envname("TEMPORAL_PORT")
      ->capture_default_str();
  worker
      ->add_option("--temporal-namespace", options->temporal_namespace,
                   "Engine namespace: the task queue this worker serves")
      ->envname("TEMPORAL_NAMESPACE")
      ->capture_default_str();
  worker
      ->add_option("--nats-url", options->nats_url,
                   "NATS server URL, for wake-ups between processes (without it: polling)")
      ->envname("NATS_URL");
  worker
      ->add_option("--streaming-driver", options->streaming_driver,
                   "memory or nats (forced to nats)")
      ->envname("STREAMING_DRIVER")
      ->capture_default_str();
  worker->add_option("--health-port", options->health_port, "Health/readiness endpoint port")
      ->envname("HEALTH_PORT")
      ->capture_default_str();
  worker->add_option("--bind-address", options->bind_address, "Interface for the health endpoint")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  worker->add_option("--worker-id", options->worker_id,
                     "Lease owner name (default: host-pid-random)");
  worker->add_option("--concurrency", options->concurrency, "Tasks processed at once")
      ->capture_default_str();
  worker
      ->add_option("--group-commit", options->group_commit,
                   "Transactions committed together at most, while the database is busy (1: "
                   "each alone)")
      ->envname("WORKER_GROUP_COMMIT")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  worker
      ->add_option("--group-commit-overlap", options->group_commit_overlap,
                   "Transactions waiting before a second shared transaction starts while one "
                   "is in flight (1: whenever a connection is free)")
      ->envname("WORKER_GROUP_COMMIT_OVERLAP")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  worker->add_flag("--migrate", options->migrate, "Apply pending migrations before starting");
  add_llm_options(*worker, options->llm);
  worker->callback([options, &exit_code] { exit_code = run_worker(*options); });
}

}  // namespace reliant
