// The workflow language on the durable engine: one engine workflow whose decision step replays
// the pure interpreter over the run's history. Every node that does work becomes an activity
// (`node.run`, `node.call_llm` …) keyed by the interpreter's action key; approval and
// ask_question wait for a signal, with a tagged durable timer for their `timeout`; an inbox node
// is answered from the run's own history (agent_inbox.h); the run ends
// with the interpreter's outcome. Replaying the same history gives the same commands, and an
// action already in the history is never issued again, so a crash anywhere resumes from the
// last completed node and no node runs twice per iteration.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "core/engine/history.h"
#include "core/engine/run_state.h"
#include "core/engine/workflow.h"
#include "core/workflow/definition.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/run_control.h"

namespace reliant::workflow {

// The engine workflow's name: runs of any YAML workflow are runs of this one.
inline constexpr std::string_view kEngineWorkflowName = "workflow";
// The activity storing a node's `save_message:` is keyed apart from the node: this + its key.
inline constexpr std::string_view kSaveMessageKeyPrefix = "save:";
// The most activities of one run scheduled and not yet answered: a wide parallel loop streams
// through the task queue this many at a time, so one run cannot queue thousands of tasks ahead
// of every other run. A node that waits for a person and was issued after those starts its
// timeout's timer when there is room.
inline constexpr std::size_t kRunActivitiesInFlightMax = 64;
// A `workflow` node's activity only starts the child run, and answers {kChildRunStartedKey:
// its id}: the node then waits for engine::kChildEndedSignal, whose payload answers it.
inline constexpr std::string_view kChildRunStartedKey = "child_run_started";
// How deeply child runs nest (a run nobody started is depth 0): a workflow that calls itself
// ends with an error at this depth instead of filling the server.
inline constexpr std::int64_t kChildRunDepthMax = 8;
// A completed child run's answer to its node: its outputs (an object; anything else under
// "value") with "run_id" added. `result` is the child's run result ({outcome, outputs}).
nlohmann::json child_outputs(const nlohmann::json& result, const std::string& child_run_id);
// The signal that answers an approval or ask_question node: payload {key, output}, where
// `output` is {status: approved|denied, message} or {answer}.
inline constexpr std::string_view kAnswerSignal = "node_answer";

// What a run starts from (run_started's input). The definition travels in the run, its YAML
// text or a builtin:// ref, so deciding needs no I/O and a definition edited later does not
// change a run already started.
struct RunRequest {
  std::string user_id;  // whose run it is: the API answers only them about it
  std::string ref;      // "builtin://agent"; empty when `source` is given
  std::string source;   // the YAML text of a project's workflow
  std::string file;     // its name in messages ("review.yaml")
  nlohmann::json inputs = nlohmann::json::object();   // checked and defaulted by the run
  nlohmann::json context = nlohmann::json::object();  // user_id, chat_id, project_id …: passed
                                                      // to every activity as "run"
  // What a step that fails does when its node does not say: "pause" holds it for the user
  // (run_control.h), "fail" fails the node; "" leaves it to the workflow (else "fail").
  std::string on_failure;
};
nlohmann::json to_json(const RunRequest& request);
Result<RunRequest> run_request_from_json(const nlohmann::json& json);

// The activity a node of this type runs as: "node.call_llm", "node.run" …
std::string activity_name(NodeType type);
// Activity options per node type: its `timeout` (else a default per type) as start-to-close,
// attempts, and heartbeats for model calls.
Result<engine::ActivityOptions> activity_options(NodeType type,
                                                 const std::optional<std::string>& timeout);

class EngineWorkflow final : public engine::Workflow {
 public:
  std::string_view name() const override { return kEngineWorkflowName; }
  Result<std::vector<engine::Command>> decide(const engine::RunState& state) const override;
};

// A node of a running run that waits for a person: an approval or a question.
struct WaitingNode {
  std::string key;  // what the answer's signal names
  std::string path;
  std::string node_id;
  NodeType type = NodeType::approval;
  nlohmann::json args;  // title, question, options …
};
// What the run waits for now (empty once it has ended, or when nothing waits for a person).
Result<std::vector<WaitingNode>> waiting_nodes(const engine::RunState& state);

// Every node the run has reached: {key, status (running, completed, failed, skipped, waiting),
// output or error, and path, node_id and type where the history has them (activities, skipped
// and waiting nodes; an answered or timed-out approval has its key only)}; activities in
// schedule order, then answers, timeouts, the nodes skipped because their condition was false,
// and what waits. What a client draws a run's graph from.
Result<nlohmann::json> node_states(const engine::RunState& state);

// A run's progress as a client follows it: node_started, node_completed, node_failed and
// node_waiting for each node, then run_completed, run_failed or run_cancelled, in history
// order, each with the history `seq` it comes from — a client resumes after the last seq it
// saw (`since_seq`). Waiting nodes come last, at the history's last seq, since waiting is what
// the history implies rather than an event in it.
Result<nlohmann::json> node_events(const std::vector<engine::HistoryEvent>& history,
                                   std::int64_t since_seq);

// What a run's user may do to it now: {paused, paused_by_user, held: [{key, path, node_id, type,
// error}]} — held steps are those that failed under `on_failure: pause` and wait for a retry,
// a skip or a fail. An ended run is never paused.
Result<nlohmann::json> control_state(const engine::RunState& state);

// node_states and control_state from one replay of the run (GET /runs/{id} shows both).
struct RunView {
  nlohmann::json nodes;
  nlohmann::json control;
};
Result<RunView> run_view(const engine::RunState& state);

// Checks a user's control request against the run as it stands, before it is signalled: the run
// has not ended; pause a run that is not paused, resume one that is; retry, skip or fail a step
// that is held (the only one, when `key` is empty: it is filled in) — named by key, path or node
// id; set an input the workflow declares, to a value its type takes. Returns the request to
// signal, or a failed_precondition / invalid_argument error saying why not.
Result<ControlRequest> checked_control(const engine::RunState& state, ControlRequest request);

// The definition a run request names: its source, or the built-in its ref names, loaded and
// checked (every mistake as file:line:column).
Result<std::shared_ptr<const Definition>> load_run_definition(const RunRequest& request);

}  // namespace reliant::workflow
