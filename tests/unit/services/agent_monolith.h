// A monolith in virtual time for the agent's and the workflow nodes' tests: a real Worker, a
// simulated SQLite store, bus and host, the in-process daemon of user-1 ("daemon-1"), and the
// chat service; `run` drives a task to its end, `run_until` the world until a condition holds.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <optional>

#include "core/agent/agent_workflow.h"
#include "core/agent/scripted_model.h"
#include "core/personal_access_token.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/scope.h"
#include "services/agent/agent_activities.h"
#include "services/agent/chat_service.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/engine/engine_sql.h"
#include "services/routing/local_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "services/updates/user_feed.h"
#include "services/worker/worker.h"
#include "sim/network.h"
#include "sim/sim_bus.h"
#include "sim/sim_executor.h"
#include "sim/sim_host.h"
#include "sim/sim_store.h"
#include "sim/world.h"

namespace reliant::agent {

template <class T>
Task<void> capture(Task<T> task, std::optional<T>* out) {
  *out = co_await task;
}

struct Monolith {
  sim::World world{21};
  sim::Network network{milliseconds(0), milliseconds(0)};
  sim::SimBroker broker{world, network};
  sim::SimDatabase database{world, network};
  sim::NodeId node = world.add_node("monolith");
  sim::SimExecutor executor{world, node};
  sim::SimBus bus{broker, executor};
  sim::SimStore store{database, executor};
  sim::SimHost host{executor, "/work", {"/work"}};  // confined, as a real monolith is
  Random random{7};
  Env env{executor, random, &bus, nullptr, &store, &host};
  daemon::MemoryRequestJournal journal;
  mcp::McpServers mcp{env, host};  // none configured unless a test does
  routing::LocalDaemonRouter router{executor, host, "/work", journal, "daemon-1", "user-1", &mcp};
  ScriptedLlm scripted;
  llm::Llm& llm;
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  std::unique_ptr<engine::Worker> worker;
  ChatService chats{env, ChatServiceConfig{}};
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

  // `model`: the model the activities ask (the scripted one by default).
  explicit Monolith(llm::Llm* model = nullptr) : llm(model != nullptr ? *model : scripted) {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    auto seeded = database.database().transact([](SqlTransaction& tx) -> Result<void> {
      for (const char* user : {"user-1", "user-2"}) {
        if (auto ok = insert_user(tx, User{user, std::string(user) + "@example.com", user, 0}); !ok)
          return ok;
      }
      DaemonRecord daemon;
      daemon.id = "daemon-1";
      daemon.user_id = "user-1";
      daemon.name = "laptop";
      daemon.status = DaemonStatus::active;
      daemon.connection_id = "c1";
      daemon.connected_at_ms = 1;
      return record_daemon_connected(tx, daemon);
    });
    EXPECT_TRUE(seeded.has_value()) << seeded.error().message;
    host.put_file("/work/README.md", "# demo\n");
    host.put_file("/work/main.cc", "int main() {}\n");
    host.on_command("uname -a", sim::SimCommandScript::reply("SimOS 1.0 sim-host\n"));
    register_agent_workflow(workflows);
    register_agent_activities(
        activities, AgentDeps{store, &bus, llm, router, "scripted", builtin_tool_specs()});
    engine::WorkerConfig config;
    config.worker_id = "w1";
    worker = std::make_unique<engine::Worker>(env, config, workflows, activities);
  }
  ~Monolith() {
    scope.reset();
    worker.reset();
  }

  template <class T>
  T run(Task<T> task) {
    std::optional<T> out;
    scope->spawn(capture(std::move(task), &out));
    while (!out && world.step()) {
    }
    EXPECT_TRUE(out.has_value()) << "the task never finished";
    return std::move(*out);
  }
  // Bounded by a virtual day, so a condition that never holds fails the test instead of hanging.
  template <class Done>
  void run_until(Done done) {
    const auto deadline = world.now() + std::chrono::hours(24);
    while (!done() && world.now() < deadline && world.step()) {
    }
    EXPECT_TRUE(done()) << "the condition never held within a virtual day";
  }
};

// Starts a run of the workflow YAML `source` (its file `run_id`.yaml) as the API would, with
// `context` ({user_id, chat_id, project_id}; user-1's run when it names no user) and `inputs`.
inline void start_yaml_run(Monolith& m, const std::string& run_id, std::string source,
                           nlohmann::json context = nlohmann::json::object(),
                           nlohmann::json inputs = nlohmann::json::object()) {
  workflow::RunRequest request;
  if (!context.contains("user_id")) context["user_id"] = "user-1";
  request.user_id = context["user_id"].get<std::string>();
  request.file = run_id + ".yaml";
  request.source = std::move(source);
  request.inputs = std::move(inputs);
  request.context = std::move(context);
  const engine::NewRun run{run_id, "reliant", std::string(workflow::kEngineWorkflowName),
                           workflow::to_json(request)};
  const std::int64_t now_ms = to_ms(m.executor.now());
  auto started =
      m.run(m.store.transact_for([run, now_ms, dialect = m.store.dialect()](SqlTransaction& tx) {
        return engine::start_run(tx, dialect, run, now_ms);
      }));
  ASSERT_TRUE(started.has_value()) << started.error().message;
}

// The run as the store has it now (a failed read fails the test and gives an empty summary).
inline engine::RunSummary run_summary(Monolith& m, const std::string& run_id) {
  auto run = m.run(
      m.store.transact_for([run_id](SqlTransaction& tx) { return engine::get_run(tx, run_id); }));
  EXPECT_TRUE(run.has_value()) << run.error().message;
  return run ? std::move(*run) : engine::RunSummary{};
}

// The run once it has ended (within a virtual day).
inline engine::RunSummary ended_run(Monolith& m, const std::string& run_id) {
  m.run_until([&] { return run_summary(m, run_id).terminal(); });
  return run_summary(m, run_id);
}

// A personal access token of `user_id`'s, stored (its secret every byte `fill`).
inline std::string stored_token(Monolith& m, const std::string& user_id, std::uint8_t fill) {
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secret.fill(fill);
  const NewToken token = make_token(secret, "tok-" + user_id, user_id, "test", 0);
  auto made = m.database.database().transact(
      [&](SqlTransaction& tx) -> Result<void> { return insert_new_token(tx, token); });
  EXPECT_TRUE(made.has_value()) << made.error().message;
  return token.token;
}

// Drains a feed into `events` until the chat reports a status other than running.
inline Task<void> follow(updates::UserFeed* feed, std::vector<updates::UserEvent>* events,
                         bool* done) {
  while (!*done) {
    Task<Result<std::vector<updates::UserEvent>>> next = feed->next();
    auto batch = co_await next;
    if (!batch) continue;
    for (auto& event : *batch) {
      if (event.kind == "chat_status" && event.body.value("status", "") != "running") *done = true;
      events->push_back(std::move(event));
    }
  }
}

}  // namespace reliant::agent
