// The talking nodes' semantics on the engine (services/agent/node_activities.cc), in virtual
// time: `compact` summarises a thread with the model only above its threshold, records the token
// counts, and later reads of the thread start from the summary (on its own and inside
// builtin://agent, whose edge compares execute_tools' thread_token_count); `call_llm`'s
// system_prompt, temperature and tool_filter / tools (names and tags) reach the model's request.
// Args of the wrong type (a threshold in words, a role that is a number) fail their node with the
// reason instead of throwing out of the activity, which would end the worker's process.
#include <set>

#include <gtest/gtest.h>

#include "services/agent/node_support.h"
#include "services/storage/threads.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSummaryPrefix = "Summary of the conversation before this point:\n";

bool asks_for_summary(const llm::Request& request) {
  return request.system.starts_with("Summarise the conversation");
}

// Every text in a request's conversation, joined.
std::string conversation_text(const llm::Request& request) {
  std::string out;
  for (const llm::Message* message : request.conversation()) {
    for (const auto& block : message->content) out += block.text + "\n";
  }
  return out;
}

// The first text of a request's conversation ("" when it has none).
std::string first_text(const llm::Request& request) {
  const auto all = request.conversation();
  if (all.empty() || all.front()->content.empty()) return "";
  return all.front()->content.front().text;
}

// Keeps every request. Asked to summarise, it answers kSummary; otherwise its first answer is
// `first` (a tool call, or text when unset) and later ones "done".
class CompactingLlm final : public llm::Llm {
 public:
  static constexpr const char* kSummary = "The user asked to read big.txt; it was read.";
  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink) override {
    llm::Response reply;
    reply.model = "compacting";
    reply.stop_reason = "end_turn";
    if (asks_for_summary(request)) {
      reply.content.push_back(llm::Block::text_block(kSummary));
    } else if (turns++ == 0 && first) {
      reply.content.push_back(*first);
      reply.stop_reason = "tool_use";
    } else {
      reply.content.push_back(llm::Block::text_block("done"));
    }
    requests.push_back(std::move(request));
    co_return reply;
  }
  std::optional<llm::Block> first;
  int turns = 0;
  std::vector<llm::Request> requests;
};

std::vector<MessageRecord> thread_of(Monolith& m, const std::string& chat_id) {
  auto loaded = m.run(
      m.store.transact_for([chat_id](SqlTransaction& tx) { return load_thread(tx, chat_id, ""); }));
  EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
  return loaded ? std::move(*loaded) : std::vector<MessageRecord>{};
}

// About 2,000 bytes of notes: some 500 tokens at 4 bytes a token.
const std::string kLongNotes = [] {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "note " + std::to_string(i) + ": the build is still red. ";
  return text;
}();

// A note on the main thread, then `compact` with the threshold given, then a model call.
constexpr const char* kCompactThenAsk = R"(name: compacting
inputs:
  notes: {type: string}
  threshold: {type: integer}
entry: note
nodes:
  - {id: note, type: save_message, role: user, content: "{{ inputs.notes }}"}
  - id: squash
    type: compact
    args: {threshold: "{{ inputs.threshold }}"}
  - {id: ask, type: call_llm}
edges:
  - {from: note, to: squash}
  - {from: squash, to: ask}
outputs:
  compaction: "{{ nodes.squash }}"
)";

// Runs kCompactThenAsk with `threshold` on a chat of its own; returns the compact node's output.
Json compact_with(Monolith& m, std::int64_t threshold, std::string* chat_id) {
  auto chat = m.run(m.chats.create_chat("user-1", "compact"));
  EXPECT_TRUE(chat.has_value());
  *chat_id = chat->id;
  const std::string run_id = "compact-" + std::to_string(threshold);
  start_yaml_run(m, run_id, kCompactThenAsk, Json{{"chat_id", chat->id}},
                 Json{{"notes", kLongNotes}, {"threshold", threshold}});
  const engine::RunSummary ended = ended_run(m, run_id);
  EXPECT_EQ(ended.status, engine::RunStatus::completed) << ended.error.value_or("");
  return ended.result ? (*ended.result)["outputs"]["compaction"] : Json();
}

TEST(WorkflowCompact, BelowItsThresholdTheThreadIsLeftAsItIs) {
  CompactingLlm model;
  Monolith m(&model);
  std::string chat_id;
  const Json out = compact_with(m, 100000, &chat_id);

  EXPECT_EQ(out["compacted"], false) << out.dump();
  const std::vector<MessageRecord> thread = thread_of(m, chat_id);
  ASSERT_EQ(thread.size(), 1u);
  EXPECT_FALSE(is_summary(thread[0]));
  // The counts are the thread's own: the note it holds, 4 bytes a token.
  EXPECT_EQ(out["tokens_before"], estimated_tokens(thread)) << out.dump();
  EXPECT_EQ(out["thread_token_count"], estimated_tokens(thread));
  EXPECT_GT(out["tokens_before"].get<std::int64_t>(), 400);
  EXPECT_EQ(out["threshold"], 100000);
  // The model was asked once, by `ask`, about the whole note; never to summarise.
  ASSERT_EQ(model.requests.size(), 1u);
  EXPECT_FALSE(asks_for_summary(model.requests[0]));
  EXPECT_NE(conversation_text(model.requests[0]).find("note 49:"), std::string::npos);
}

TEST(WorkflowCompact, AboveItsThresholdASummaryStandsForTheThread) {
  CompactingLlm model;
  Monolith m(&model);
  std::string chat_id;
  const Json out = compact_with(m, 100, &chat_id);

  ASSERT_EQ(out["compacted"], true) << out.dump();
  // The model was asked to summarise the note, and then `ask` saw only the summary.
  ASSERT_EQ(model.requests.size(), 2u);
  ASSERT_TRUE(asks_for_summary(model.requests[0]));
  EXPECT_NE(conversation_text(model.requests[0]).find("note 49:"), std::string::npos);
  const llm::Request& after = model.requests[1];
  EXPECT_EQ(first_text(after), std::string(kSummaryPrefix) + CompactingLlm::kSummary);
  EXPECT_EQ(conversation_text(after).find("note 0:"), std::string::npos)
      << conversation_text(after);

  // Stored: a read of the thread starts from the summary, which records what it replaced.
  const std::vector<MessageRecord> thread = thread_of(m, chat_id);
  ASSERT_EQ(thread.size(), 1u);
  ASSERT_TRUE(is_summary(thread[0]));
  EXPECT_EQ(thread[0].id, out["message_id"]);
  EXPECT_EQ(thread[0].role, "system");
  EXPECT_EQ(thread[0].model, "compacting");
  const std::int64_t before = out["tokens_before"];
  EXPECT_EQ(thread[0].blocks.at(0).body["tokens_before"], before);
  EXPECT_GT(before, 400);
  EXPECT_EQ(out["tokens_after"], estimated_tokens(thread));
  EXPECT_EQ(out["thread_token_count"], out["tokens_after"]);
  EXPECT_LT(out["tokens_after"].get<std::int64_t>(), before);

  // The same note below the threshold counts the same: the counts measure the thread.
  CompactingLlm other_model;
  Monolith other(&other_model);
  std::string other_chat;
  EXPECT_EQ(compact_with(other, 100000, &other_chat)["tokens_before"], before);
}

// A threshold of the wrong type fails the node with the reason; it does not take the worker down.
TEST(WorkflowCompact, AThresholdThatIsNotANumberFailsTheNode) {
  CompactingLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", "compact"));
  ASSERT_TRUE(chat.has_value());
  start_yaml_run(m, "compact-lots", R"(name: lots
entry: squash
nodes:
  - {id: squash, type: compact, args: {threshold: lots}}
)",
                 Json{{"chat_id", chat->id}});
  const engine::RunSummary ended = ended_run(m, "compact-lots");
  ASSERT_EQ(ended.status, engine::RunStatus::failed);
  EXPECT_NE(ended.error.value_or("").find("compact node squash: threshold must be an integer"),
            std::string::npos)
      << ended.error.value_or("");
  EXPECT_TRUE(model.requests.empty());
}

TEST(WorkflowNodeArgs, ArgsOfTheWrongTypeFailTheNodeNotTheWorker) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{id: n, type: save_message, role: 5, content: hi}",
       "save_message node n: role must be text, not 5"},
      {"{id: n, type: call_llm, args: {messages: [{role: [x], content: hi}]}}",
       "call_llm node n: role must be text, not [\"x\"]"},
      {"{id: n, type: call_llm, thread: {mode: new, inject: {role: 7, content: hi}}}",
       "call_llm node n: role must be text, not 7"},
      {"{id: n, type: run, command: ls, shell: 5}", "run node n: shell must be text, not 5"},
  };
  for (const auto& [node, reason] : cases) {
    Monolith m;
    auto chat = m.run(m.chats.create_chat("user-1", "typed"));
    ASSERT_TRUE(chat.has_value());
    start_yaml_run(m, "typed", "name: typed\nentry: n\nnodes:\n  - " + node + "\n",
                   Json{{"chat_id", chat->id}});
    const engine::RunSummary ended = ended_run(m, "typed");
    EXPECT_EQ(ended.status, engine::RunStatus::failed) << node;
    EXPECT_NE(ended.error.value_or("").find(reason), std::string::npos)
        << node << ": " << ended.error.value_or("");
  }
}

// builtin://agent compacts when execute_tools reports a thread above compaction_threshold, and
// the next turn starts from the summary; below it the agent never asks for one.
TEST(WorkflowCompact, TheAgentCompactsOnlyWhenToolResultsPassTheThreshold) {
  std::string big;
  for (int i = 0; i < 200; ++i) big += "line " + std::to_string(i) + " of a large file\n";
  for (const bool small_threshold : {true, false}) {
    CompactingLlm model;
    llm::Block view;
    view.kind = llm::Block::Kind::tool_call;
    view.tool_call_id = "c1";
    view.tool_name = "view";
    view.input = Json{{"file_path", "big.txt"}};
    model.first = view;
    Monolith m(&model);
    m.host.put_file("/work/big.txt", big);
    auto chat = m.run(m.chats.create_chat("user-1", "agent"));
    ASSERT_TRUE(chat.has_value());
    SendOptions options;
    options.inputs = Json{{"compaction_threshold", small_threshold ? 1000 : 150000}};
    auto sent = m.run(m.chats.send_message("user-1", chat->id, "read big.txt", options));
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
    const engine::RunSummary ended = ended_run(m, sent->run_id);
    ASSERT_EQ(ended.status, engine::RunStatus::completed) << ended.error.value_or("");

    std::vector<const llm::Request*> summaries;
    std::vector<const llm::Request*> turns;
    for (const auto& request : model.requests)
      (asks_for_summary(request) ? summaries : turns).push_back(&request);
    ASSERT_EQ(turns.size(), 2u);
    const std::vector<MessageRecord> thread = thread_of(m, chat->id);
    ASSERT_FALSE(thread.empty());
    if (small_threshold) {
      ASSERT_EQ(summaries.size(), 1u);
      // The summary saw the file's content; the turn after it sees the summary instead.
      EXPECT_NE(conversation_text(*summaries[0]).find("line 199 of a large file"),
                std::string::npos);
      EXPECT_EQ(first_text(*turns[1]), std::string(kSummaryPrefix) + CompactingLlm::kSummary);
      EXPECT_EQ(conversation_text(*turns[1]).find("line 199"), std::string::npos);
      EXPECT_TRUE(is_summary(thread.front()));
    } else {
      EXPECT_TRUE(summaries.empty());
      EXPECT_NE(conversation_text(*turns[1]).find("line 199 of a large file"), std::string::npos);
      EXPECT_FALSE(is_summary(thread.front()));
      EXPECT_EQ(thread.front().role, "user");
    }
  }
}

// What a model call offers: the names of the request's tools.
std::set<std::string> offered(const llm::Request& request) {
  std::set<std::string> names;
  for (const auto& tool : request.tools) names.insert(tool.name);
  return names;
}

TEST(WorkflowCallLlm, SystemPromptTemperatureAndToolFilterReachTheModel) {
  CompactingLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", "options"));
  ASSERT_TRUE(chat.has_value());
  start_yaml_run(m, "options-1", R"(name: options
inputs:
  warmth: {type: number, default: 0.25}
entry: review
nodes:
  - id: review
    type: call_llm
    args:
      system_prompt: "You review diffs."
      temperature: "{{ inputs.warmth }}"
      tool_filter: ["tag:readonly"]
  - {id: plain, type: call_llm}
  - id: shell
    type: call_llm
    tools: [bash, "tag:edit"]
edges:
  - {from: review, to: plain}
  - {from: plain, to: shell}
)",
                 Json{{"chat_id", chat->id}});
  const engine::RunSummary ended = ended_run(m, "options-1");
  ASSERT_EQ(ended.status, engine::RunStatus::completed) << ended.error.value_or("");
  ASSERT_EQ(model.requests.size(), 3u);

  const llm::Request& review = model.requests[0];
  EXPECT_EQ(review.system, "You review diffs.");
  ASSERT_TRUE(review.temperature.has_value());
  EXPECT_DOUBLE_EQ(*review.temperature, 0.25);
  // tag:readonly: the daemon's tools that change nothing, and the plan's readers.
  EXPECT_EQ(offered(review),
            (std::set<std::string>{"bash_list", "bash_output", "calculate", "echo", "get_plan",
                                   "glob", "grep", "list_tasks", "ls", "view"}));

  // Without options: the default prompt, the provider's temperature, and every tool.
  const llm::Request& plain = model.requests[1];
  EXPECT_TRUE(plain.system.starts_with("You are Reliant")) << plain.system;
  EXPECT_FALSE(plain.temperature.has_value());
  for (const char* tool : {"bash", "write", "edit", "view", "create_plan", "update_task"}) {
    EXPECT_TRUE(offered(plain).contains(tool)) << tool;
  }

  // `tools:` at the node's top level is the same filter: a name and a tag.
  EXPECT_EQ(offered(model.requests[2]), (std::set<std::string>{"bash", "edit", "write"}));
}

// A filter written as one string is a list of one, not "no filter" (plan mode's tag:readonly
// must never offer bash); a filter of another type fails the node with what it got.
TEST(WorkflowCallLlm, AToolFilterWrittenAsOneStringIsAListOfOne) {
  CompactingLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", "one filter"));
  ASSERT_TRUE(chat.has_value());
  start_yaml_run(m, "string-filter-1", R"(name: one
entry: read
nodes:
  - id: read
    type: call_llm
    args: {tool_filter: "tag:readonly"}
)",
                 Json{{"chat_id", chat->id}});
  ASSERT_EQ(ended_run(m, "string-filter-1").status, engine::RunStatus::completed);
  ASSERT_EQ(model.requests.size(), 1u);
  EXPECT_TRUE(offered(model.requests[0]).contains("view"));
  EXPECT_FALSE(offered(model.requests[0]).contains("bash"));
  EXPECT_FALSE(offered(model.requests[0]).contains("write"));

  start_yaml_run(m, "number-filter-1", R"(name: two
entry: read
nodes:
  - id: read
    type: call_llm
    args: {tool_filter: 7}
)",
                 Json{{"chat_id", chat->id}});
  const engine::RunSummary failed = ended_run(m, "number-filter-1");
  EXPECT_EQ(failed.status, engine::RunStatus::failed);
  EXPECT_NE(failed.error.value_or("").find("tool_filter: a tool filter is a list"),
            std::string::npos)
      << failed.error.value_or("");
  EXPECT_EQ(model.requests.size(), 1u);  // the failed node asked no model
}

// builtin://agent passes its inputs on: a chat message's temperature and system prompt are what
// its model call asks with.
TEST(WorkflowCallLlm, TheAgentsInputsReachItsModelCall) {
  CompactingLlm model;
  Monolith m(&model);
  auto chat = m.run(m.chats.create_chat("user-1", "agent options"));
  ASSERT_TRUE(chat.has_value());
  SendOptions options;
  // No spawn_presets: the default preset's would add the spawn tools to tag:shell's.
  options.inputs = Json{{"temperature", 0.5},
                        {"system_prompt", "Answer in French."},
                        {"tools", Json::array({"tag:shell"})},
                        {"spawn_presets", Json::array()}};
  auto sent = m.run(m.chats.send_message("user-1", chat->id, "bonjour", options));
  ASSERT_TRUE(sent.has_value()) << sent.error().message;
  ASSERT_EQ(ended_run(m, sent->run_id).status, engine::RunStatus::completed);
  ASSERT_EQ(model.requests.size(), 1u);
  EXPECT_EQ(model.requests[0].system, "Answer in French.");
  ASSERT_TRUE(model.requests[0].temperature.has_value());
  EXPECT_DOUBLE_EQ(*model.requests[0].temperature, 0.5);
  EXPECT_EQ(offered(model.requests[0]),
            (std::set<std::string>{"bash", "bash_kill", "bash_list", "bash_output"}));
}

}  // namespace
}  // namespace reliant::agent
