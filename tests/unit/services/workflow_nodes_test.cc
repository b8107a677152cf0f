// The workflow nodes' activities under a chat, in virtual time: builtin://agent's modes (manual
// waits for an approval and a denial runs nothing; plan runs read-only tools only), and a model
// that answers with a malformed tool call or a response that does not fit its schema fails its
// node, with the reason on the chat, without crashing anything.
#include <set>

#include <gtest/gtest.h>

#include "core/engine/run_state.h"
#include "core/workflow/engine_workflow.h"
#include "services/agent/daemon_tool_specs.h"
#include "services/agent/node_support.h"
#include "services/engine/engine_sql.h"
#include "sim/sim_mcp_server.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

// The nodes the run waits on for a person (their keys).
std::vector<std::string> waiting(Monolith& m, const std::string& run_id) {
  auto keys =
      m.run(m.store.transact_for([run_id](SqlTransaction& tx) -> Result<std::vector<std::string>> {
        auto history = engine::load_history(tx, run_id);
        if (!history) return fail(history.error());
        auto state = engine::RunState::fold(*history);
        if (!state) return fail(state.error());
        auto nodes = workflow::waiting_nodes(*state);
        if (!nodes) return fail(nodes.error());
        std::vector<std::string> out;
        for (const auto& node : *nodes) out.push_back(node.key);
        return out;
      }));
  return keys ? *keys : std::vector<std::string>{};
}

void answer(Monolith& m, const std::string& run_id, const std::string& key, Json output) {
  const std::int64_t now_ms = to_ms(m.executor.now());
  const SqlDialect dialect = m.store.dialect();
  auto signalled = m.run(m.store.transact_for([=](SqlTransaction& tx) {
    return engine::signal_run(tx, dialect, run_id, std::string(workflow::kAnswerSignal),
                              Json{{"key", key}, {"output", output}}, now_ms);
  }));
  ASSERT_TRUE(signalled.has_value()) << signalled.error().message;
}

// Starts a run of the workflow `source` (YAML) that talks in `chat_id`, as the API would.
void start_chat_run(Monolith& m, const std::string& run_id, const std::string& chat_id,
                    std::string source) {
  workflow::RunRequest request;
  request.user_id = "user-1";
  request.file = run_id + ".yaml";
  request.source = std::move(source);
  request.context = Json{{"user_id", "user-1"}, {"chat_id", chat_id}};
  const engine::NewRun run{run_id, "reliant", std::string(workflow::kEngineWorkflowName),
                           workflow::to_json(request)};
  const std::int64_t now_ms = to_ms(m.executor.now());
  auto started =
      m.run(m.store.transact_for([run, now_ms, dialect = m.store.dialect()](SqlTransaction& tx) {
        return engine::start_run(tx, dialect, run, now_ms);
      }));
  ASSERT_TRUE(started.has_value()) << started.error().message;
}

ChatView finished(Monolith& m, const std::string& user, const std::string& chat_id) {
  m.run_until([&] {
    auto view = m.run(m.chats.get_chat(user, chat_id));
    return view && view->chat.status != ChatStatus::running;
  });
  auto view = m.run(m.chats.get_chat(user, chat_id));
  EXPECT_TRUE(view.has_value());
  return view ? std::move(*view) : ChatView{};
}

std::string tool_output(const ChatView& view) {
  std::string out;
  for (const auto& message : view.messages) {
    for (const auto& block : message.blocks) {
      if (block.kind == "tool_result") out += block.body.value("content", "") + "\n";
    }
  }
  return out;
}

TEST(WorkflowNodes, ManualModeRunsToolsOnlyOnceApproved) {
  for (const bool approve : {true, false}) {
    Monolith m;
    auto chat = m.run(m.chats.create_chat("user-1", "manual"));
    ASSERT_TRUE(chat.has_value());
    SendOptions options;
    options.mode = "manual";
    auto sent = m.run(m.chats.send_message("user-1", chat->id, "run `uname -a`", options));
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
    m.run_until([&] { return !waiting(m, sent->run_id).empty(); });
    const auto keys = waiting(m, sent->run_id);
    ASSERT_EQ(keys, std::vector<std::string>{"turns#0/approve_tools"});
    // Nothing ran while it waited.
    auto before = m.run(m.chats.get_chat("user-1", chat->id));
    ASSERT_TRUE(before.has_value());
    EXPECT_EQ(tool_output(*before), "");

    answer(m, sent->run_id, keys[0],
           Json{{"status", approve ? "approved" : "denied"}, {"message", "not now"}});
    const ChatView view = finished(m, "user-1", chat->id);
    EXPECT_EQ(view.chat.status, ChatStatus::idle);
    if (approve) {
      EXPECT_NE(tool_output(view).find("SimOS 1.0"), std::string::npos) << tool_output(view);
    } else {
      EXPECT_EQ(tool_output(view), "");
      const auto& last = view.messages.back();
      EXPECT_EQ(last.role, "system");
      EXPECT_NE(last.blocks.at(0).body.value("text", "").find("declined: not now"),
                std::string::npos);
    }
  }
}

TEST(WorkflowNodes, PlanModeRunsReadOnlyToolsOnly) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", "plan"));
  ASSERT_TRUE(chat.has_value());
  SendOptions options;
  options.mode = "plan";
  // The scripted model asks for ls (read-only) and bash (not) whatever it is offered.
  auto sent =
      m.run(m.chats.send_message("user-1", chat->id, "list the files and run `uname -a`", options));
  ASSERT_TRUE(sent.has_value());
  const ChatView view = finished(m, "user-1", chat->id);
  const std::string out = tool_output(view);
  EXPECT_NE(out.find("README.md"), std::string::npos) << out;
  EXPECT_EQ(out.find("SimOS"), std::string::npos) << out;
  EXPECT_NE(out.find("bash is not allowed here"), std::string::npos) << out;
}

// A model that answers the same thing every time.
class FixedLlm final : public llm::Llm {
 public:
  explicit FixedLlm(llm::Response reply) : reply_(std::move(reply)) {}
  Task<Result<llm::Response>> complete(llm::Request, llm::TextSink) override { co_return reply_; }

 private:
  llm::Response reply_;
};

llm::Response calling(std::string tool, Json input) {
  llm::Response reply;
  llm::Block call;
  call.kind = llm::Block::Kind::tool_call;
  call.tool_call_id = "c1";
  call.tool_name = std::move(tool);
  call.input = std::move(input);
  reply.content.push_back(std::move(call));
  reply.stop_reason = "tool_use";
  return reply;
}

std::string failure(Monolith& m, const std::string& chat_id, SendOptions options) {
  auto sent = m.run(m.chats.send_message("user-1", chat_id, "go", std::move(options)));
  EXPECT_TRUE(sent.has_value());
  const ChatView view = finished(m, "user-1", chat_id);
  EXPECT_EQ(view.chat.status, ChatStatus::failed);
  std::string error;
  for (const auto& message : view.messages) {
    for (const auto& block : message.blocks) {
      if (block.kind == "error") error = block.body.value("message", "");
    }
  }
  return error;
}

TEST(WorkflowNodes, AMalformedToolCallFailsTheNodeWithItsReason) {
  FixedLlm model(calling("", Json::object()));
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  const std::string error = failure(m, chat->id, {});
  EXPECT_NE(error.find("think: "), std::string::npos) << error;
  EXPECT_NE(error.find("malformed tool call (no tool name)"), std::string::npos) << error;

  FixedLlm not_a_map(calling("bash", Json::array()));
  Monolith n(&not_a_map);
  auto other = n.run(n.chats.create_chat("user-1", ""));
  ASSERT_TRUE(other.has_value());
  const std::string second = failure(n, other->id, {});
  EXPECT_NE(second.find("bash's input is not an object"), std::string::npos) << second;
}

TEST(WorkflowNodes, AResponseThatDoesNotFitItsSchemaFailsTheNode) {
  FixedLlm model(calling("submit_response", Json{{"value", "no choice"}}));
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  SendOptions options;
  options.workflow = "builtin://structured-agent";
  const std::string error = failure(m, chat->id, options);
  EXPECT_NE(error.find("submit_response response does not fit its schema: the required field "
                       "\"choice\" is missing"),
            std::string::npos)
      << error;
}

TEST(WorkflowNodes, AStructuredAgentEndsWithItsResponse) {
  Monolith m;  // the scripted model answers a response tool from its schema
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  SendOptions options;
  options.workflow = "builtin://structured-agent";
  const Json grade = {{"type", "string"}, {"enum", {"pass", "fail"}}};
  const Json schema = {
      {"type", "object"}, {"required", Json::array({"grade"})}, {"properties", {{"grade", grade}}}};
  options.inputs = Json{{"response_schema", schema}};
  auto sent = m.run(m.chats.send_message("user-1", chat->id, "review it", options));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  const ChatView view = finished(m, "user-1", chat->id);
  EXPECT_EQ(view.chat.status, ChatStatus::idle);
  auto run = m.run(m.store.transact_for(
      [id = sent->run_id](SqlTransaction& tx) { return engine::get_run(tx, id); }));
  ASSERT_TRUE(run.has_value());
  ASSERT_TRUE(run->result.has_value());
  EXPECT_EQ((*run->result)["outputs"]["response"], (Json{{"grade", "pass"}}))
      << run->result->dump();
}

// A model that answers with text and keeps what it was asked.
class RecordingLlm final : public llm::Llm {
 public:
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink) override {
    requests.push_back(std::move(request));
    llm::Response reply;
    reply.content.push_back(llm::Block::text_block("noted"));
    reply.stop_reason = "end_turn";
    co_return reply;
  }
  std::vector<llm::Request> requests;
};

// `messages:` makes a model call about those messages, not about the chat's thread: an ad-hoc
// call (a filter, an audit) that the conversation does not see.
TEST(WorkflowNodes, GivenMessagesStandInsteadOfTheThread) {
  RecordingLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", "ad hoc"));
  ASSERT_TRUE(chat.has_value());
  start_chat_run(m, "audit-1", chat->id, R"(name: audit
entry: check
nodes:
  - id: check
    type: call_llm
    args:
      messages:
        - {role: system, content: "You audit."}
        - {role: user, content: "Is {{ 6 * 7 }} right?"}
)");
  m.run_until([&] { return !model.requests.empty(); });
  ASSERT_EQ(model.requests.size(), 1u);
  const llm::Request& asked = model.requests[0];
  EXPECT_EQ(asked.earlier, nullptr) << "the thread is not sent";
  ASSERT_EQ(asked.messages.size(), 1u);
  EXPECT_EQ(asked.messages[0].content.at(0).text, "Is 42 right?");
  EXPECT_NE(asked.system.find("You audit."), std::string::npos) << asked.system;
}

// The chat shows its main thread only, so the text a model streams on a node's own thread is not
// previewed there; the main thread's is, naming the message that then stores it.
TEST(WorkflowNodes, OnlyTheMainThreadsTextStreamsToTheChat) {
  Monolith m;
  auto chat = m.run(m.chats.create_chat("user-1", "threads"));
  ASSERT_TRUE(chat.has_value());
  auto feed = updates::UserFeed::open(m.env, {"user-1", 0, chat->id});
  ASSERT_TRUE(feed.has_value());
  std::vector<updates::UserEvent> events;
  bool done = false;  // never: the chat's status stays idle, since no message started the run
  m.scope->spawn(follow(feed->get(), &events, &done));
  start_chat_run(m, "threads-1", chat->id, R"(name: threads
entry: aside
nodes:
  - id: aside
    type: call_llm
    thread: {mode: new}
    save_message: {role: assistant, content: "{{ output.response_text }}"}
  - id: main
    type: call_llm
    save_message: {role: assistant, content: "{{ output.response_text }}"}
edges:
  - {from: aside, to: main}
)");
  m.run_until([&] {
    auto summary = m.run(
        m.store.transact_for([](SqlTransaction& tx) { return engine::get_run(tx, "threads-1"); }));
    return summary && summary->terminal();
  });

  std::set<std::string> streamed_ids;
  std::set<std::string> streamed_nodes;
  for (const auto& event : events) {
    if (event.kind != "text_delta") continue;
    streamed_ids.insert(event.body.value("message_id", ""));
    streamed_nodes.insert(event.body.value("node", ""));
  }
  EXPECT_EQ(streamed_nodes, std::set<std::string>{"main"});
  auto view = m.run(m.chats.get_chat("user-1", chat->id));
  ASSERT_TRUE(view.has_value());
  std::set<std::string> shown;
  for (const auto& message : view->messages) shown.insert(message.id);
  ASSERT_EQ(streamed_ids.size(), 1u);
  EXPECT_TRUE(shown.contains(*streamed_ids.begin())) << *streamed_ids.begin();
}

// A model that calls the daemon's MCP echo tool once it is offered, then answers.
class McpCallingLlm final : public llm::Llm {
 public:
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink) override {
    offered.clear();
    for (const auto& tool : request.tools) offered.push_back(tool.name);
    llm::Response reply;
    const bool called =
        !request.messages.empty() && request.messages.back().role == llm::Message::Role::tool;
    if (!called && std::find(offered.begin(), offered.end(), "mcp__files__echo") != offered.end()) {
      llm::Block call;
      call.kind = llm::Block::Kind::tool_call;
      call.tool_call_id = "call-1";
      call.tool_name = "mcp__files__echo";
      call.input = Json{{"text", "echoed by the MCP server"}};
      reply.content.push_back(std::move(call));
      reply.stop_reason = "tool_use";
    } else {
      reply.content.push_back(llm::Block::text_block("done"));
      reply.stop_reason = "end_turn";
    }
    co_return reply;
  }
  std::vector<std::string> offered;
};

TEST(WorkflowNodes, TheDaemonsMcpToolsAreOfferedAndRunThroughIt) {
  McpCallingLlm model;
  Monolith m(&model);
  m.host.on_interactive("'sim-mcp'", sim::SimMcpServer::factory({}));
  mcp::McpServerConfig files;
  files.name = "files";
  files.command = "sim-mcp";
  m.mcp.configure({{"files", files}});
  auto chat = m.run(m.chats.create_chat("user-1", "mcp"));
  ASSERT_TRUE(chat.has_value());
  auto sent = m.run(m.chats.send_message("user-1", chat->id, "echo something", SendOptions{}));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  const ChatView view = finished(m, "user-1", chat->id);
  EXPECT_EQ(view.chat.status, ChatStatus::idle);
  EXPECT_NE(std::find(model.offered.begin(), model.offered.end(), "bash"), model.offered.end());
  EXPECT_NE(tool_output(view).find("echoed by the MCP server"), std::string::npos)
      << tool_output(view);
  // Plan mode offers only read-only tools: no MCP tool.
  SendOptions plan;
  plan.mode = "plan";
  auto planned = m.run(m.chats.send_message("user-1", chat->id, "look only", plan));
  ASSERT_TRUE(planned.has_value()) << planned.error().message;
  (void)finished(m, "user-1", chat->id);
  EXPECT_EQ(std::find(model.offered.begin(), model.offered.end(), "mcp__files__echo"),
            model.offered.end());
}

// The monolith's router, counting the gateways' presence checks (is_online).
class PresenceCountingRouter final : public routing::DaemonRouter {
 public:
  explicit PresenceCountingRouter(routing::DaemonRouter& inner) : inner_(inner) {}
  Task<Result<routing::v1::ToolResponse>> send_tool_request(routing::ToolCall call) override {
    return inner_.send_tool_request(std::move(call));
  }
  Task<Result<routing::v1::ToolResponse>> send_tool_request_sync(routing::ToolCall call) override {
    return inner_.send_tool_request_sync(std::move(call));
  }
  Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id, std::string request_id,
                                 std::string reason) override {
    return inner_.cancel_tool(std::move(user_id), std::move(daemon_id), std::move(request_id),
                              std::move(reason));
  }
  Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) override {
    ++presence_checks;
    return inner_.is_online(std::move(user_id), std::move(daemon_id));
  }
  Task<Result<routing::v1::DaemonCommandResult>> send_command(
      routing::v1::DaemonCommand command) override {
    return inner_.send_command(std::move(command));
  }
  Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) override {
    return inner_.reload_config(std::move(user_id), std::move(daemon_id));
  }
  int presence_checks = 0;

 private:
  routing::DaemonRouter& inner_;
};

// Issue 44: a model call's offer of MCP tools chooses its daemon by the rows alone — asking the
// gateways cost every model call a round trip through the bus to each of them — while a tool
// call still asks which daemon really is connected. With the daemons read already (by the call's
// own transaction), the offer reads nothing more.
TEST(WorkflowNodes, AnOfferOfMcpToolsTakesTheRowsWordAndAToolCallAsksTheGateways) {
  Monolith m;
  mcp::McpServerConfig files;
  files.name = "files";
  files.command = "sim-mcp";
  m.host.on_interactive("'sim-mcp'", sim::SimMcpServer::factory({}));
  m.mcp.configure({{"files", files}});
  PresenceCountingRouter router(m.router);
  AgentDeps deps{m.store, &m.bus, m.llm, router, "scripted", builtin_tool_specs()};
  NodeInput node;
  node.user_id = "user-1";
  DaemonToolSpecs specs;
  const OfferedTools offered = m.run(specs.for_node(deps, m.executor, node));
  EXPECT_EQ(offered.daemon_id, "daemon-1");
  EXPECT_EQ(router.presence_checks, 0);

  auto read = m.run(m.store.transact_for([](SqlTransaction& tx) -> Result<ChatDaemons> {
    auto daemons = list_daemons(tx, "user-1");  // a node in no chat chooses among these
    if (!daemons) return fail(daemons.error());
    return ChatDaemons{{}, std::move(*daemons)};
  }));
  ASSERT_TRUE(read.has_value()) << read.error().message;
  DaemonToolSpecs fresh;  // nothing kept: the offer asks the daemon for its tools again
  const OfferedTools again = m.run(fresh.for_node(deps, m.executor, node, std::move(*read)));
  EXPECT_EQ(again.daemon_id, "daemon-1");
  EXPECT_EQ(router.presence_checks, 0);
  std::vector<std::string> names;
  for (const auto& spec : again.specs) names.push_back(spec.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "mcp__files__echo"), names.end());

  auto chosen = m.run(node_daemon(deps, node));
  ASSERT_TRUE(chosen.has_value()) << chosen.error().message;
  EXPECT_EQ(*chosen, "daemon-1");
  EXPECT_EQ(router.presence_checks, 1);
}

// Issue 38: an MCP server that never answered initialize held every chat's first turn for 30 s
// (the daemon's tool_specs waited for its handshake). The turn goes on with the servers that are
// up; the stuck one is named as starting, so the worker asks again soon.
TEST(WorkflowNodes, AnMcpServerThatNeverStartsDoesNotHoldUpTheTurn) {
  McpCallingLlm model;
  Monolith m(&model);
  sim::SimMcpServerOptions stuck;
  stuck.never_initialize = true;
  m.host.on_interactive("'sim-mcp'", sim::SimMcpServer::factory({}));
  m.host.on_interactive("'stuck-mcp'", sim::SimMcpServer::factory(stuck));
  mcp::McpServerConfig files;
  files.name = "files";
  files.command = "sim-mcp";
  mcp::McpServerConfig slow;
  slow.name = "slow";
  slow.command = "stuck-mcp";
  m.mcp.configure({{"files", files}, {"slow", slow}});
  auto chat = m.run(m.chats.create_chat("user-1", "mcp"));
  ASSERT_TRUE(chat.has_value());
  const Instant start = m.world.now();
  auto sent = m.run(m.chats.send_message("user-1", chat->id, "echo something", SendOptions{}));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  const ChatView view = finished(m, "user-1", chat->id);
  EXPECT_LT(m.world.now() - start, seconds(10)) << "not the 30 s of the stuck handshake";
  EXPECT_NE(tool_output(view).find("echoed by the MCP server"), std::string::npos)
      << tool_output(view);
  auto specs = m.run(m.router.daemon_command("user-1", "daemon-1", "tool_specs", "{}"));
  ASSERT_TRUE(specs.has_value());
  const Json listed = Json::parse(specs->output_json());
  ASSERT_FALSE(listed.empty());
  EXPECT_EQ(listed.back(), (Json{{"starting", "slow"}})) << listed.dump();
}

TEST(WorkflowNodes, TheDaemonReloadsItsMcpConfigurationOnCommand) {
  Monolith m;
  auto without = m.run(m.router.daemon_command("user-1", "daemon-1", "reload_config", "{}"));
  ASSERT_TRUE(without.has_value());
  EXPECT_FALSE(without->ok());
  EXPECT_NE(without->error_message().find("no MCP configuration"), std::string::npos);
  mcp::McpServerConfig files;
  files.name = "files";
  files.command = "sim-mcp";
  m.mcp.set_source([files] {
    return Result<mcp::McpConfig>(mcp::McpConfig{{{"files", files}}, {}});
  });
  auto reloaded = m.run(m.router.daemon_command("user-1", "daemon-1", "reload_config", "{}"));
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_TRUE(reloaded->ok()) << reloaded->error_message();
  EXPECT_EQ(Json::parse(reloaded->output_json())[0]["name"], "files");
  auto other = m.run(m.router.daemon_command("user-2", "daemon-1", "reload_config", "{}"));
  EXPECT_FALSE(other.has_value()) << "another user's daemon is not reached";
}

TEST(WorkflowNodes, AChatRefusesAWorkflowItCannotRun) {
  Monolith m;
  auto unknown =
      m.run(m.chats.create_chat("user-1", "", ChatWorkflow{"builtin://nope", {}, "", {}}));
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(unknown.error().message.find("builtin://nope"), std::string::npos)
      << unknown.error().message;
  auto bad_inputs = m.run(m.chats.create_chat(
      "user-1", "", ChatWorkflow{"builtin://agent", Json{{"mode", "reckless"}}, "", {}}));
  ASSERT_FALSE(bad_inputs.has_value());
  EXPECT_NE(bad_inputs.error().message.find("mode"), std::string::npos);
  auto chat = m.run(m.chats.create_chat("user-1", ""));
  ASSERT_TRUE(chat.has_value());
  SendOptions options;
  options.mode = "reckless";
  auto sent = m.run(m.chats.send_message("user-1", chat->id, "hi", options));
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace reliant::agent
