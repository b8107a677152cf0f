// A workflow run's interpreter brought up to date with its history: the answers in the order
// they arrived, the inbox nodes the engine answers itself, and the user's control requests
// (run_control.h) — what a step that failed under `on_failure: pause` waits for. Internal to the
// engine workflow (engine_workflow.cc) and its views of a run (run_views.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/engine/run_state.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/node_types.h"
#include "core/workflow/run_control.h"

namespace reliant::workflow {

inline bool waits_for_a_person(NodeType type) {
  return node_type_info(type).role == NodeRole::person;
}
inline bool answered_by_the_engine(NodeType type) {
  return node_type_info(type).role == NodeRole::engine;
}

struct Replayed {
  RunRequest request;
  std::shared_ptr<const Definition> definition;
  std::unique_ptr<Interpreter> run;
  AgentInbox inbox;
  RunControl control;
  // The inbox nodes issued and perhaps still pending, found by reading the run's issued actions
  // from `issued_read` on: answer_inboxes runs after every answer, and a wide loop's run has
  // thousands pending, which a scan of pending() each time would read again and again.
  std::vector<std::string> inbox_keys;
  std::size_t issued_read = 0;
};

// Whether a step of `action`'s that fails pauses the run instead: the node's `on_failure`, else
// the run's, else the workflow's; "fail" without any.
bool pauses_on_failure(const Replayed& replayed, const Action& action);

// Tells the run what arrived after history seq `after_seq`, in order. Returns how many of the
// answers answered `workflow` nodes (child runs that ended, or never started).
std::size_t feed_answers(const engine::RunState& state, std::int64_t after_seq, Replayed& replayed);

// The run replayed from its start.
Result<Replayed> replay(const engine::RunState& state);

}  // namespace reliant::workflow
