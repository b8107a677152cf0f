// Tools the worker runs itself: a chat agent whose user has no daemon still plans, since the
// planning tools run on the server and keep the plan on the chat; each call runs once, however
// often its step is retried.
#include "services/agent/server_tools.h"

#include <gtest/gtest.h>

#include "services/storage/plans.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

// Plans in three turns: makes a plan, then works through it, then answers.
class PlanningLlm final : public llm::Llm {
 public:
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink) override {
    offered.clear();
    for (const auto& tool : request.tools) offered.push_back(tool.name);
    llm::Response reply;
    auto call = [&](std::string id, std::string name, Json input) {
      llm::Block block;
      block.kind = llm::Block::Kind::tool_call;
      block.tool_call_id = std::move(id);
      block.tool_name = std::move(name);
      block.input = std::move(input);
      reply.content.push_back(std::move(block));
    };
    switch (turn++) {
      case 0:
        call("c1", "create_plan", {{"title", "Tidy up"}, {"tasks", {"lint", "test"}}});
        break;
      case 1:
        call("c2", "update_task", {{"id", 1}, {"status", "completed"}});
        call("c3", "add_task", {{"title", "release"}});
        call("c4", "update_task", {{"id", 7}, {"status", "completed"}});
        break;
      default:
        reply.content.push_back(llm::Block::text_block("planned"));
    }
    reply.stop_reason = turn <= 2 ? "tool_use" : "end_turn";
    co_return reply;
  }
  int turn = 0;
  std::vector<std::string> offered;
};

std::optional<ChatPlanRecord> plan_of(Monolith& m, const std::string& chat_id) {
  auto found = m.run(
      m.store.transact_for([chat_id](SqlTransaction& tx) { return find_chat_plan(tx, chat_id); }));
  EXPECT_TRUE(found.has_value());
  return found ? *found : std::nullopt;
}

TEST(ServerTools, AnAgentWithoutADaemonKeepsAPlanOnItsChat) {
  PlanningLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-2", "plan"));  // user-2 has no daemon
  ASSERT_TRUE(chat.has_value());
  auto sent = m.run(m.chats.send_message("user-2", chat->id, "tidy the repository", {}));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  m.run_until([&] {
    auto view = m.run(m.chats.get_chat("user-2", chat->id));
    return view && view->chat.status != ChatStatus::running;
  });
  EXPECT_NE(std::find(model.offered.begin(), model.offered.end(), "create_plan"),
            model.offered.end());

  auto view = m.run(m.chats.get_chat("user-2", chat->id));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->chat.status, ChatStatus::idle);
  std::vector<std::pair<std::string, bool>> results;  // content, is_error
  for (const auto& message : view->messages) {
    for (const auto& block : message.blocks) {
      if (block.kind == "tool_result")
        results.emplace_back(block.body.value("content", ""), block.body.value("is_error", true));
    }
  }
  ASSERT_EQ(results.size(), 4u);
  EXPECT_FALSE(results[0].second) << results[0].first;
  EXPECT_NE(results[0].first.find("[ ] 2. test"), std::string::npos) << results[0].first;
  EXPECT_FALSE(results[1].second);
  EXPECT_EQ(results[1].first, "Updated task [x] 1. lint");
  EXPECT_EQ(results[2].first, "Added task [ ] 3. release");
  EXPECT_TRUE(results[3].second) << "no task 7: an error the model reads";

  const auto plan = plan_of(m, chat->id);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->version, 3) << "created, then two changes";
  EXPECT_EQ(plan->plan["tasks"].size(), 3u);
  EXPECT_EQ(plan->plan["tasks"][0]["status"], "completed");
}

TEST(ServerTools, ACallRunsOnceWhateverItsRetries) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", "plan"));
  ASSERT_TRUE(chat.has_value());
  const std::int64_t now_ms = to_ms(m.executor.now());
  auto created = m.run(run_server_tool(
      m.store, nullptr, {"r-1", "user-1", chat->id, "create_plan", {{"title", "t"}}, now_ms}));
  ASSERT_TRUE(created.has_value());
  ASSERT_FALSE(created->is_error) << created->content;
  const ServerToolCall add{"r-2", "user-1", chat->id, "add_task", {{"title", "once"}}, now_ms};
  auto first = m.run(run_server_tool(m.store, nullptr, add));
  auto again = m.run(run_server_tool(m.store, nullptr, add));
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->content, first->content);
  const auto plan = plan_of(m, chat->id);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->plan["tasks"].size(), 1u);
  EXPECT_EQ(plan->version, 2);

  auto no_chat = m.run(
      run_server_tool(m.store, nullptr, {"r-3", "user-1", "", "get_plan", Json::object(), now_ms}));
  ASSERT_TRUE(no_chat.has_value());
  EXPECT_TRUE(no_chat->is_error);
  EXPECT_NE(no_chat->content.find("no chat"), std::string::npos) << no_chat->content;
}

// Asks `calculate` once, then answers with what it got.
class CalculatingLlm final : public llm::Llm {
 public:
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink) override {
    llm::Response reply;
    if (turn++ == 0) {
      llm::Block block;
      block.kind = llm::Block::Kind::tool_call;
      block.tool_call_id = "c1";
      block.tool_name = "calculate";
      block.input = {{"expression", "[3, 4, 5].map(x, x * x).size() + n"},
                     {"variables", {{"n", 40}}}};
      reply.content.push_back(std::move(block));
      reply.stop_reason = "tool_use";
    } else {
      reply.content.push_back(llm::Block::text_block("done"));
      reply.stop_reason = "end_turn";
    }
    co_return reply;
    (void)request;
  }
  int turn = 0;
};

// `calculate` runs anywhere (seed 001's ToolRunsAnywhere): on the user's daemon when one is
// online, on the worker for a user with none; the same answer either way.
TEST(ServerTools, ACalculationRunsOnTheDaemonWhenOneIsOnlineAndOnTheWorkerOtherwise) {
  for (const char* user : {"user-1", "user-2"}) {  // user-2 has no daemon
    CalculatingLlm model;
    Monolith m(&model);
    auto chat = m.run(m.chats.create_chat(user, "calc"));
    ASSERT_TRUE(chat.has_value());
    ASSERT_TRUE(m.run(m.chats.send_message(user, chat->id, "how many?", {})).has_value());
    m.run_until([&] {
      auto view = m.run(m.chats.get_chat(user, chat->id));
      return view && view->chat.status != ChatStatus::running;
    });
    auto view = m.run(m.chats.get_chat(user, chat->id));
    ASSERT_TRUE(view.has_value());
    const Json* result = nullptr;
    for (const auto& message : view->messages) {
      for (const auto& block : message.blocks) {
        if (block.kind == "tool_result") result = &block.body;
      }
    }
    ASSERT_NE(result, nullptr) << user;
    EXPECT_EQ(result->value("content", ""), "43") << user << ": " << result->dump();
    EXPECT_FALSE(result->value("is_error", true)) << user;
  }
  EXPECT_EQ(run_anywhere_tool("calculate", {{"expression", "1 +"}}).is_error, true);
  EXPECT_NE(run_anywhere_tool("calculate", {{"expression", "1 +"}}).content.find("column"),
            std::string::npos);
  EXPECT_EQ(run_anywhere_tool("calculate", {{"expression", "1 / 0"}}).is_error, true);
}

}  // namespace
}  // namespace reliant::agent
