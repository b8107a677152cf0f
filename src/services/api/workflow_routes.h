// WorkflowRoutes: workflow definitions and runs, as operations every API face calls (REST here,
// gRPC and Connect through GrpcApi's WorkflowService) and as the REST paths that call them.
// The built-ins and the deployment's engine workflows (GET /api/v1/workflows, with each
// built-in's input schema for a form), a check of YAML without storing it (POST
// /api/v1/workflows/validate), and a project's own definitions
// (/api/v1/projects/{id}/workflows[/{name}]: list, create, get, update, delete). A definition is
// validated before it is stored: one that fails is refused with every mistake at
// file:line:column. Runs of workflows: started from a built-in, a project's workflow or YAML
// given inline (POST /api/v1/workflows/runs), and answered where a node waits for a person
// (POST /api/v1/runs/{id}/approve|deny|answer: 409 when nothing waits, 404 for another user's).
// A user's runs (GET /api/v1/workflows/runs), one run (GET /api/v1/runs/{id}, served by
// ApiServer), a run's node updates from a history seq on (GET /api/v1/runs/{id}/events?
// since_seq=N), and its cancel (POST /api/v1/runs/{id}/cancel).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/run_state.h"
#include "core/engine/workflow.h"
#include "core/workflow/definition.h"
#include "core/workflow/engine_workflow.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"

namespace reliant::api {

// A definition's YAML as a request gives it.
struct WorkflowSource {
  std::string source;
  std::string file;  // its name in diagnostics; empty: the operation's default
};

// What a run starts from: `source`, else `workflow` — "builtin://NAME", or the name of a
// workflow of the project `project_id`.
struct RunStart {
  std::string workflow;
  std::optional<std::string> project_id;
  std::optional<WorkflowSource> source;
  nlohmann::json inputs = nlohmann::json::object();
  nlohmann::json presets;  // a name or {group: name}; null: the workflow's defaults
  std::string on_failure;  // pause | fail; empty: the workflow's (run_control.h)
};

// An answer to a node that waits for a person.
struct NodeAnswer {
  std::string verb;                 // approve | deny | answer
  std::optional<std::string> node;  // its key, path or id; nullopt: the only one that waits
  std::string message;              // approve and deny: a note for the record
  nlohmann::json answer;            // answer: what the question gets
};

// The run's history folded, when it is a workflow-language run of `user_id`'s; not_found
// otherwise (another user's run is as absent as one that never was).
Result<engine::RunState> owned_run_state(SqlTransaction& tx, const std::string& run_id,
                                         const std::string& user_id);

// The most text one message to a running agent holds.
inline constexpr std::size_t kRunMessageBytesMax = 64 * 1024;

// The REST verbs of run control (POST /api/v1/runs/{id}/VERB).
inline constexpr std::array<std::string_view, 7> kRunControlVerbs = {
    "pause", "resume", "retry", "skip", "fail", "set", "mode"};
// A REST body as a control request: pause and resume take {}; retry {node?, args?}; skip
// {node?, output?}; fail {node?}; set {name, value}; mode {mode}.
Result<workflow::ControlRequest> control_request_of(std::string_view verb,
                                                    const nlohmann::json& body);

inline constexpr std::int64_t kRunListDefault = 50;  // runs a listing shows unless told

class WorkflowRoutes {
 public:
  // `engine_workflows`: what the deployment's workers run besides the language's built-ins;
  // `queue`: the engine namespace runs start in.
  // `zones` checks the time zones of the schedules workflows declare (null: their names' form).
  WorkflowRoutes(Env& env, std::vector<std::string> engine_workflows, std::string queue,
                 cel::TimeZoneLoader zones = nullptr);

  // The response for the paths above; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

  // The operations, each answering the JSON the REST API answers. An operation that loads YAML
  // fails with invalid_argument naming the first mistake at file:line:column and, when
  // `diagnostics` is set, puts every mistake there ({line, column, message, text}).
  // Another user's project or run is not_found.

  // {workflows: [{name, builtin, description, inputs}]}: fixed for the process's life.
  const nlohmann::json& workflows() const { return listing_; }
  // {name, description, inputs, valid: true} of a definition, stored nowhere.
  Result<nlohmann::json> validate(const WorkflowSource& yaml, nlohmann::json* diagnostics) const;
  // {workflows: [...]}: the project's definitions without their source.
  Task<Result<nlohmann::json>> list_project_workflows(std::string user_id, std::string project_id);
  // One definition whole: its source, description and input schema.
  Task<Result<nlohmann::json>> get_project_workflow(std::string user_id, std::string project_id,
                                                    std::string name);
  // Stores a valid definition under its own name; already_exists when the name is taken.
  Task<Result<nlohmann::json>> create_project_workflow(std::string user_id, std::string project_id,
                                                       WorkflowSource yaml,
                                                       nlohmann::json* diagnostics);
  // Replaces `name`'s source with a valid definition of the same name; bumps its version.
  Task<Result<nlohmann::json>> update_project_workflow(std::string user_id, std::string project_id,
                                                       std::string name, WorkflowSource yaml,
                                                       nlohmann::json* diagnostics);
  Task<Result<nlohmann::json>> delete_project_workflow(std::string user_id, std::string project_id,
                                                       std::string name);
  // {run_id, chat_id, workflow, status}; refuses a definition or inputs the run would reject.
  Task<Result<nlohmann::json>> start_run(std::string user_id, RunStart start,
                                         nlohmann::json* diagnostics);
  // {id, workflow, status, result, error}, each node's state for a workflow-language run, and
  // with `history` the run's event history.
  Task<Result<nlohmann::json>> get_run(std::string user_id, std::string run_id, bool history);
  // {runs: [...]}: the user's workflow-language runs, newest first; `limit` kept in 1..500.
  Task<Result<nlohmann::json>> list_runs(std::string user_id, std::int64_t limit);
  // {run_id, node, output}; failed_precondition when no such node waits or the run has ended.
  Task<Result<nlohmann::json>> answer(std::string user_id, std::string run_id, NodeAnswer answer);
  // {run_id, status: cancelled}; failed_precondition once the run has ended.
  Task<Result<nlohmann::json>> cancel_run(std::string user_id, std::string run_id);
  // A user's control request (workflow::ControlRequest), checked against the run as it stands
  // and signalled to it; pause and resume reach its running child runs too.
  Task<Result<nlohmann::json>> control_run(std::string user_id, std::string run_id,
                                           workflow::ControlRequest request);
  // A user's message to a running agent — a sub-agent's run among them — read at its next look
  // at its inbox (core/workflow/agent_inbox.h), as "[message from the user] …".
  Task<Result<nlohmann::json>> message_run(std::string user_id, std::string run_id,
                                           std::string text);
  // {run_id, status, events, last_seq}: node updates after history seq `since_seq`.
  Task<Result<nlohmann::json>> run_events(std::string user_id, std::string run_id,
                                          std::int64_t since_seq);

 private:
  // The definition a run starts from (the source given, a built-in, or the project's stored
  // one, which `run` then carries), checked.
  Task<Result<std::shared_ptr<const workflow::Definition>>> run_definition(
      std::string user_id, RunStart& start, workflow::RunRequest& run, nlohmann::json* diagnostics);
  // `inputs` with the presets (picked, else the definition's defaults) under them: what a run
  // started now keeps.
  Task<Result<nlohmann::json>> inputs_under_presets(
      std::string user_id, std::string project_id,
      std::shared_ptr<const workflow::Definition> definition, nlohmann::json inputs,
      nlohmann::json presets);

  Env& env_;
  cel::TimeZoneLoader zones_;
  std::vector<std::string> engine_workflows_;
  std::string queue_;
  nlohmann::json listing_;  // GET /workflows: fixed for the process's life, built once
  IdGenerator ids_;
  // For a run's first decision, made with its start when it only schedules activities
  // (engine::start_run's decide_first).
  engine::WorkflowRegistry deciders_;
};

}  // namespace reliant::api
