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
#include "core/workflow/run_replay.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kBuiltinPrefix = "builtin://";
constexpr std::string_view kSavePrefix = kSaveMessageKeyPrefix;
constexpr std::string_view kChatFinishActivity = "chat_finish";  // services/agent's ChatFinish

Error invalid(std::string message) {
  return Error{ErrorCode::invalid_argument, "workflow run: " + std::move(message)};
}

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
  if (!request.on_failure.empty()) out[std::string(kOnFailureKey)] = request.on_failure;
  return out;
}

Result<RunRequest> run_request_from_json(const Json& json) {
  if (!json.is_object()) return fail(invalid("input must be an object"));
  RunRequest request;
  for (const auto& [name, value] : json.items()) {
    if (name == "ref" || name == "source" || name == "file" || name == "user_id" ||
        name == kOnFailureKey) {
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
  request.on_failure = json.value(std::string(kOnFailureKey), "");
  if (!request.on_failure.empty() && request.on_failure != "pause" &&
      request.on_failure != "fail") {
    return fail(invalid("on_failure '" + request.on_failure + "': pause or fail"));
  }
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

// What the history has scheduled: each activity's key and each timeout timer's node, read once
// per event, so that a decision does not read every activity of a long run again.
struct Scheduled {
  std::set<std::string> keys;          // activity keys
  std::map<std::string, int> retried;  // a retried step's key → the latest retry scheduled
  std::set<std::string> timed;         // nodes whose timeout timer has started
  std::vector<std::int64_t> saves;     // `save:` activities not yet seen resolved, by seq
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
      if (const int retry = it->second.input.value("retry", 0); retry > 0) {
        int& latest = retried[key];
        latest = std::max(latest, retry);
      }
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

// Schedules again the steps the user asked to retry — each retry once, its args merged over the
// step's — within the run's bound on activities in flight.
Result<void> schedule_retries(const Interpreter& run, const RunControl& control,
                              const RunRequest& request, const Scheduled& history,
                              std::size_t& in_flight, std::vector<engine::Command>& commands) {
  for (const auto& [key, retry] : control.retries()) {
    const Action* action = run.pending_action(key);
    if (action == nullptr) continue;  // answered: the retry is done
    const auto latest = history.retried.find(key);
    if (latest != history.retried.end() && latest->second >= retry.number) continue;
    if (in_flight >= kRunActivitiesInFlightMax) return {};
    auto options = activity_options(action->type, action->timeout);
    if (!options) return fail(options.error());
    Json input = activity_input(*action, request.context);
    for (const auto& [name, value] : retry.args.items()) input["args"][name] = value;
    input["retry"] = retry.number;
    commands.push_back(
        engine::ScheduleActivity{activity_name(action->type), std::move(input), *options});
    ++in_flight;
  }
  return {};
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
  // A paused run starts no new node; what runs finishes, and is recorded above.
  const RunControl& control = (*memo)->replayed.control;
  if (control.paused()) return commands;
  std::size_t in_flight = state.pending_activities();
  if (auto ok = schedule_retries(run, control, request, history, in_flight, commands); !ok) {
    return fail(ok.error());
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
