// The spawn tools (spawn_tools.h): sub-agents as child runs, their messages as signals.
#include "services/agent/spawn_tools.h"

#include <algorithm>
#include <functional>
#include <variant>

#include "base/json_parse.h"
#include "core/agent/chat_title.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/preset_inputs.h"
#include "core/workflow/tool_filter.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/agent/step_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/plans.h"
#include "services/storage/preset_library.h"
#include "services/storage/spawned_agents.h"
#include "services/storage/threads.h"
#include "services/worker/worker.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kParent = "parent";
constexpr std::int64_t kWaitSecondsDefault = 60;
constexpr std::size_t kLastMessageBytesMax = 4 * 1024;

SpawnToolAnswer refused(std::string why) { return {std::move(why), true, nullptr}; }

llm::ToolSpec spec(std::string name, std::string description, Json properties,
                   std::vector<std::string> required) {
  return {std::move(name), std::move(description),
          Json{{"type", "object"}, {"properties", std::move(properties)}, {"required", required}},
          false};
}

const Json kAgentRef = {{"type", "string"},
                        {"description", "The sub-agent: its agent_id, or its title."}};

}  // namespace

std::vector<llm::ToolSpec> spawn_tool_specs(const std::vector<std::string>& presets, bool spawned) {
  std::vector<llm::ToolSpec> specs;
  if (!presets.empty()) {
    specs.push_back(spec(
        "spawn",
        "Start a sub-agent on a task of its own, in the background, on a thread of its own: it "
        "sees only your prompt. The call returns its agent_id at once; its final answer reaches "
        "you as a message on a later turn, beginning [PRESET]. Start independent sub-agents in "
        "one turn; do not wait for them in the same turn.",
        {{"preset", {{"type", "string"}, {"enum", presets}, {"description", "What it is."}}},
         {"prompt",
          {{"type", "string"}, {"description", "The whole task: everything it needs to know."}}},
         {"title", {{"type", "string"}, {"description", "A short name to refer to it by."}}},
         {"model",
          {{"type", "string"}, {"description", "A model to use instead of its preset's."}}}},
        {"preset", "prompt"}));
    specs.push_back(spec("spawn_status",
                         "Your sub-agents: all of them, or one with its last message. With wait, "
                         "waits for that one to end (up to timeout_s seconds).",
                         {{"agent_id", kAgentRef},
                          {"wait", {{"type", "boolean"}}},
                          {"timeout_s", {{"type", "integer"}, {"minimum", 1}}}},
                         {}));
    specs.push_back(spec("spawn_stop",
                         "Ask a sub-agent of yours to stop; it stops at its next step.",
                         {{"agent_id", kAgentRef}}, {"agent_id"}));
  }
  if (!presets.empty() || spawned) {
    specs.push_back(spec(
        "spawn_send",
        std::string("Queue a message for the next turn of a running sub-agent of yours") +
            (spawned ? ", or of the agent that started you (agent_id \"parent\")." : "."),
        {{"agent_id", kAgentRef}, {"message", {{"type", "string"}}}}, {"agent_id", "message"}));
  }
  return specs;
}

std::vector<std::string> spawn_presets_in(const Json& filter) {
  if (filter.is_null()) return {};
  auto parsed = workflow::parse_tool_filter(filter);
  return parsed ? workflow::spawn_presets_of(*parsed) : std::vector<std::string>{};
}

std::string spawn_workflow_in(const Json& filter) {
  auto parsed = filter.is_null() ? tl::expected<workflow::ToolFilter, std::string>()
                                 : workflow::parse_tool_filter(filter);
  if (parsed) {
    for (const auto& entry : parsed->entries) {
      if (entry.kind != workflow::ToolFilterEntry::Kind::spawn || entry.presets.empty()) continue;
      return entry.text.find("://") == std::string::npos ? "builtin://" + entry.text : entry.text;
    }
  }
  return "builtin://agent";
}

bool is_spawned_run(const Json& run_context) {
  return run_context.is_object() && run_context.contains("spawn") &&
         !reliant::text_field(run_context, "parent_run_id").empty();
}

namespace {

// What a spawn starts, read from the call before any transaction.
struct SpawnRequest {
  std::string preset;
  std::string prompt;
  std::string title;
  std::string model;
};

std::variant<SpawnRequest, std::string> read_spawn(const SpawnToolCall& call) {
  const Json& in = call.input;
  for (const char* unsupported : {"agent_id", "worktree", "create_worktree"}) {
    if (in.contains(unsupported)) {
      return std::string("spawn takes no ") + unsupported +
             " here: start a new sub-agent with preset and prompt";
    }
  }
  SpawnRequest request{reliant::text_field(in, "preset"), reliant::text_field(in, "prompt"),
                       reliant::text_field(in, "title"), reliant::text_field(in, "model")};
  if (call.presets.empty())
    return std::string("spawning is off here: the tool filter has no spawn entry with presets");
  std::string allowed;
  for (const auto& name : call.presets) allowed += (allowed.empty() ? "" : ", ") + name;
  if (request.preset.empty()) return "spawn needs a preset (one of: " + allowed + ")";
  if (std::find(call.presets.begin(), call.presets.end(), request.preset) == call.presets.end()) {
    return "preset \"" + request.preset +
           "\" is not one this agent may spawn (spawn_presets: " + allowed + ")";
  }
  if (request.prompt.empty()) return std::string("spawn needs a prompt: the sub-agent's task");
  if (request.prompt.size() > kSpawnPromptBytesMax) {
    return "the prompt is " + std::to_string(request.prompt.size()) + " bytes; at most " +
           std::to_string(kSpawnPromptBytesMax);
  }
  if (request.title.empty()) {
    request.title = title_from_message(request.prompt);
  } else if (auto checked = checked_title(request.title); checked) {
    request.title = std::move(*checked);
  } else {
    return "title: " + checked.error().message;
  }
  return request;
}

// The bounds a new sub-agent must stay within, or why it may not start.
Result<std::optional<std::string>> over_bounds(SqlTransaction& tx, const NodeInput& node,
                                               const std::string& run_id) {
  const std::int64_t spawn_depth = integer_field(node.run, "spawn_depth", 0) + 1;
  if (spawn_depth > kSpawnDepthMax) {
    return std::optional<std::string>("sub-agents nest at most " + std::to_string(kSpawnDepthMax) +
                                      " deep, and this agent is at depth " +
                                      std::to_string(spawn_depth - 1));
  }
  if (integer_field(node.run, "depth", 0) + 1 > workflow::kChildRunDepthMax) {
    return std::optional<std::string>("runs nest at most " +
                                      std::to_string(workflow::kChildRunDepthMax) + " deep");
  }
  auto agents = list_spawned_agents(tx, run_id);
  if (!agents) return fail(agents.error());
  const auto running = static_cast<std::size_t>(std::count_if(
      agents->begin(), agents->end(), [](const auto& a) { return a.status == "running"; }));
  if (running >= kSpawnsRunningMax) {
    return std::optional<std::string>(
        "spawn limit reached: " + std::to_string(running) +
        " sub-agents of this agent are running (at most " + std::to_string(kSpawnsRunningMax) +
        "); wait for one to end (spawn_status with wait) or stop one (spawn_stop)");
  }
  if (agents->size() >= kSpawnsPerRunMax) {
    return std::optional<std::string>("spawn limit reached: this agent started " +
                                      std::to_string(agents->size()) + " sub-agents, the most " +
                                      "one run may start");
  }
  return std::optional<std::string>();
}

Json handle_of(const SpawnedAgentRecord& agent) {
  return Json{{"agent_id", agent.id}, {"preset", agent.preset}, {"title", agent.title}};
}

SpawnToolAnswer started_answer(const SpawnedAgentRecord& agent) {
  return {"Started sub-agent " + agent.id + " (" + agent.preset + ": " + agent.title +
              "). It works in the background; its answer reaches you as a message beginning [" +
              agent.preset + "] on a later turn. Go on with other work meanwhile.",
          false, handle_of(agent)};
}

// The child run's context: the parent's, on the sub-agent's own thread, one level deeper.
Json spawned_context(const NodeInput& node, const std::string& run_id,
                     const SpawnedAgentRecord& agent, const std::string& workflow_name) {
  Json context = node.run;
  context["parent_run_id"] = run_id;
  context["parent_node"] = std::string(workflow::kSpawnKeyPrefix) + agent.preset;
  context["depth"] = integer_field(node.run, "depth", 0) + 1;
  context["spawn_depth"] = integer_field(node.run, "spawn_depth", 0) + 1;
  context["thread"] = agent.thread;
  context["thread_prefix"] = agent.thread + "/";
  context["workflow"] = Json{{"id", agent.id}, {"name", workflow_name}};
  context["spawn"] = Json{{"preset", agent.preset}, {"title", agent.title}};
  if (!node.daemon.is_null()) context["daemon"] = node.daemon;
  return context;
}

// The sub-agent's prompt, the first message on its thread.
Result<void> put_prompt(SqlTransaction& tx, SqlDialect dialect, const SpawnedAgentRecord& agent,
                        const std::string& prompt) {
  if (auto made = ensure_thread(tx, agent.chat_id, ThreadRef{agent.thread, std::nullopt},
                                agent.created_at_ms);
      !made) {
    return fail(made.error());
  }
  MessageRecord message;
  message.id = "spawn-" + agent.id;
  message.chat_id = agent.chat_id;
  message.thread = agent.thread;
  message.role = "user";
  message.created_at_ms = agent.created_at_ms;
  message.blocks.push_back({"text", {{"text", prompt}}});
  auto written = insert_message_once(tx, dialect, message);
  if (!written) return fail(written.error());
  return {};
}

struct SpawnStart {
  const AgentDeps* deps;
  NodeInput node;
  std::string run_id;
  std::string workflow_ref;
  SpawnRequest request;
  SpawnedAgentRecord agent;
};

// The child run's request: the workflow, the preset's params under the call's model.
Result<std::variant<workflow::RunRequest, std::string>> spawned_request(SqlTransaction& tx,
                                                                        const SpawnStart& s) {
  using Out = std::variant<workflow::RunRequest, std::string>;
  workflow::RunRequest request;
  request.user_id = s.node.user_id;
  request.ref = s.workflow_ref;
  auto definition = workflow::load_run_definition(request);
  if (!definition) return Out(definition.error().message);
  auto library = PresetLibrary::load(tx, s.node.user_id, s.node.project_id);
  if (!library) return fail(library.error());
  Json given = Json::object();
  if (!s.request.model.empty()) given["model"] = s.request.model;
  auto inputs = workflow::inputs_under_presets(
      **definition, std::move(given),
      Json{{std::string(workflow::kOwnInputsGroup), s.request.preset}}, library->finder());
  if (!inputs) return Out("preset \"" + s.request.preset + "\": " + inputs.error());
  request.inputs = std::move(*inputs);
  request.context = spawned_context(s.node, s.run_id, s.agent, (*definition)->name);
  return Out(std::move(request));
}

Result<SpawnToolAnswer> start_spawn(SqlTransaction& tx, SqlDialect dialect, const SpawnStart& s) {
  auto earlier = find_spawned_agent(tx, s.agent.id);
  if (!earlier) return fail(earlier.error());
  if (*earlier) return started_answer(**earlier);  // a retried step: the first attempt's
  auto bounds = over_bounds(tx, s.node, s.run_id);
  if (!bounds) return fail(bounds.error());
  if (*bounds) return refused(**bounds);
  auto request = spawned_request(tx, s);
  if (!request) return fail(request.error());
  if (auto* why = std::get_if<std::string>(&*request)) return refused(*why);
  if (auto ok = put_prompt(tx, dialect, s.agent, s.request.prompt); !ok) return fail(ok.error());
  if (auto ok = insert_spawned_agent(tx, s.agent); !ok) return fail(ok.error());
  engine::NewRun child{
      s.agent.id, s.deps->queue, std::string(workflow::kEngineWorkflowName),
      workflow::to_json(std::get<workflow::RunRequest>(*request)),
      engine::ParentRun{s.run_id, std::string(workflow::kSpawnKeyPrefix) + s.agent.preset}};
  if (auto ok = engine::start_run(tx, dialect, child, s.agent.created_at_ms); !ok)
    return fail(ok.error());
  return started_answer(s.agent);
}

void wake_workers(const AgentDeps& deps) {
  if (deps.bus != nullptr) (void)deps.bus->publish(engine::wake_subject(deps.queue), "");
}

Task<Result<SpawnToolAnswer>> spawn(const AgentDeps& deps, engine::ActivityContext& context,
                                    const NodeInput& node, const SpawnToolCall& call) {
  auto read = read_spawn(call);
  if (auto* why = std::get_if<std::string>(&read)) co_return refused(*why);
  if (node.chat_id.empty()) co_return refused("spawn needs a chat: this run has none");
  SpawnStart start{&deps, node, context.run_id, call.workflow_ref, std::get<SpawnRequest>(read),
                   {}};
  start.agent = SpawnedAgentRecord{call.request_id,
                                   context.run_id,
                                   node.user_id,
                                   node.chat_id,
                                   "agent:" + call.request_id,
                                   start.request.preset,
                                   start.request.title,
                                   to_ms(context.executor.now()),
                                   "running",
                                   0};
  Task<Result<SpawnToolAnswer>> starting =
      deps.store.transact_for([start, dialect = deps.store.dialect()](SqlTransaction& tx) {
        return start_spawn(tx, dialect, start);
      });
  Result<SpawnToolAnswer> answer = co_await starting;
  if (answer && !answer->is_error) wake_workers(deps);
  co_return answer;
}

// The caller's sub-agent `ref` names (its id, or a title only one of them has), or why none.
std::variant<SpawnedAgentRecord, std::string> own_agent(
    const std::vector<SpawnedAgentRecord>& agents, const std::string& ref) {
  if (ref.empty()) return std::string("name a sub-agent: agent_id");
  std::vector<const SpawnedAgentRecord*> titled;
  for (const auto& agent : agents) {
    if (agent.id == ref) return agent;
    if (agent.title == ref) titled.push_back(&agent);
  }
  if (titled.size() == 1) return *titled.front();
  if (titled.size() > 1) {
    return std::to_string(titled.size()) + " of your sub-agents are titled \"" + ref +
           "\"; name one by its agent_id";
  }
  return "no sub-agent \"" + ref + "\" of yours (spawn_status lists them)";
}

std::string line_of(const SpawnedAgentRecord& agent, std::int64_t now_ms) {
  return agent.id + "  " + agent.preset + "  \"" + agent.title + "\"  " + agent.status +
         "  started " + std::to_string((now_ms - agent.created_at_ms) / 1000) +
         " s ago, last change " + std::to_string((now_ms - agent.updated_at_ms) / 1000) + " s ago";
}

// The last thing the sub-agent said on its thread.
Result<std::string> last_message(SqlTransaction& tx, const SpawnedAgentRecord& agent) {
  auto messages = load_thread_messages(tx, agent.chat_id, agent.thread);
  if (!messages) return fail(messages.error());
  for (auto it = messages->rbegin(); it != messages->rend(); ++it) {
    if (it->role != "assistant") continue;
    std::string text;
    for (const auto& block : it->blocks) {
      if (block.kind == "text") text += reliant::text_field(block.body, "text");
    }
    if (text.empty()) continue;
    if (text.size() > kLastMessageBytesMax) text = text.substr(0, kLastMessageBytesMax) + "…";
    return text;
  }
  return std::string();
}

Task<Result<std::vector<SpawnedAgentRecord>>> read_agents(const AgentDeps& deps,
                                                          std::string run_id) {
  Task<Result<std::vector<SpawnedAgentRecord>>> reading = deps.store.transact_for(
      [run_id](SqlTransaction& tx) { return list_spawned_agents(tx, run_id); });
  co_return co_await reading;
}

Task<Result<SpawnToolAnswer>> status(const AgentDeps& deps, engine::ActivityContext& context,
                                     const SpawnToolCall& call) {
  Task<Result<std::vector<SpawnedAgentRecord>>> reading = read_agents(deps, context.run_id);
  auto agents = co_await reading;
  if (!agents) co_return fail(agents.error());
  const std::string ref = reliant::text_field(call.input, "agent_id");
  if (ref.empty()) {
    if (agents->empty()) co_return SpawnToolAnswer{"You have started no sub-agents.", false, {}};
    std::string text;
    for (const auto& agent : *agents) text += line_of(agent, to_ms(context.executor.now())) + "\n";
    co_return SpawnToolAnswer{std::move(text), false, nullptr};
  }
  auto found = own_agent(*agents, ref);
  if (auto* why = std::get_if<std::string>(&found)) co_return refused(*why);
  SpawnedAgentRecord agent = std::get<SpawnedAgentRecord>(found);
  const bool wait = bool_field(call.input, "wait");
  const std::int64_t budget_s = std::clamp<std::int64_t>(
      integer_field(call.input, "timeout_s", kWaitSecondsDefault), 1, kSpawnWaitSecondsMax);
  const auto deadline = context.executor.steady_now() + std::chrono::seconds(budget_s);
  Scope beating(context.executor);
  if (wait) beating.spawn(keep_alive(context.executor, context.heartbeat));
  // Waiting reads the sub-agent's row once a second: the budget bounds it.
  while (wait && agent.status == "running" && context.executor.steady_now() < deadline) {
    co_await sleep(context.executor, std::chrono::seconds(1));
    Task<Result<std::optional<SpawnedAgentRecord>>> again = deps.store.transact_for(
        [id = agent.id](SqlTransaction& tx) { return find_spawned_agent(tx, id); });
    auto reread = co_await again;
    if (!reread) co_return fail(reread.error());
    if (*reread) agent = std::move(**reread);
  }
  Task<Result<std::string>> saying =
      deps.store.transact_for([agent](SqlTransaction& tx) { return last_message(tx, agent); });
  auto said = co_await saying;
  if (!said) co_return fail(said.error());
  std::string text = line_of(agent, to_ms(context.executor.now()));
  if (wait && agent.status == "running") text += "\ntimed_out: true (it still runs)";
  text += "\nlast message: " + (said->empty() ? std::string("(none yet)") : *said);
  co_return SpawnToolAnswer{std::move(text), false, nullptr};
}

}  // namespace

namespace {

// A message or a stop: its effect and its answer commit together under the call's request id,
// so a retried step reads the answer back instead of sending or stopping twice.
using Effect =
    std::function<Result<SpawnToolAnswer>(SqlTransaction&, const std::vector<SpawnedAgentRecord>&)>;

Task<Result<SpawnToolAnswer>> once(const AgentDeps& deps, engine::ActivityContext& context,
                                   const NodeInput& node, const SpawnToolCall& call,
                                   Effect effect) {
  if (node.chat_id.empty()) co_return refused(call.tool + " needs a chat: this run has none");
  const std::int64_t now_ms = to_ms(context.executor.now());
  auto body = [&call, &node, effect = std::move(effect), now_ms,
               run_id = context.run_id](SqlTransaction& tx) -> Result<SpawnToolAnswer> {
    auto earlier = find_server_tool_call(tx, call.request_id);
    if (!earlier) return fail(earlier.error());
    if (*earlier) return SpawnToolAnswer{(*earlier)->content, (*earlier)->is_error, nullptr};
    auto agents = list_spawned_agents(tx, run_id);
    if (!agents) return fail(agents.error());
    auto answer = effect(tx, *agents);
    if (!answer) return fail(answer.error());
    if (auto recorded = insert_server_tool_call(tx, {call.request_id, node.chat_id, call.tool,
                                                     answer->content, answer->is_error, now_ms});
        !recorded) {
      return fail(recorded.error());
    }
    return answer;
  };
  Task<Result<SpawnToolAnswer>> running = deps.store.transact_for(std::move(body));
  Result<SpawnToolAnswer> answer = co_await running;
  if (answer && !answer->is_error) wake_workers(deps);
  co_return answer;
}

// An ended run refuses signals: the model is told so, nothing fails.
Result<SpawnToolAnswer> answered(Result<void> done, std::string success, std::string ended) {
  if (done) return SpawnToolAnswer{std::move(success), false, nullptr};
  if (done.error().code == ErrorCode::failed_precondition ||
      done.error().code == ErrorCode::not_found) {
    return refused(std::move(ended));
  }
  return fail(done.error());
}

Task<Result<SpawnToolAnswer>> send(const AgentDeps& deps, engine::ActivityContext& context,
                                   const NodeInput& node, const SpawnToolCall& call) {
  const std::string ref = reliant::text_field(call.input, "agent_id");
  const std::string text = reliant::text_field(call.input, "message");
  if (text.empty()) co_return refused("spawn_send needs a message");
  if (text.size() > kSpawnMessageBytesMax) {
    co_return refused("the message is " + std::to_string(text.size()) + " bytes; at most " +
                      std::to_string(kSpawnMessageBytesMax));
  }
  const bool to_parent = ref == kParent;
  if (to_parent && !is_spawned_run(node.run))
    co_return refused("you have no parent agent: no agent started you");
  Effect effect = [&, dialect = deps.store.dialect(), now_ms = to_ms(context.executor.now())](
                      SqlTransaction& tx,
                      const std::vector<SpawnedAgentRecord>& agents) -> Result<SpawnToolAnswer> {
    if (to_parent) {
      const std::string parent = reliant::text_field(node.run, "parent_run_id");
      const Json payload{
          {"from", context.run_id},
          {"preset", reliant::text_field(node.run.value("spawn", Json::object()), "preset")},
          {"text", text}};
      return answered(
          engine::signal_run(tx, dialect, parent, std::string(workflow::kAgentMessageSignal),
                             payload, now_ms),
          "Sent to your parent agent; it reads it on its next turn.",
          "your parent agent has ended; nobody reads the message");
    }
    auto found = own_agent(agents, ref);
    if (auto* why = std::get_if<std::string>(&found)) return refused(*why);
    const auto& agent = std::get<SpawnedAgentRecord>(found);
    return answered(
        engine::signal_run(tx, dialect, agent.id, std::string(workflow::kAgentMessageSignal),
                           Json{{"from", std::string(kParent)}, {"text", text}}, now_ms),
        "Sent to " + agent.id + "; it reads it on its next turn.",
        "sub-agent " + agent.id + " has ended (" + agent.status +
            "); its answer reached you or will on your next turn");
  };
  Task<Result<SpawnToolAnswer>> running = once(deps, context, node, call, std::move(effect));
  co_return co_await running;
}

Task<Result<SpawnToolAnswer>> stop(const AgentDeps& deps, engine::ActivityContext& context,
                                   const NodeInput& node, const SpawnToolCall& call) {
  const std::string ref = reliant::text_field(call.input, "agent_id");
  Effect effect = [&, dialect = deps.store.dialect(), now_ms = to_ms(context.executor.now())](
                      SqlTransaction& tx,
                      const std::vector<SpawnedAgentRecord>& agents) -> Result<SpawnToolAnswer> {
    auto found = own_agent(agents, ref);
    if (auto* why = std::get_if<std::string>(&found)) return refused(*why);
    const auto& agent = std::get<SpawnedAgentRecord>(found);
    if (agent.status != "running") {
      return SpawnToolAnswer{"Sub-agent " + agent.id + " has ended already (" + agent.status + ").",
                             false, nullptr};
    }
    return answered(
        engine::cancel_run(tx, dialect, agent.id, "stopped by the agent that started it", now_ms),
        "Asked " + agent.id + " to stop; it stops at its next step and its end " +
            "reaches you as a message (spawn_status with wait confirms it).",
        "sub-agent " + agent.id + " has ended already");
  };
  Task<Result<SpawnToolAnswer>> running = once(deps, context, node, call, std::move(effect));
  co_return co_await running;
}

}  // namespace

Task<Result<SpawnToolAnswer>> run_spawn_tool(const AgentDeps& deps,
                                             engine::ActivityContext& context,
                                             const NodeInput& node, SpawnToolCall call) {
  if (call.tool == "spawn") {
    Task<Result<SpawnToolAnswer>> running = spawn(deps, context, node, call);
    co_return co_await running;
  }
  if (call.tool == "spawn_status") {
    Task<Result<SpawnToolAnswer>> running = status(deps, context, call);
    co_return co_await running;
  }
  if (call.tool == "spawn_send") {
    Task<Result<SpawnToolAnswer>> running = send(deps, context, node, call);
    co_return co_await running;
  }
  if (call.tool == "spawn_stop") {
    Task<Result<SpawnToolAnswer>> running = stop(deps, context, node, call);
    co_return co_await running;
  }
  co_return refused(call.tool + " is not a spawn tool");
}

}  // namespace reliant::agent
