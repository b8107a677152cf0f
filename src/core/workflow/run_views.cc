// What a client sees of a workflow run: every node's state, its progress as events, what waits
// for a person, and what its user may do to it (pause, resume, a held step) — all read from the
// run's history (engine_workflow.h).
#include "core/workflow/engine_workflow.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/cel/value.h"
#include "core/workflow/history_answers.h"
#include "core/workflow/inputs.h"
#include "core/workflow/run_replay.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

// A run's control state (control_state's form) from its replay; not paused when it has ended
// (`replayed` null).
Json control_json(const Replayed* replayed) {
  Json out{{"paused", false}, {"paused_by_user", false}, {"held", Json::array()}};
  if (replayed == nullptr) return out;
  const RunControl& control = replayed->control;
  out["paused"] = control.paused();
  out["paused_by_user"] = control.paused_by_user();
  for (const auto& [key, step] : control.held()) {
    const Action* action = replayed->run->pending_action(key);
    Json held{{"key", key}, {"error", step.error}, {"seq", step.seq}};
    if (action != nullptr) {
      held["path"] = action->path;
      held["node_id"] = action->node_id;
      held["type"] = std::string(to_string(action->type));
      held["args"] = cel::to_json(action->args);
    }
    out["held"].push_back(std::move(held));
  }
  return out;
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
// waits for a person.
void append_replayed_states(const engine::RunState& state, const Replayed& replayed, Json& nodes) {
  for (const auto& node : replayed.run->skipped()) {
    nodes.push_back(
        {{"key", node.key}, {"path", node.path}, {"node_id", node.node_id}, {"status", "skipped"}});
  }
  if (state.terminal) return;
  // Inbox nodes wait for the run's sub-agents.
  for (const auto& action : replayed.run->pending()) {
    if (!answered_by_the_engine(action.type)) continue;
    nodes.push_back({{"key", action.key},
                     {"path", action.path},
                     {"node_id", action.node_id},
                     {"type", std::string(to_string(action.type))},
                     {"status", "waiting"},
                     {"running", replayed.inbox.running()}});
  }
  for (const auto& node : waiting_in(*replayed.run)) {
    nodes.push_back({{"key", node.key},
                     {"path", node.path},
                     {"node_id", node.node_id},
                     {"type", std::string(to_string(node.type))},
                     {"status", "waiting"},
                     {"args", node.args}});
  }
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

namespace {

// The nodes the history shows: activities in schedule order, then answers and timeouts.
Json recorded_nodes(const engine::RunState& state) {
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
  return nodes;
}

}  // namespace

Result<RunView> run_view(const engine::RunState& state) {
  RunView view{recorded_nodes(state), control_json(nullptr)};
  auto replayed = replay(state);
  if (!replayed) {
    // An ended run whose definition no longer replays just shows no skipped nodes.
    if (state.terminal) return view;
    return fail(replayed.error());
  }
  append_replayed_states(state, *replayed, view.nodes);
  if (!state.terminal) view.control = control_json(&*replayed);
  return view;
}

Result<Json> node_states(const engine::RunState& state) {
  auto view = run_view(state);
  if (!view) return fail(view.error());
  return std::move(view->nodes);
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
        if (key.empty() || key.starts_with(kSaveMessageKeyPrefix) || key == kFinishKey) break;
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
  if (state->terminal) return events;  // nothing waits, nothing is paused
  // One replay tells both what waits for a person and whether the run is paused: a client
  // polls this every half second.
  auto replayed = replay(*state);
  if (!replayed) return fail(replayed.error());
  for (const auto& node : waiting_in(*replayed->run)) {
    events.push_back({{"kind", "node_waiting"},
                      {"seq", last_seq},
                      {"key", node.key},
                      {"path", node.path},
                      {"node_id", node.node_id},
                      {"type", std::string(to_string(node.type))},
                      {"args", node.args}});
  }
  // A paused run says so last, with its failed steps waiting for the user, as waiting nodes do.
  const Json control = control_json(&*replayed);
  if (control["paused"].get<bool>()) {
    events.push_back({{"kind", "run_paused"},
                      {"seq", last_seq},
                      {"paused_by_user", control["paused_by_user"]},
                      {"held", control["held"]}});
  }
  return events;
}

namespace {

Error precondition(std::string message) {
  return Error{ErrorCode::failed_precondition, std::move(message)};
}

// The held step a request names by key, path or node id — or the only one, when it names none.
Result<std::string> held_step_named(const Replayed& replayed, const std::string& name) {
  const auto& held = replayed.control.held();
  std::string keys;
  for (const auto& [key, step] : held) keys += (keys.empty() ? "" : ", ") + key;
  if (name.empty()) {
    if (held.size() == 1) return held.begin()->first;
    if (held.empty()) return fail(precondition("the run has no failed step waiting"));
    return fail(Error{ErrorCode::invalid_argument,
                      "more than one failed step waits: name one (" + keys + ")"});
  }
  for (const auto& [key, step] : held) {
    const Action* action = replayed.run->pending_action(key);
    if (key == name || (action != nullptr && (action->path == name || action->node_id == name)))
      return key;
  }
  return fail(precondition("'" + name + "' is not a failed step waiting for the user (" +
                           (held.empty() ? std::string("the run has none") : "waiting: " + keys) +
                           ")"));
}

// A new value for one of the run's inputs, checked as the run's start checks them.
Result<void> check_input_change(const Replayed& replayed, const ControlRequest& request) {
  const auto& inputs = replayed.definition->inputs;
  const bool declared = std::any_of(inputs.begin(), inputs.end(), [&](const InputSpec& spec) {
    return spec.name == request.name;
  });
  if (!declared) {
    return fail(Error{ErrorCode::invalid_argument, "workflow " + replayed.definition->name +
                                                       " has no input '" + request.name + "'"});
  }
  Json changed = replayed.request.inputs;
  changed[request.name] = request.value;
  auto resolved = resolve_inputs(inputs, changed, InputBounds::checked);
  if (!resolved) {
    return fail(
        Error{ErrorCode::invalid_argument, "input " + request.name + ": " + resolved.error()});
  }
  return {};
}

}  // namespace

Result<Json> control_state(const engine::RunState& state) {
  if (state.terminal) return control_json(nullptr);
  auto replayed = replay(state);
  if (!replayed) return fail(replayed.error());
  return control_json(&*replayed);
}

Result<ControlRequest> checked_control(const engine::RunState& state, ControlRequest request) {
  if (state.terminal) return fail(precondition("the run has ended"));
  auto replayed = replay(state);
  if (!replayed) return fail(replayed.error());
  // Its steps are done (or one failed it) and it only records its end — on its chat, say: the
  // replay reads no request after that point, so one signalled now would change nothing, and a
  // pause taken here would not stop a second from being taken.
  if (replayed->run->status() != RunStatus::running)
    return fail(precondition("the run's steps are done: it is ending"));
  const RunControl& control = replayed->control;
  switch (request.action) {
    case ControlAction::pause:
      if (control.paused_by_user()) return fail(precondition("the run is already paused"));
      return request;
    case ControlAction::resume:
      if (!control.paused()) return fail(precondition("the run is not paused"));
      return request;
    case ControlAction::retry:
    case ControlAction::skip:
    case ControlAction::fail: {
      auto key = held_step_named(*replayed, request.key);
      if (!key) return fail(key.error());
      request.key = std::move(*key);
      return request;
    }
    case ControlAction::set_input:
      if (auto ok = check_input_change(*replayed, request); !ok) return fail(ok.error());
      return request;
  }
  return request;
}

}  // namespace reliant::workflow
