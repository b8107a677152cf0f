// The workflow language's engine workflow: the run's history → the interpreter's answers, in the
// order they arrived → the commands for what is still to do.
#include "core/workflow/engine_workflow.h"
#include "core/workflow/node_types.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "base/assert.h"
#include "core/cel/timestamps.h"
#include "core/cel/value.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/builtins.h"
#include "core/workflow/history_answers.h"
#include "core/workflow/inputs.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBuiltinPrefix = "builtin://";
constexpr std::string_view kSavePrefix = kSaveMessageKeyPrefix;
constexpr std::string_view kChatFinishActivity = "chat_finish";  // services/agent's ChatFinish

Error invalid(std::string message) {
  return Error{ErrorCode::invalid_argument, "workflow run: " + std::move(message)};
}

bool waits_for_a_person(NodeType type) { return node_type_info(type).role == NodeRole::person; }
bool answered_by_the_engine(NodeType type) { return node_type_info(type).role == NodeRole::engine; }

// How long an approval or a question waits: the node's `timeout`, else its args' (Reliant's
// examples put it there, beside the title and the actions).
std::optional<std::string> person_timeout(const Action& action) {
  if (action.timeout) return action.timeout;
  const cel::ValueMap* args = action.args.map();
  const cel::Value* in_args = args ? args->find(std::string_view("timeout")) : nullptr;
  const std::string* text = in_args ? in_args->get_if<std::string>() : nullptr;
  if (text) return *text;
  return std::nullopt;
}

// The chat thread a run's thread is. A child run talks on the thread of the node that started
// it (context.thread) and names the threads it starts apart from its parent's.
std::string chat_thread(const std::string& id, const Json& context) {
  return id.empty() ? context.value("thread", "") : context.value("thread_prefix", "") + id;
}

void add_thread(Json& input, const std::string& id, const std::optional<std::string>& from,
                const Json& context) {
  input["thread_id"] = chat_thread(id, context);
  if (from) input["thread_from"] = chat_thread(*from, context);
}

Json activity_input(const Action& action, const Json& context) {
  Json input{{"key", action.key},
             {"path", action.path},
             {"node_id", action.node_id},
             {"type", std::string(to_string(action.type))},
             {"args", cel::to_json(action.args)},
             {"ref", action.ref},
             {"thread", cel::to_json(action.thread)},
             {"daemon", action.daemon},
             {"run", context}};
  add_thread(input, action.thread_id, action.thread_from, context);
  return input;
}

Result<Duration> timeout_of(const std::string& text) {
  auto parsed = cel::parse_duration(text);
  if (!parsed) return fail(invalid("timeout '" + text + "': " + parsed.error()));
  const auto nanos =
      std::chrono::seconds(parsed->seconds) + std::chrono::nanoseconds(parsed->nanos);
  if (nanos <= Duration::zero()) return fail(invalid("timeout '" + text + "' is not positive"));
  return std::chrono::duration_cast<Duration>(nanos);
}

}  // namespace

Json to_json(const RunRequest& request) {
  Json out{{"inputs", request.inputs}, {"context", request.context}};
  if (!request.user_id.empty()) out["user_id"] = request.user_id;
  if (!request.ref.empty()) out["ref"] = request.ref;
  if (!request.source.empty()) out["source"] = request.source;
  if (!request.file.empty()) out["file"] = request.file;
  return out;
}

Result<RunRequest> run_request_from_json(const Json& json) {
  if (!json.is_object()) return fail(invalid("input must be an object"));
  RunRequest request;
  for (const auto& [name, value] : json.items()) {
    if (name == "ref" || name == "source" || name == "file" || name == "user_id") {
      if (!value.is_string()) return fail(invalid(name + " must be a string"));
    } else if (name == "inputs" || name == "context") {
      if (!value.is_object()) return fail(invalid(name + " must be an object"));
    } else {
      return fail(invalid("unknown key '" + name + "'"));
    }
  }
  request.user_id = json.value("user_id", "");
  request.ref = json.value("ref", "");
  request.source = json.value("source", "");
  request.file = json.value("file", "");
  request.inputs = json.value("inputs", Json::object());
  request.context = json.value("context", Json::object());
  if (request.ref.empty() == request.source.empty()) {
    return fail(invalid("give exactly one of ref (builtin://NAME) and source (the YAML)"));
  }
  if (!request.ref.empty() && !request.ref.starts_with(kBuiltinPrefix)) {
    return fail(invalid("ref '" + request.ref + "': only builtin:// refs travel in a run; " +
                        "a project's workflow travels as its source"));
  }
  return request;
}

std::string activity_name(NodeType type) {
  RELIANT_ASSERT(node_type_info(type).role == NodeRole::activity);
  return std::string(node_type_info(type).activity);
}

Json child_outputs(const Json& result, const std::string& child_run_id) {
  Json outputs = result.is_object() ? result.value("outputs", Json::object()) : Json::object();
  if (!outputs.is_object()) outputs = Json{{"value", outputs}};
  outputs["run_id"] = child_run_id;
  return outputs;
}

Result<engine::ActivityOptions> activity_options(NodeType type,
                                                 const std::optional<std::string>& timeout) {
  RELIANT_ASSERT(node_type_info(type).role == NodeRole::activity);
  engine::ActivityOptions options = node_type_info(type).options;
  if (timeout) {
    auto limit = timeout_of(*timeout);
    if (!limit) return fail(limit.error());
    options.start_to_close = *limit;
  }
  return options;
}

namespace {

// The built-ins, loaded once: every decision of a builtin:// run and every poll of one would
// otherwise parse the same embedded YAML again. Read-only after the first call, so threads
// share it without a lock. (The build's tests load every built-in, so none is missing here.)
const std::map<std::string, std::shared_ptr<const Definition>, std::less<>>& builtin_definitions() {
  static const auto definitions = [] {
    std::map<std::string, std::shared_ptr<const Definition>, std::less<>> out;
    for (const auto& builtin : builtin_workflows()) {
      const std::string ref = std::string(kBuiltinPrefix) + std::string(builtin.name);
      if (auto loaded = load_workflow(builtin.yaml, ref)) {
        out.emplace(ref, std::make_shared<const Definition>(std::move(*loaded)));
      }
    }
    return out;
  }();
  return definitions;
}

// The definitions of the sources runs used lately, keyed by file name and text: a direct-mapped
// cache of a few slots, each replaced whole, so that decisions on the store's threads share it
// without a lock (a definition is immutable once loaded). A slot two texts contend for only
// costs a parse; texts over the size bound are not kept.
constexpr std::size_t kDefinitionSlots = 64;
constexpr std::size_t kCachedSourceMaxBytes = 256 * 1024;
struct CachedDefinition {
  std::string key;  // file, newline, source
  std::shared_ptr<const Definition> definition;
};
std::atomic<std::shared_ptr<const CachedDefinition>>& definition_slot(const std::string& key) {
  static std::array<std::atomic<std::shared_ptr<const CachedDefinition>>, kDefinitionSlots> slots;
  return slots[std::hash<std::string>{}(key) % kDefinitionSlots];
}

}  // namespace

Result<std::shared_ptr<const Definition>> load_run_definition(const RunRequest& request) {
  if (!request.ref.empty()) {
    const auto& builtins = builtin_definitions();
    auto found = builtins.find(request.ref);
    if (found == builtins.end()) {
      return fail(invalid("no workflow " + request.ref + " (built-ins: " + builtin_names() + ")"));
    }
    return found->second;
  }
  const std::string file = request.file.empty() ? "workflow.yaml" : request.file;
  // Runs of one text share its definition: parsing costs about 2k instructions a byte
  // (yaml-cpp), paid again by every run of a chat's workflow and by a worker that did not keep
  // the run.
  const bool cacheable = request.source.size() <= kCachedSourceMaxBytes;
  const std::string key = cacheable ? file + '\n' + request.source : std::string();
  if (cacheable) {
    const auto cached = definition_slot(key).load();
    if (cached != nullptr && cached->key == key) return cached->definition;
  }
  auto loaded = load_workflow(request.source, file);
  if (!loaded) return fail(invalid(format_all(file, loaded.error())));
  auto definition = std::make_shared<const Definition>(std::move(*loaded));
  if (cacheable) {
    definition_slot(key).store(
        std::make_shared<const CachedDefinition>(CachedDefinition{key, definition}));
  }
  return definition;
}

namespace {

// A run's interpreter, brought up to date with every answer in its history, and its inbox.
struct Replayed {
  RunRequest request;
  std::unique_ptr<Interpreter> run;
  AgentInbox inbox;
  // The inbox nodes issued and perhaps still pending, found by reading the run's issued actions
  // from `issued_read` on: answer_inboxes runs after every answer, and a wide loop's run has
  // thousands pending, which a scan of pending() each time would read again and again.
  std::vector<std::string> inbox_keys;
  std::size_t issued_read = 0;
};

// Answers the run's pending inbox nodes that can be answered now: with what arrived, or at once
// when they do not wait or nothing they could wait for runs. Called after each answer the run is
// told, so that an inbox node is answered at the same point of the history on a replay.
void answer_inboxes(Replayed& replayed) {
  Interpreter& run = *replayed.run;
  // Each answer may open another inbox node (bounded: every report moves the run on).
  for (std::size_t round = 0; round < kInboxReportsMax + 1 && run.status() == RunStatus::running;
       ++round) {
    const std::vector<std::string>& issued = run.issued();
    for (; replayed.issued_read < issued.size(); ++replayed.issued_read) {
      const Action* action = run.pending_action(issued[replayed.issued_read]);
      if (action != nullptr && action->type == NodeType::inbox)
        replayed.inbox_keys.push_back(action->key);
    }
    std::erase_if(replayed.inbox_keys,
                  [&](const std::string& key) { return run.pending_action(key) == nullptr; });
    const Action* ready = nullptr;
    for (const auto& key : replayed.inbox_keys) {
      const Action* action = run.pending_action(key);
      const cel::ValueMap* args = action->args.map();
      const cel::Value* wait = args ? args->find(std::string_view("wait")) : nullptr;
      const bool waits =
          wait != nullptr && wait->get_if<bool>() != nullptr && *wait->get_if<bool>();
      if (!waits || replayed.inbox.has_reports() || replayed.inbox.running() == 0) {
        ready = action;
        break;
      }
    }
    if (ready == nullptr) return;
    (void)run.report(NodeResult{ready->key, replayed.inbox.take(), std::nullopt});
  }
}

// Tells the run the answers of `state` that arrived after seq `after_seq`, in order. Returns how
// many of them answered `workflow` nodes (child runs that ended, or never started).
std::size_t feed_answers(const engine::RunState& state, std::int64_t after_seq,
                         Replayed& replayed) {
  Interpreter& run = *replayed.run;
  std::size_t children_ended = 0;
  std::int64_t last_seq = after_seq;
  answer_inboxes(replayed);
  for (auto& answer : answers_in_order(state, after_seq)) {
    // In history order, each after what was fed before: a replay sees what the run saw.
    RELIANT_ASSERT(answer.seq >= last_seq && (answer.seq > after_seq));
    last_seq = answer.seq;
    if (run.status() != RunStatus::running) break;
    if (answer.inbox) {
      replayed.inbox.add(std::move(*answer.inbox));
      answer_inboxes(replayed);
      continue;
    }
    // An answer to what no longer waits (a timeout that fired after the answer, a second
    // answer) changes nothing.
    const Action* waiting = run.pending_action(answer.result.key);
    if (waiting == nullptr) continue;
    if (waiting->type == NodeType::workflow) ++children_ended;
    (void)run.report(answer.result);
    answer_inboxes(replayed);
  }
  return children_ended;
}

Result<Replayed> replay(const engine::RunState& state) {
  auto request = run_request_from_json(state.input);
  if (!request) return fail(request.error());
  auto loaded = load_run_definition(*request);
  if (!loaded) return fail(loaded.error());
  const auto& definition = *loaded;
  auto inputs = resolve_inputs(definition->inputs, request->inputs, InputBounds::checked);
  if (!inputs) return fail(invalid("inputs: " + inputs.error()));

  RunContext context;
  context.inputs = std::move(*inputs);
  Json workflow = request->context.value("workflow", Json::object());
  workflow["name"] = definition->name;
  context.workflow = cel::from_json(workflow);
  Replayed replayed{std::move(*request),
                    std::make_unique<Interpreter>(definition, std::move(context)),
                    {},
                    {},
                    0};
  feed_answers(state, 0, replayed);
  return replayed;
}

// What the history has scheduled: each activity's key and each timeout timer's node, read once
// per event, so that a decision does not read every activity of a long run again.
struct Scheduled {
  std::set<std::string> keys;       // activity keys
  std::set<std::string> timed;      // nodes whose timeout timer has started
  std::vector<std::int64_t> saves;  // `save:` activities not yet seen resolved, by seq
  const engine::ActivityState* finish = nullptr;  // the run:finish step, once scheduled
  std::int64_t activities_through_seq = 0;
  std::int64_t timers_through_seq = 0;
  // How far the interpreter's issued actions and its messages are settled — answered, or
  // scheduled (an activity, a timeout's timer) in the history, or with nothing to schedule (a
  // person's answer without a timeout) — so that each decision looks only at what is new.
  std::size_t actions_settled = 0;
  std::size_t messages_settled = 0;
  // `workflow` nodes scheduled and not yet answered: child runs starting or running. At most
  // kRunActivitiesInFlightMax at once, as activities, since their activities end at once.
  // Counted from the history (catch_up), never from a decision's commands: another worker's
  // decisions, which this one's memo did not make, schedule children too.
  std::size_t children_open = 0;

  // Reads what `state` scheduled since the last call (states only grow). Returns how many of
  // those activities start child runs.
  std::size_t catch_up(const engine::RunState& state) {
    std::size_t children = 0;
    for (auto it = state.activities.upper_bound(activities_through_seq);
         it != state.activities.end(); ++it) {
      if (it->second.name == node_type_info(NodeType::workflow).activity) ++children;
      std::string key = it->second.input.value("key", "");
      if (key.starts_with(kSavePrefix)) saves.push_back(it->first);
      if (key == kFinishKey) finish = &it->second;
      keys.insert(std::move(key));
      activities_through_seq = it->first;
    }
    for (auto it = state.timers.upper_bound(timers_through_seq); it != state.timers.end(); ++it) {
      timed.insert(it->second.tag);
      timers_through_seq = it->first;
    }
    return children;
  }
  // Whether a `save:` activity still runs (those seen done are forgotten).
  bool saves_pending(const engine::RunState& state) {
    std::erase_if(saves, [&](std::int64_t seq) {
      return state.activities.at(seq).status != engine::ActivityState::Status::pending;
    });
    return !saves.empty();
  }
};

// A run's interpreter kept in its RunState between decisions (sticky execution): it has been
// told every answer up to history seq `fed_through_seq`, so the next decision tells it only
// the answers that arrived since, instead of replaying the run from its start; and what the
// history has scheduled, read up to the same point.
struct InterpreterMemo final : engine::WorkflowMemo {
  InterpreterMemo(Replayed r, std::int64_t fed) : replayed(std::move(r)), fed_through_seq(fed) {}
  Replayed replayed;
  std::int64_t fed_through_seq = 0;
  Scheduled scheduled;
};

// The run's interpreter told every answer in `state`: the memo's, brought up to date, or
// replayed from the start (and kept as the memo).
Result<InterpreterMemo*> up_to_date(const engine::RunState& state) {
  auto* memo = dynamic_cast<InterpreterMemo*>(state.memo.get());
  if (memo != nullptr && memo->fed_through_seq <= state.last_seq) {
    // What was scheduled first: a child that started and ended since the memo last looked
    // (another worker decided meanwhile) is counted open before its answer closes it.
    memo->scheduled.children_open += memo->scheduled.catch_up(state);
    const std::size_t ended = feed_answers(state, memo->fed_through_seq, memo->replayed);
    RELIANT_ASSERT(ended <= memo->scheduled.children_open);
    memo->scheduled.children_open -= ended;
    memo->fed_through_seq = state.last_seq;
    // The settled prefixes are of lists the interpreter only appends to.
    RELIANT_ASSERT(memo->scheduled.messages_settled <= memo->replayed.run->messages().size() &&
                   memo->scheduled.actions_settled <= memo->replayed.run->issued().size());
    return memo;
  }
  auto replayed = replay(state);
  if (!replayed) return fail(replayed.error());
  auto fresh = std::make_unique<InterpreterMemo>(std::move(*replayed), state.last_seq);
  memo = fresh.get();
  state.memo.reset(std::move(fresh));
  memo->scheduled.catch_up(state);
  // A replay counts the child runs open once; from here on catch_up and the answers keep it.
  for (const auto& action : memo->replayed.run->pending()) {
    if (action.type == NodeType::workflow && memo->scheduled.keys.contains(action.key)) {
      ++memo->scheduled.children_open;
    }
  }
  return memo;
}

// The nodes of a replayed run that wait for a person.
std::vector<WaitingNode> waiting_in(const Interpreter& run) {
  std::vector<WaitingNode> waiting;
  if (run.status() != RunStatus::running) return waiting;
  for (const auto& action : run.pending()) {
    if (!waits_for_a_person(action.type)) continue;
    waiting.push_back(WaitingNode{action.key, action.path, action.node_id, action.type,
                                  cel::to_json(action.args)});
  }
  return waiting;
}

// What only the interpreter knows, after `nodes`: the nodes its conditions passed over, and what
// waits for a person. An ended run whose definition no longer replays just shows no skipped ones.
Result<void> append_replayed_states(const engine::RunState& state, Json& nodes) {
  auto replayed = replay(state);
  if (!replayed) {
    if (state.terminal) return {};
    return fail(replayed.error());
  }
  for (const auto& node : replayed->run->skipped()) {
    nodes.push_back(
        {{"key", node.key}, {"path", node.path}, {"node_id", node.node_id}, {"status", "skipped"}});
  }
  if (state.terminal) return {};
  // Inbox nodes wait for the run's sub-agents.
  for (const auto& action : replayed->run->pending()) {
    if (!answered_by_the_engine(action.type)) continue;
    nodes.push_back({{"key", action.key},
                     {"path", action.path},
                     {"node_id", action.node_id},
                     {"type", std::string(to_string(action.type))},
                     {"status", "waiting"},
                     {"running", replayed->inbox.running()}});
  }
  for (const auto& node : waiting_in(*replayed->run)) {
    nodes.push_back({{"key", node.key},
                     {"path", node.path},
                     {"node_id", node.node_id},
                     {"type", std::string(to_string(node.type))},
                     {"status", "waiting"},
                     {"args", node.args}});
  }
  return {};
}

}  // namespace

Result<std::vector<WaitingNode>> waiting_nodes(const engine::RunState& state) {
  if (state.terminal) return std::vector<WaitingNode>{};
  auto replayed = replay(state);
  if (!replayed) return fail(replayed.error());
  return waiting_in(*replayed->run);
}

namespace {

// Whether a person answered the node of a timeout `timer` before it fired.
bool answered_before_timeout(const engine::RunState& state, const engine::TimerState& timer) {
  return std::any_of(state.signals.begin(), state.signals.end(), [&](auto& s) {
    return s.seq < timer.fired_seq && s.name == kAnswerSignal && s.payload.is_object() &&
           s.payload.value("key", "") == timer.tag;
  });
}

}  // namespace

Result<Json> node_states(const engine::RunState& state) {
  Json nodes = Json::array();
  for (const auto& [seq, activity] : state.activities) {
    auto key = node_key(activity);
    if (!key) continue;
    Json node = {{"key", *key},
                 {"path", activity.input.value("path", "")},
                 {"node_id", activity.input.value("node_id", "")},
                 {"type", activity.input.value("type", "")}};
    switch (activity.status) {
      case engine::ActivityState::Status::pending:
        node["status"] = "running";
        break;
      case engine::ActivityState::Status::completed:
        if (started_a_child(activity)) {
          node["status"] = "running";  // until its child run ends
          node["child_run_id"] = activity.result.at(std::string(kChildRunStartedKey));
          break;
        }
        node["status"] = "completed";
        node["output"] = activity.result;
        break;
      case engine::ActivityState::Status::failed:
        node["status"] = "failed";
        node["error"] = activity.error;
        break;
    }
    nodes.push_back(std::move(node));
  }
  // Answered approvals and questions, and the ends of child runs: their signals, in arrival
  // order.
  for (const auto& signal : state.signals) {
    if (signal.name == engine::kChildEndedSignal) {
      if (spawn_end(signal.payload)) continue;  // a sub-agent's, for the run's inbox
      const auto answer = child_answer(signal);
      if (!answer) continue;
      if (answer->result.error) {
        nodes.push_back(
            {{"key", answer->result.key}, {"status", "failed"}, {"error", *answer->result.error}});
      } else {
        nodes.push_back({{"key", answer->result.key},
                         {"status", "completed"},
                         {"output", cel::to_json(answer->result.output)}});
      }
      continue;
    }
    if (signal.name != kAnswerSignal || !signal.payload.is_object()) continue;
    nodes.push_back({{"key", signal.payload.value("key", "")},
                     {"status", "completed"},
                     {"output", signal.payload.value("output", Json::object())}});
  }
  // Approvals and questions nobody answered in time (a timeout that fired after the answer
  // changed nothing).
  for (const auto& [seq, timer] : state.timers) {
    if (!timer.fired || timer.tag.empty()) continue;
    if (answered_before_timeout(state, timer)) continue;
    if (times_out_as_status(timer.info)) {
      nodes.push_back(
          {{"key", timer.tag}, {"status", "completed"}, {"output", timed_out_approval()}});
    } else {
      nodes.push_back({{"key", timer.tag}, {"status", "failed"}, {"error", kNoAnswer}});
    }
  }
  if (auto ok = append_replayed_states(state, nodes); !ok) return fail(ok.error());
  return nodes;
}

namespace {

// What a signal in the history is to a client following the run: a child's end answering its
// node, a person's answer (noted in `answered`), or nothing (null).
Json signal_event(const engine::HistoryEvent& e, std::set<std::string>& answered) {
  const std::string name = e.body.value("name", "");
  const Json payload = e.body.value("payload", Json());
  if (name == engine::kChildEndedSignal) {
    if (spawn_end(payload)) return Json();  // a sub-agent's end is no node's
    const auto answer =
        child_answer(engine::Signal{e.seq, std::string(engine::kChildEndedSignal), payload});
    if (!answer) return Json();
    return answer->result.error ? Json{{"kind", "node_failed"},
                                       {"key", answer->result.key},
                                       {"error", *answer->result.error}}
                                : Json{{"kind", "node_completed"},
                                       {"key", answer->result.key},
                                       {"output", cel::to_json(answer->result.output)}};
  }
  if (name != kAnswerSignal || !payload.is_object()) return Json();
  answered.insert(payload.value("key", ""));
  return Json{{"kind", "node_completed"},
              {"key", payload.value("key", "")},
              {"output", payload.value("output", Json())}};
}

}  // namespace

Result<Json> node_events(const std::vector<engine::HistoryEvent>& history, std::int64_t since_seq) {
  Json events = Json::array();
  std::map<std::int64_t, Json> scheduled;  // by seq: the node an activity runs
  std::map<std::int64_t, Json> tagged;     // by seq: the timer_started of a node's timeout
  std::set<std::string> answered;          // nodes a person answered
  std::int64_t last_seq = 0;
  for (const auto& e : history) {
    last_seq = e.seq;
    Json event;
    switch (e.kind) {
      case engine::EventKind::activity_scheduled: {
        const Json input = e.body.value("input", Json::object());
        const std::string key = input.is_object() ? input.value("key", "") : "";
        if (key.empty() || key.starts_with(kSavePrefix) || key == kFinishKey) break;
        scheduled[e.seq] = Json{{"key", key},
                                {"path", input.value("path", "")},
                                {"node_id", input.value("node_id", "")},
                                {"type", input.value("type", "")}};
        event = scheduled[e.seq];
        event["kind"] = "node_started";
        break;
      }
      case engine::EventKind::activity_completed:
      case engine::EventKind::activity_failed: {
        auto node = scheduled.find(e.ref_seq());
        if (node == scheduled.end()) break;
        const Json result = e.body.value("result", Json());
        if (e.kind == engine::EventKind::activity_completed && result.is_object() &&
            result.contains(std::string(kChildRunStartedKey))) {
          break;  // the node runs on, as its child run
        }
        event = node->second;
        if (e.kind == engine::EventKind::activity_completed) {
          event["kind"] = "node_completed";
          event["output"] = e.body.value("result", Json());
        } else {
          event["kind"] = "node_failed";
          event["error"] = e.body.value("error", "");
        }
        break;
      }
      case engine::EventKind::timer_started:
        if (!e.body.value("tag", "").empty()) tagged[e.seq] = e.body;
        break;
      case engine::EventKind::timer_fired: {
        auto timer = tagged.find(e.ref_seq());
        if (timer == tagged.end()) break;
        const std::string key = timer->second.value("tag", "");
        if (answered.contains(key)) break;  // a timeout after the answer changes nothing
        if (times_out_as_status(timer->second.value("info", Json()))) {
          event = Json{{"kind", "node_completed"}, {"key", key}, {"output", timed_out_approval()}};
        } else {
          event = Json{{"kind", "node_failed"}, {"key", key}, {"error", kNoAnswer}};
        }
        break;
      }
      case engine::EventKind::signal_received:
        event = signal_event(e, answered);
        break;
      case engine::EventKind::run_completed:
        event = Json{{"kind", "run_completed"}, {"result", e.body.value("result", Json())}};
        break;
      case engine::EventKind::run_failed:
        event = Json{{"kind", "run_failed"}, {"error", e.body.value("error", "")}};
        break;
      case engine::EventKind::run_cancelled:
        event = Json{{"kind", "run_cancelled"}, {"error", e.body.value("reason", "")}};
        break;
      default:
        break;
    }
    if (event.is_null() || e.seq <= since_seq) continue;
    event["seq"] = e.seq;
    events.push_back(std::move(event));
  }
  auto state = engine::RunState::fold(history);
  if (!state) return fail(state.error());
  auto waiting = waiting_nodes(*state);
  if (!waiting) return fail(waiting.error());
  for (const auto& node : *waiting) {
    events.push_back({{"kind", "node_waiting"},
                      {"seq", last_seq},
                      {"key", node.key},
                      {"path", node.path},
                      {"node_id", node.node_id},
                      {"type", std::string(to_string(node.type))},
                      {"args", node.args}});
  }
  return events;
}

namespace {

// Schedules the messages the nodes done so far asked to store (their `save_message:`) that the
// history does not hold yet, each once. Returns whether it scheduled any.
bool schedule_saves(const Interpreter& run, const RunRequest& request, Scheduled& history,
                    std::vector<engine::Command>& commands) {
  const std::vector<SavedMessage>& messages = run.messages();
  auto save_key = [](const SavedMessage& m) { return std::string(kSavePrefix) + m.key; };
  std::size_t& messages_settled = history.messages_settled;
  while (messages_settled < messages.size() &&
         history.keys.contains(save_key(messages[messages_settled]))) {
    ++messages_settled;
  }
  bool scheduled_any = false;
  for (std::size_t i = messages_settled; i < messages.size(); ++i) {
    const SavedMessage& message = messages[i];
    const std::string key = save_key(message);
    if (history.keys.contains(key)) continue;
    // Shaped as a save_message node's input, so one activity stores both.
    Json input{{"key", key},
               {"path", message.path},
               {"type", "save_message"},
               {"args", cel::to_json(message.message)},
               {"run", request.context}};
    add_thread(input, message.thread_id, message.thread_from, request.context);
    commands.push_back(
        engine::ScheduleActivity{activity_name(NodeType::save_message), std::move(input),
                                 *activity_options(NodeType::save_message, std::nullopt)});
    scheduled_any = true;
  }
  return scheduled_any;
}

}  // namespace

Result<std::vector<engine::Command>> EngineWorkflow::decide(const engine::RunState& state) const {
  auto memo = up_to_date(state);
  if (!memo) return fail(memo.error());
  const RunRequest& request = (*memo)->replayed.request;
  const Interpreter& run = *(*memo)->replayed.run;
  Scheduled& history = (*memo)->scheduled;
  const std::set<std::string>& scheduled = history.keys;  // activity keys in the history
  const std::set<std::string>& timed = history.timed;     // nodes whose timeout timer started
  bool saves_pending = history.saves_pending(state);
  const engine::ActivityState* finish = history.finish;

  std::vector<engine::Command> commands;
  // A chat's own run (not a child's) records its end on the chat before it ends.
  const bool ends_on_chat = !request.context.value("chat_id", "").empty() &&
                            request.context.value("parent_run_id", "").empty();
  // Ends the run once the chat has it (or at once without a chat).
  auto end_with = [&](engine::Command ending, std::string outcome, std::string error) {
    if (ends_on_chat && finish == nullptr) {
      commands.push_back(
          engine::ScheduleActivity{std::string(kChatFinishActivity),
                                   Json{{"key", kFinishKey},
                                        {"chat_id", request.context.value("chat_id", "")},
                                        {"user_id", request.user_id},
                                        {"outcome", std::move(outcome)},
                                        {"error", std::move(error)}},
                                   *activity_options(NodeType::save_message, std::nullopt)});
    } else if (!ends_on_chat || finish->status != engine::ActivityState::Status::pending) {
      commands.push_back(std::move(ending));
    }
  };
  if (run.status() == RunStatus::failed) {
    const std::string where = run.error_node().empty() ? "" : run.error_node() + ": ";
    end_with(engine::FailRun{where + run.error()}, "failed", where + run.error());
    return commands;
  }
  // Messages the nodes done so far asked to store (their `save_message:`), each once.
  if (schedule_saves(run, request, history, commands)) saves_pending = true;
  // Nodes wait for the messages of the nodes before them: a model call must see the tool
  // results the previous node saved on the thread.
  if (saves_pending) return commands;
  if (run.status() == RunStatus::completed) {
    // The run ends once its messages are stored, so a client that sees it end sees them too.
    end_with(engine::CompleteRun{Json{{"outcome", "completed"},
                                      {"outputs", cel::to_json(run.outputs())}}},
             "completed", "");
    return commands;
  }
  // The actions issued since the settled prefix, oldest first; at most kRunActivitiesInFlightMax
  // of the run's activities run at once (a parallel loop over 10,000 items goes through the
  // queue 64 at a time instead of putting 10,000 tasks ahead of every other run's).
  const std::vector<std::string>& issued = run.issued();
  auto settled = [&](const std::string& key) {
    const Action* action = run.pending_action(key);
    if (action == nullptr) return true;                     // answered
    if (answered_by_the_engine(action->type)) return true;  // nothing to schedule
    if (waits_for_a_person(action->type)) {
      return !person_timeout(*action).has_value() || timed.contains(key);
    }
    return scheduled.contains(key);
  };
  std::size_t& actions_settled = history.actions_settled;
  while (actions_settled < issued.size() && settled(issued[actions_settled])) ++actions_settled;
  std::size_t in_flight = state.pending_activities();
  std::size_t children_scheduled = 0;
  for (std::size_t i = actions_settled; i < issued.size(); ++i) {
    const Action* pending = run.pending_action(issued[i]);
    if (pending == nullptr) continue;
    const Action& action = *pending;
    if (answered_by_the_engine(action.type)) continue;
    if (waits_for_a_person(action.type)) {
      const auto timeout = person_timeout(action);
      if (timeout && !timed.contains(action.key)) {
        auto limit = timeout_of(*timeout);
        if (!limit) return fail(limit.error());
        commands.push_back(engine::StartTimer{
            *limit, action.key, Json{{"node_type", std::string(to_string(action.type))}}});
      }
      continue;
    }
    if (scheduled.contains(action.key)) continue;
    // The rest when these are answered: issue order is kept, so a loop's items start in order.
    if (in_flight >= kRunActivitiesInFlightMax) break;
    const bool child = action.type == NodeType::workflow;
    if (child && history.children_open + children_scheduled >= kRunActivitiesInFlightMax) break;
    auto options = activity_options(action.type, action.timeout);
    if (!options) return fail(options.error());
    commands.push_back(engine::ScheduleActivity{activity_name(action.type),
                                                activity_input(action, request.context), *options});
    ++in_flight;
    if (child) ++children_scheduled;  // history.children_open counts it once committed
  }
  // Scheduling never takes the run past its bound (what ran before may have, in an older release).
  RELIANT_ASSERT(in_flight <= std::max(state.pending_activities(), kRunActivitiesInFlightMax));
  return commands;
}

}  // namespace reliant::workflow
