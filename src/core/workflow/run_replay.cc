// Replaying a workflow run's history into its interpreter (run_replay.h).
#include "core/workflow/run_replay.h"

#include <utility>

#include "base/assert.h"
#include "core/cel/value.h"
#include "core/workflow/history_answers.h"
#include "core/workflow/inputs.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;

Error replay_error(std::string message) {
  return Error{ErrorCode::invalid_argument, "workflow run: " + std::move(message)};
}

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

// What a user's control request does to the run (run_control.h): pausing and resuming change
// what the engine schedules; skipping or failing a held step answers its node; a changed input
// is seen by the nodes issued after it.
void apply_control(Replayed& replayed, const ControlRequest& request) {
  Interpreter& run = *replayed.run;
  RunControl& control = replayed.control;
  switch (request.action) {
    case ControlAction::pause:
      control.pause();
      return;
    case ControlAction::resume:
      (void)control.resume();
      return;
    case ControlAction::retry:
      if (control.release(request.key)) control.retry(request.key, request.args);
      return;
    case ControlAction::skip:
      if (!control.release(request.key)) return;
      (void)run.report(NodeResult{request.key, cel::from_json(request.output), std::nullopt});
      return;
    case ControlAction::fail: {
      const auto held = control.held().find(request.key);
      if (held == control.held().end()) return;
      std::string error = held->second.error + " (failed by the user)";
      (void)control.release(request.key);
      (void)run.report(NodeResult{request.key, cel::Value(nullptr), std::move(error)});
      return;
    }
    case ControlAction::set_input:
      (void)run.set_input(request.name, cel::from_json(request.value));
      return;
  }
}

}  // namespace

bool pauses_on_failure(const Replayed& replayed, const Action& action) {
  // A sub-workflow's failure is its child run's, which ended: retrying would be another run.
  if (action.type == NodeType::workflow) return false;
  // The node's own, else the run's (its start asked), else the workflow's; "fail" without any.
  if (action.on_failure) return *action.on_failure == FailurePolicy::pause;
  if (!replayed.request.on_failure.empty()) return replayed.request.on_failure == "pause";
  return replayed.definition->on_failure == FailurePolicy::pause;
}

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
    if (answer.control) {
      apply_control(replayed, *answer.control);
      answer_inboxes(replayed);
      continue;
    }
    // An answer to what no longer waits (a timeout that fired after the answer, a second
    // answer) changes nothing.
    const Action* waiting = run.pending_action(answer.result.key);
    if (waiting == nullptr) continue;
    if (answer.result.error && answer.from_activity && pauses_on_failure(replayed, *waiting)) {
      // Held for the user instead of failing its node: the run pauses until it is retried,
      // skipped or failed.
      replayed.control.hold(HeldStep{answer.result.key, *answer.result.error, answer.seq});
      continue;
    }
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
  if (!inputs) return fail(replay_error("inputs: " + inputs.error()));

  RunContext context;
  context.inputs = std::move(*inputs);
  Json workflow = request->context.value("workflow", Json::object());
  workflow["name"] = definition->name;
  context.workflow = cel::from_json(workflow);
  Replayed replayed{std::move(*request),
                    definition,
                    std::make_unique<Interpreter>(definition, std::move(context)),
                    {},
                    {},
                    {},
                    0};
  feed_answers(state, 0, replayed);
  return replayed;
}

}  // namespace reliant::workflow
