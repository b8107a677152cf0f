// Workflow commands: each is a transaction or two on the engine's tables; `start --wait` polls
// the run until it ends and prints its result.
#include "app/workflow_commands.h"

#include <cstdio>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "app/secure_random.h"
#include "app/workflow_language_commands.h"
#include "app/workflow_run_commands.h"
#include "base/json_parse.h"
#include "runtime/ids.h"
#include "runtime/sleep.h"
#include "services/engine/engine_sql.h"
#include "services/storage/migrator.h"
#include "services/worker/worker.h"

namespace reliant {
namespace {

using engine::Json;

struct WorkflowOptions {
  DbConfig db;
  std::string name;
  std::string input = "{}";
  std::string run_id;
  std::string ns = "reliant";
  std::string nats_url;
  std::string signal;
  std::string reason = "cancelled from the command line";
  bool wait = false;
  double wait_seconds = 0;  // 0: wait forever
};

int report(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return 1;
}

Result<Json> parse_flag_json(const std::string& text, const std::string& flag) {
  auto value = parse_json(text);
  if (!value) {
    return fail(ErrorCode::invalid_argument,
                flag + " is not valid JSON (" + value.error().message + "): " + text);
  }
  return value;
}

Task<Result<engine::RunSummary>> wait_for_end(Store& store, Executor& executor, std::string run_id,
                                              Duration limit) {
  const SteadyInstant deadline = executor.steady_now() + limit;
  for (;;) {
    Task<Result<engine::RunSummary>> pending =
        store.transact_for([run_id](SqlTransaction& tx) { return engine::get_run(tx, run_id); });
    Result<engine::RunSummary> run = co_await pending;
    if (!run) co_return fail(run.error());
    if (run->terminal()) co_return std::move(*run);
    if (limit > Duration::zero() && executor.steady_now() > deadline) {
      co_return fail(ErrorCode::timeout,
                     "run " + run_id + " still running after " + format_duration(limit));
    }
    co_await sleep(executor, milliseconds(100));
  }
}

// Prints a run's outcome; the exit code says whether it completed.
int print_outcome(const engine::RunSummary& run) {
  if (run.status == engine::RunStatus::completed) {
    std::printf("%s\n", run.result.value_or(Json()).dump().c_str());
    return 0;
  }
  std::fprintf(stderr, "run %s %s: %s\n", run.id.c_str(),
               std::string(to_string(run.status)).c_str(), run.error.value_or("").c_str());
  return 1;
}

int with_engine_store(const DbConfig& config,
                      const std::function<int(AsioExecutor&, Store&)>& use) {
  AsioExecutor executor;
  auto store = open_store(executor, config);
  if (!store) return report(store.error());
  auto current = run_blocking(executor, require_current_schema(**store));
  if (!current) return report(current.error());
  return use(executor, **store);
}

}  // namespace

void add_workflow_commands(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<WorkflowOptions>();
  auto* language = app.add_subcommand(
      "workflow", "Run workflows (YAML nodes and edges) on the server, and inspect them");
  language->require_subcommand(1);
  // The engine's own runs, read and written in the database directly: for operators.
  auto* workflow = language->add_subcommand(
      "engine", "Start and inspect the engine's runs directly in the database (operators)");
  workflow->require_subcommand(1);

  auto* start =
      workflow->add_subcommand("start", "Start a run; with --wait, print its result when it ends");
  add_db_options(*start, options->db);
  start
      ->add_option("name", options->name,
                   "Workflow name (built in: echo_chain, sleep, await_signal)")
      ->required();
  start->add_option("--input", options->input, "Input as JSON")->capture_default_str();
  start->add_option("--id", options->run_id, "Run id (default: a new sortable id)");
  start->add_option("--namespace", options->ns, "Engine namespace (task queue)")
      ->envname("TEMPORAL_NAMESPACE")
      ->capture_default_str();
  start->add_flag("--wait", options->wait, "Wait for the run to end and print its result");
  start
      ->add_option("--nats-url", options->nats_url,
                   "Wake workers at once over NATS (else they poll)")
      ->envname("NATS_URL");
  start->add_option("--wait-seconds", options->wait_seconds,
                    "Give up waiting after this long (0: never)");
  start->callback([options, &exit_code] {
    auto input = parse_flag_json(options->input, "--input");
    if (!input) {
      exit_code = report(input.error());
      return;
    }
    exit_code = with_engine_store(options->db, [&](AsioExecutor& executor, Store& store) {
      std::string id = options->run_id;
      if (id.empty()) id = IdGenerator(executor, Random(secure_random_u64())).next();
      const engine::NewRun run{id, options->ns, options->name, *input};
      const std::int64_t now_ms = to_ms(executor.now());
      auto started = run_blocking(
          executor, store.transact([run, now_ms, dialect = store.dialect()](SqlTransaction& tx) {
            return engine::start_run(tx, dialect, run, now_ms);
          }));
      if (!started) return report(started.error());
      if (!options->nats_url.empty()) {
        auto nats = NatsBus::connect(executor, NatsOptions{options->nats_url, "reliant-cli"});
        if (!nats) return report(nats.error());
        (void)(*nats)->publish(engine::wake_subject(options->ns), "");
        (void)(*nats)->flush(seconds(2));
      }
      if (!options->wait) {
        std::printf("%s\n", id.c_str());
        return 0;
      }
      std::fprintf(stderr, "started %s; waiting for it to end\n", id.c_str());
      const Duration limit(static_cast<Duration::rep>(options->wait_seconds * 1e9));
      auto ended = run_blocking(executor, wait_for_end(store, executor, id, limit));
      if (!ended) return report(ended.error());
      return print_outcome(*ended);
    });
  });

  auto* show = workflow->add_subcommand("show", "Print a run's status and history");
  add_db_options(*show, options->db);
  show->add_option("run", options->run_id, "Run id")->required();
  show->callback([options, &exit_code] {
    exit_code = with_engine_store(options->db, [&](AsioExecutor& executor, Store& store) {
      struct Shown {
        engine::RunSummary run;
        std::vector<engine::HistoryEvent> history;
      };
      const std::string id = options->run_id;
      auto read =
          run_blocking(executor, store.transact_for([id](SqlTransaction& tx) -> Result<Shown> {
            auto run = engine::get_run(tx, id);
            if (!run) return fail(run.error());
            auto history = engine::load_history(tx, id);
            if (!history) return fail(history.error());
            return Shown{std::move(*run), std::move(*history)};
          }));
      if (!read) return report(read.error());
      const engine::RunSummary* run = &read->run;
      const std::vector<engine::HistoryEvent>* history = &read->history;
      std::printf("run %s: %s, workflow %s, namespace %s\n", run->id.c_str(),
                  std::string(to_string(run->status)).c_str(), run->workflow.c_str(),
                  run->queue.c_str());
      for (const auto& e : *history) {
        std::printf("  %4lld  %-20s %s\n", static_cast<long long>(e.seq),
                    std::string(engine::to_string(e.kind)).c_str(), e.body.dump().c_str());
      }
      return 0;
    });
  });

  auto* signal = workflow->add_subcommand("signal", "Send a signal to a running run");
  add_db_options(*signal, options->db);
  signal->add_option("run", options->run_id, "Run id")->required();
  signal->add_option("signal", options->signal, "Signal name")->required();
  signal->add_option("--payload", options->input, "Payload as JSON")->capture_default_str();
  signal->callback([options, &exit_code] {
    auto payload = parse_flag_json(options->input, "--payload");
    if (!payload) {
      exit_code = report(payload.error());
      return;
    }
    exit_code = with_engine_store(options->db, [&](AsioExecutor& executor, Store& store) {
      const std::string id = options->run_id;
      const std::string name = options->signal;
      const auto dialect = store.dialect();
      const std::int64_t now_ms = to_ms(executor.now());
      auto sent = run_blocking(executor, store.transact([=, p = *payload](SqlTransaction& tx) {
        return engine::signal_run(tx, dialect, id, name, p, now_ms);
      }));
      if (!sent) return report(sent.error());
      std::printf("signalled %s with %s\n", id.c_str(), name.c_str());
      return 0;
    });
  });

  auto* cancel = workflow->add_subcommand("cancel", "Cancel a running run");
  add_db_options(*cancel, options->db);
  cancel->add_option("run", options->run_id, "Run id")->required();
  cancel->add_option("--reason", options->reason, "Why")->capture_default_str();
  cancel->callback([options, &exit_code] {
    exit_code = with_engine_store(options->db, [&](AsioExecutor& executor, Store& store) {
      const std::string id = options->run_id;
      const std::string reason = options->reason;
      const auto dialect = store.dialect();
      const std::int64_t now_ms = to_ms(executor.now());
      auto cancelled = run_blocking(executor, store.transact([=](SqlTransaction& tx) {
        return engine::cancel_run(tx, dialect, id, reason, now_ms);
      }));
      if (!cancelled) return report(cancelled.error());
      std::printf("cancellation requested for %s\n", id.c_str());
      return 0;
    });
  });

  add_workflow_language_commands(*language, exit_code);
  add_workflow_run_commands(app, *language, exit_code);
}

}  // namespace reliant
