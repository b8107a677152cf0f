// The agent loop end to end in virtual time: a chat message starts a builtin://agent run on a
// real Worker and SQLite store; the scripted model lists the files and runs a command on the
// in-process daemon; every step is stored once and streamed to a UserFeed in order.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/agent/scripted_model.h"
#include "services/agent/chat_service.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

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

  // Streamed text names the message that stores it, so a client shows each text once: the
  // deltas of one message spell the stored message's text.
  std::map<std::string, std::string> streamed;
  for (const auto& event : events) {
    if (event.kind == "text_delta")
      streamed[event.body.value("message_id", "")] += event.body.value("text", "");
  }
  ASSERT_FALSE(streamed.contains("")) << "a delta without its message's id";
  std::map<std::string, std::string> stored;
  for (const auto& message : view->messages) {
    if (message.role == "assistant" && !message.blocks.empty())
      stored[message.id] = message.blocks.at(0).body.value("text", "");
  }
  EXPECT_EQ(streamed, stored);
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
  SendOptions bad;
  bad.daemon = nlohmann::json(42);
  auto bad_selector = m.run(m.chats.send_message("user-1", chat->id, "x", bad));
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

// A "{{ … }}" selector sent with a message is evaluated once, when the run starts, over its
// inputs, chat and user; the run keeps the literal it chose.
TEST(AgentLoop, AMessagesCelSelectorIsEvaluatedWhenItsRunStarts) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  auto send = [&](nlohmann::json selector) {
    SendOptions options;
    options.daemon = std::move(selector);
    return m.run(m.chats.send_message("user-1", chat->id, "run `ls`", options));
  };
  auto not_cel = send("{{ 1 + }}");
  ASSERT_FALSE(not_cel.has_value());
  EXPECT_EQ(not_cel.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(not_cel.error().message.find("{{ 1 + }}"), std::string::npos)
      << not_cel.error().message;
  auto not_a_selector = send("{{ 1 + 1 }}");
  ASSERT_FALSE(not_a_selector.has_value());
  EXPECT_NE(not_a_selector.error().message.find("a string or a map, not int"), std::string::npos)
      << not_a_selector.error().message;
  auto unknown = send("{{ inputs.where }}");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("no such key: where"), std::string::npos)
      << unknown.error().message;

  // user-1's only daemon is "laptop"; the expression names another, so the tool reports it.
  auto elsewhere = send("{{ user.id + '-box' }}");
  ASSERT_TRUE(elsewhere.has_value()) << elsewhere.error().message;
  auto idle = [&] {
    auto view = m.run(m.chats.get_chat("user-1", chat->id));
    return view && view->chat.status != ChatStatus::running;
  };
  m.run_until(idle);
  auto view = m.run(m.chats.get_chat("user-1", chat->id));
  ASSERT_TRUE(view.has_value());
  ASSERT_GE(view->messages.size(), 3u);
  const auto& missed = view->messages[2].blocks.at(0).body;
  EXPECT_TRUE(missed.value("is_error", false));
  EXPECT_NE(missed.dump().find("user-1-box"), std::string::npos) << missed.dump();

  auto chosen = send("{{ {'name': chat.id == '' ? 'nowhere' : 'laptop'} }}");
  ASSERT_TRUE(chosen.has_value()) << chosen.error().message;
  m.run_until(idle);
  view = m.run(m.chats.get_chat("user-1", chat->id));
  ASSERT_TRUE(view.has_value());
  const auto& ran = view->messages.at(view->messages.size() - 2).blocks.at(0).body;
  EXPECT_FALSE(ran.value("is_error", true)) << ran.dump();
}

// A chat's model (an input given when it was created) holds for its messages; a message that
// names a model uses that one, for itself only.
TEST(AgentLoop, AMessagesModelWinsOverTheChatsForThatMessage) {
  Monolith m;
  ChatWorkflow workflow;
  workflow.inputs = {{"model", "chat-model"}};
  auto chat = m.run(m.chats.create_chat("user-1", "", workflow));
  ASSERT_TRUE(chat.has_value()) << chat.error().message;
  auto model_of = [&](const std::string& named) {
    SendOptions options;
    options.model = named;
    auto sent = m.run(m.chats.send_message("user-1", chat->id, "hello", options));
    EXPECT_TRUE(sent.has_value()) << sent.error().message;
    if (!sent) return nlohmann::json();
    const auto run = ended_run(m, sent->run_id);
    return run.input["inputs"].value("model", nlohmann::json());
  };
  EXPECT_EQ(model_of("message-model"), "message-model");
  EXPECT_EQ(model_of(""), "chat-model");
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
