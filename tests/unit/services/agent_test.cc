// The agent loop end to end in virtual time: a chat message starts an `agent` run on a real
// Worker and SQLite store; the scripted model lists the files and runs a command on the
// in-process daemon; every step is stored once and streamed to a UserFeed in order.
#include <gtest/gtest.h>

#include <optional>

#include "core/agent/agent_workflow.h"
#include "core/agent/scripted_model.h"
#include "runtime/scope.h"
#include "services/agent/agent_activities.h"
#include "services/agent/chat_service.h"
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
namespace {

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
  sim::SimHost host{executor, "/work"};
  Random random{7};
  Env env{executor, random, &bus, nullptr, &store, &host};
  daemon::MemoryRequestJournal journal;
  routing::LocalDaemonRouter router{executor, host, "/work", journal, "daemon-1", "user-1"};
  ScriptedLlm llm;
  engine::WorkflowRegistry workflows;
  engine::ActivityRegistry activities;
  std::unique_ptr<engine::Worker> worker;
  ChatService chats{env, ChatServiceConfig{}};
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

  Monolith() {
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
  template <class Done>
  void run_until(Done done) {
    while (!done() && world.step()) {
    }
  }
};

// Drains a feed into `events` until the chat reports a status other than running.
Task<void> follow(updates::UserFeed* feed, std::vector<updates::UserEvent>* events, bool* done) {
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

TEST(AgentLoop, ListsFilesRunsACommandAndAnswersWithWhatItSaw) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", "demo"));
  ASSERT_TRUE(chat.has_value()) << chat.error().message;
  auto feed = updates::UserFeed::open(m.env, {"user-1", 0, chat->id});
  ASSERT_TRUE(feed.has_value());
  std::vector<updates::UserEvent> events;
  bool done = false;
  m.scope->spawn(follow(feed->get(), &events, &done));

  auto sent = m.run(
      m.chats.send_message("user-1", chat->id, "Please list the files and run `uname -a`", {}));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  m.run_until([&] { return done; });
  ASSERT_TRUE(done);

  auto view = m.run(m.chats.get_chat("user-1", chat->id));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->chat.status, ChatStatus::idle);
  std::vector<std::string> roles;
  for (const auto& message : view->messages) roles.push_back(message.role);
  EXPECT_EQ(roles, (std::vector<std::string>{"user", "assistant", "tool", "assistant", "tool",
                                             "assistant"}));
  const auto& listing = view->messages[2].blocks.at(0).body;
  EXPECT_NE(listing.value("content", "").find("README.md"), std::string::npos) << listing.dump();
  const auto& uname = view->messages[4].blocks.at(0).body;
  EXPECT_EQ(uname.value("content", ""), "SimOS 1.0 sim-host\n");
  EXPECT_FALSE(uname.value("is_error", true));
  const std::string answer = view->messages[5].blocks.at(0).body.value("text", "");
  EXPECT_NE(answer.find("main.cc"), std::string::npos) << answer;
  EXPECT_NE(answer.find("SimOS 1.0"), std::string::npos) << answer;

  // The stream: every stored update of the chat in order without gaps (the chat_created update
  // came before the message), previews interleaved, one final status.
  EXPECT_EQ(sent->seq, 2);
  std::int64_t expected = 1;
  int deltas = 0, finals = 0, tools_running = 0;
  for (const auto& event : events) {
    if (event.seq == 0) {
      deltas += event.kind == "text_delta";
      tools_running += event.kind == "tool_running";
      continue;
    }
    EXPECT_EQ(event.seq, expected++) << event.kind;
    if (event.kind == "chat_status" && event.body.value("status", "") == "idle") ++finals;
  }
  EXPECT_EQ(expected - 1, 9) << "created, user message, running, 5 agent messages, idle";
  EXPECT_EQ(finals, 1);
  EXPECT_EQ(tools_running, 2);
  EXPECT_GT(deltas, 3);
}

TEST(AgentLoop, ABusyChatRefusesASecondMessageAndOtherUsersSeeNothing) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  auto first = m.run(m.chats.send_message("user-1", chat->id, "run `uname -a`", {}));
  ASSERT_TRUE(first.has_value());
  auto second = m.run(m.chats.send_message("user-1", chat->id, "again", {}));
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::failed_precondition);

  auto theirs = m.run(m.chats.get_chat("user-2", chat->id));
  ASSERT_FALSE(theirs.has_value());
  EXPECT_EQ(theirs.error().code, ErrorCode::not_found);
  auto send_theirs = m.run(m.chats.send_message("user-2", chat->id, "hi", {}));
  ASSERT_FALSE(send_theirs.has_value());
  EXPECT_EQ(send_theirs.error().code, ErrorCode::not_found);
  auto empty = m.run(m.chats.send_message("user-1", chat->id, "", {}));
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_argument);
  auto bad_selector =
      m.run(m.chats.send_message("user-1", chat->id, "x", {"", nlohmann::json(42), {}}));
  EXPECT_EQ(bad_selector.error().code, ErrorCode::invalid_argument);
}

TEST(AgentLoop, NoDaemonBecomesAToolErrorTheModelAnswers) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-2", ""));  // user-2 has no daemon
  ASSERT_TRUE(chat.has_value());
  auto sent = m.run(m.chats.send_message("user-2", chat->id, "run `ls`", {}));
  ASSERT_TRUE(sent.has_value());
  m.run_until([&] {
    auto view = m.run(m.chats.get_chat("user-2", chat->id));
    return view && view->chat.status != ChatStatus::running;
  });
  auto view = m.run(m.chats.get_chat("user-2", chat->id));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->chat.status, ChatStatus::idle);
  ASSERT_EQ(view->messages.size(), 4u);
  EXPECT_TRUE(view->messages[2].blocks.at(0).body.value("is_error", false));
  EXPECT_NE(view->messages[3].blocks.at(0).body.value("text", "").find("failed"),
            std::string::npos);
}

TEST(ScriptedModel, PlansFromTheUsersWords) {
  auto plan = scripted_plan("List the files, then run `make test` and `git status`");
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].tool_name, "ls");
  EXPECT_EQ(plan[1].input["command"], "make test");
  EXPECT_EQ(plan[2].input["command"], "git status");
  EXPECT_TRUE(scripted_plan("hello there").empty());
  EXPECT_EQ(scripted_plan("unterminated `ls").size(), 0u);
}

}  // namespace
}  // namespace reliant::agent
