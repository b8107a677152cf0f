// WorkflowRoutes::control_run: a user's control of a running run (core/workflow/run_control.h),
// checked against the run's history and committed as a signal in it — pause and resume also
// reach the run's running child runs (its sub-workflows and sub-agents), so a paused chat starts
// nothing anywhere below it.
#include "services/api/workflow_routes.h"

#include <deque>

#include "core/engine/run_state.h"
#include "core/workflow/agent_inbox.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"
#include "services/worker/worker.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

// Descendant runs visited when pause or resume spreads down a run's family: runs nest 8 deep and
// an agent runs at most 64 sub-agents, so this bounds a request's work, not a real family.
constexpr std::size_t kControlledDescendantsMax = 256;

// The running runs below `run_id`, nearest first, at most kControlledDescendantsMax.
Result<std::vector<std::string>> running_descendants(SqlTransaction& tx,
                                                     const std::string& run_id) {
  std::vector<std::string> found;
  std::deque<std::string> parents{run_id};
  while (!parents.empty() && found.size() < kControlledDescendantsMax) {
    auto rows = tx.query(
        "SELECT id FROM workflow_runs WHERE parent_run_id = $1 AND status = 'running' ORDER BY id",
        {parents.front()});
    if (!rows) return fail(rows.error());
    parents.pop_front();
    for (const SqlRecord& row : records(*rows)) {
      if (found.size() >= kControlledDescendantsMax) break;
      found.push_back(row.text("id"));
      parents.push_back(found.back());
    }
  }
  return found;
}

// Pause or resume spread to the run's running descendants: each one the request applies to
// (a child already paused by its own user is not paused again, nor one not paused resumed).
Result<std::size_t> spread_to_descendants(SqlTransaction& tx, SqlDialect dialect,
                                          const std::string& run_id, const std::string& user_id,
                                          const workflow::ControlRequest& request,
                                          std::int64_t now_ms) {
  auto descendants = running_descendants(tx, run_id);
  if (!descendants) return fail(descendants.error());
  std::size_t signalled = 0;
  for (const auto& child : *descendants) {
    auto state = owned_run_state(tx, child, user_id);
    if (!state) continue;  // not a language run of theirs: nothing to pause
    auto checked = workflow::checked_control(*state, request);
    if (!checked) continue;
    auto sent = engine::signal_run(tx, dialect, child, std::string(workflow::kRunControlSignal),
                                   workflow::to_json(*checked), now_ms);
    if (!sent) return fail(sent.error());
    ++signalled;
  }
  return signalled;
}

}  // namespace

Result<engine::RunState> owned_run_state(SqlTransaction& tx, const std::string& run_id,
                                         const std::string& user_id) {
  auto run = engine::get_run(tx, run_id);
  if (!run) return fail(run.error());
  if (run->workflow != workflow::kEngineWorkflowName ||
      run->input.value("user_id", "") != user_id) {
    return fail(ErrorCode::not_found, "no workflow run " + run_id);
  }
  auto history = engine::load_history(tx, run_id);
  if (!history) return fail(history.error());
  return engine::RunState::fold(*history);
}

Result<workflow::ControlRequest> control_request_of(std::string_view verb, const Json& body) {
  // The REST body names a step "node" (as approve and deny do); the signal calls it "key".
  Json request = body.is_object() ? body : Json::object();
  if (const auto node = request.find("node"); node != request.end()) {
    // Checked here, so that the error names the field the client sent.
    if (!node->is_string()) return fail(ErrorCode::invalid_argument, "\"node\" must be a string");
    request["key"] = *node;
    request.erase("node");
  }
  if (verb == "set") {
    request["action"] = "set_input";
  } else if (verb == "mode") {
    const Json mode = request.value("mode", Json());
    if (!mode.is_string()) {
      return fail(ErrorCode::invalid_argument, "expected {\"mode\": \"auto|manual|plan\"}");
    }
    request = Json{{"action", "set_input"}, {"name", "mode"}, {"value", mode}};
  } else {
    request["action"] = std::string(verb);
  }
  return workflow::control_request_from_json(request);
}

Task<Result<Json>> WorkflowRoutes::control_run(std::string user_id, std::string run_id,
                                               workflow::ControlRequest request) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const SqlDialect dialect = env_.store->dialect();
  auto body = [=](SqlTransaction& tx) -> Result<Json> {
    auto state = owned_run_state(tx, run_id, user_id);
    if (!state) return fail(state.error());
    auto checked = workflow::checked_control(*state, request);
    if (!checked) return fail(checked.error());
    const Json signal = workflow::to_json(*checked);
    auto sent = engine::signal_run(tx, dialect, run_id, std::string(workflow::kRunControlSignal),
                                   signal, now_ms);
    if (!sent) return fail(sent.error());
    Json out{{"run_id", run_id},
             {"action", std::string(workflow::to_string(checked->action))},
             {"control", signal}};
    if (!checked->key.empty()) out["key"] = checked->key;
    const bool spreads = checked->action == workflow::ControlAction::pause ||
                         checked->action == workflow::ControlAction::resume;
    if (spreads) {
      auto children = spread_to_descendants(tx, dialect, run_id, user_id, *checked, now_ms);
      if (!children) return fail(children.error());
      out["descendants"] = *children;
    }
    return out;
  };
  Task<Result<Json>> signalling = env_.store->transact_for(std::move(body));
  Result<Json> done = co_await signalling;
  if (done && env_.bus != nullptr) (void)env_.bus->publish(engine::wake_subject(queue_), "");
  co_return done;
}

Task<Result<Json>> WorkflowRoutes::message_run(std::string user_id, std::string run_id,
                                               std::string text) {
  if (text.empty() || text.size() > kRunMessageBytesMax) {
    co_return fail(
        ErrorCode::invalid_argument,
        "expected {\"text\": the message, 1 to " + std::to_string(kRunMessageBytesMax) + " bytes}");
  }
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const SqlDialect dialect = env_.store->dialect();
  auto body = [=](SqlTransaction& tx) -> Result<Json> {
    auto state = owned_run_state(tx, run_id, user_id);
    if (!state) return fail(state.error());
    if (state->terminal) return fail(ErrorCode::failed_precondition, "the run has ended");
    auto sent = engine::signal_run(
        tx, dialect, run_id, std::string(workflow::kAgentMessageSignal),
        Json{{"from", std::string(workflow::kFromTheUser)}, {"text", text}}, now_ms);
    if (!sent) return fail(sent.error());
    return Json{{"run_id", run_id}, {"delivered", true}};
  };
  Task<Result<Json>> signalling = env_.store->transact_for(std::move(body));
  Result<Json> done = co_await signalling;
  if (done && env_.bus != nullptr) (void)env_.bus->publish(engine::wake_subject(queue_), "");
  co_return done;
}

}  // namespace reliant::api
