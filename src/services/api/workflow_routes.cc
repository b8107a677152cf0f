// Workflow definitions: YAML validated by the loader, stored per project by the repository.
#include "services/api/workflow_routes.h"

#include "core/engine/run_state.h"
#include "core/workflow/builtins.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/inputs.h"
#include "core/workflow/loader.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/project_workflows.h"
#include "services/worker/worker.h"

namespace reliant::api {
namespace {

Json summary_json(const workflow::Definition& definition) {
  return {{"name", definition.name},
          {"description", definition.description},
          {"inputs", workflow::input_schema(definition.inputs)}};
}

// A stored workflow as listings show it: no source, nothing parsed.
Json record_json(const ProjectWorkflowRecord& record) {
  return {{"id", record.id},
          {"project_id", record.project_id},
          {"name", record.name},
          {"version", record.version},
          {"created_at_ms", record.created_at_ms},
          {"updated_at_ms", record.updated_at_ms}};
}

// One stored workflow whole: its source, and the description and input schema of `definition`
// (null when the stored YAML no longer loads: a later loader may refuse what an earlier took).
Json full_record_json(const ProjectWorkflowRecord& record, const workflow::Definition* definition) {
  Json out = record_json(record);
  out["source"] = record.source;
  if (definition != nullptr) {
    out["description"] = definition->description;
    out["inputs"] = workflow::input_schema(definition->inputs);
  }
  return out;
}

// The YAML in a request body ({"source": "...", "file": "name.yaml"}), loaded: the definition,
// or a 400 response listing every mistake.
struct Loaded {
  std::string source;
  std::string file;
  std::shared_ptr<const workflow::Definition> definition;
  std::optional<HttpResponse> refusal;
};

Loaded load_source(const Json& body, const std::string& default_file) {
  Loaded out;
  const Json source = body.value("source", Json());
  const Json file = body.value("file", Json());
  if (!source.is_string() || source.get<std::string>().empty() ||
      !(file.is_null() || file.is_string())) {
    out.refusal = error_response(
        {ErrorCode::invalid_argument, "expected {\"source\": YAML text, \"file\": optional name}"});
    return out;
  }
  out.source = source.get<std::string>();
  out.file = file.is_string() ? file.get<std::string>() : default_file;
  const std::string& name = out.file;
  auto loaded = workflow::load_workflow(out.source, name);
  if (loaded) {
    out.definition = std::make_shared<const workflow::Definition>(std::move(*loaded));
    return out;
  }
  Json diagnostics = Json::array();
  for (const auto& d : loaded.error()) {
    diagnostics.push_back({{"line", d.mark.line},
                           {"column", d.mark.column},
                           {"message", d.message},
                           {"text", workflow::format(name, d)}});
  }
  out.refusal = json_response(
      400, {{"error",
             {{"code", "invalid_argument"},
              {"message", diagnostics[0]["text"].get<std::string>() +
                              (diagnostics.size() > 1
                                   ? " (and " + std::to_string(diagnostics.size() - 1) + " more)"
                                   : "")}}},
            {"diagnostics", diagnostics}});
  return out;
}

Loaded load_body(const HttpRequest& request, const std::string& default_file) {
  auto json = parse_json_body(request);
  if (!json) {
    Loaded out;
    out.refusal = error_response(json.error());
    return out;
  }
  return load_source(*json, default_file);
}

// The deployment's engine workflows and the language's built-ins, with their input schemas.
Json workflow_listing(const std::vector<std::string>& engine_workflows) {
  Json list = Json::array();
  for (const auto& name : engine_workflows) list.push_back({{"name", name}, {"builtin", true}});
  for (const auto& builtin : workflow::builtin_workflows()) {
    const std::string ref = "builtin://" + std::string(builtin.name);
    auto loaded = workflow::load_workflow(builtin.yaml, ref);
    if (!loaded) continue;  // the build's tests load every built-in
    Json entry = summary_json(*loaded);
    entry["name"] = ref;
    entry["builtin"] = true;
    list.push_back(std::move(entry));
  }
  return Json{{"workflows", list}};
}

}  // namespace

WorkflowRoutes::WorkflowRoutes(Env& env, std::vector<std::string> engine_workflows,
                               std::string queue)
    : env_(env),
      engine_workflows_(std::move(engine_workflows)),
      queue_(std::move(queue)),
      listing_(workflow_listing(engine_workflows_)),
      ids_(env.executor, env.random.split(0x776b666cULL)) {}

Task<std::optional<HttpResponse>> WorkflowRoutes::handle(const HttpRequest& request,
                                                         const std::vector<std::string>& parts,
                                                         const std::string& user_id) {
  const std::string& method = request.method;
  if (parts[2] == "workflows") {
    if (parts.size() == 3 && method == "GET") co_return json_response(200, listing_);
    if (parts.size() == 4 && parts[3] == "runs" && method == "POST") {
      Task<HttpResponse> starting = start_run(request, user_id);
      co_return co_await starting;
    }
    if (parts.size() == 4 && parts[3] == "validate" && method == "POST") {
      Loaded loaded = load_body(request, "workflow.yaml");
      if (loaded.refusal) co_return std::move(*loaded.refusal);
      Json out = summary_json(*loaded.definition);
      out["valid"] = true;
      co_return json_response(200, out);
    }
    co_return std::nullopt;
  }
  if (parts[2] == "runs" && parts.size() == 5 && method == "POST" &&
      (parts[4] == "approve" || parts[4] == "deny" || parts[4] == "answer")) {
    Task<HttpResponse> answering = answer(request, parts[3], parts[4], user_id);
    co_return co_await answering;
  }
  if (parts[2] != "projects" || parts.size() < 5 || parts[4] != "workflows") co_return std::nullopt;

  const std::string project_id = parts[3];
  const std::int64_t now_ms = to_ms(env_.executor.now());
  JsonTransactionBody body;
  int status = 200;
  if (parts.size() == 5 && method == "GET") {
    body = [user_id, project_id](SqlTransaction& tx) -> Result<Json> {
      auto listed = list_project_workflows(tx, user_id, project_id);
      if (!listed) return fail(listed.error());
      Json list = Json::array();
      for (const auto& record : *listed) list.push_back(record_json(record));
      return Json{{"workflows", list}};
    };
  } else if (parts.size() == 5 && method == "POST") {
    Loaded loaded = load_body(request, "workflow.yaml");
    if (loaded.refusal) co_return std::move(*loaded.refusal);
    ProjectWorkflowRecord record{ids_.next(), project_id, loaded.definition->name, loaded.source, 1,
                                 now_ms,      now_ms};
    status = 201;
    body = [user_id, record, definition = loaded.definition](SqlTransaction& tx) -> Result<Json> {
      auto inserted = insert_project_workflow(tx, user_id, record);
      if (!inserted) return fail(inserted.error());
      return full_record_json(record, definition.get());
    };
  } else if (parts.size() == 6 && method == "GET") {
    body = [user_id, project_id, name = parts[5]](SqlTransaction& tx) -> Result<Json> {
      auto found = get_project_workflow(tx, user_id, project_id, name);
      if (!found) return fail(found.error());
      auto definition = workflow::load_workflow(found->source, name + ".yaml");
      return full_record_json(*found, definition ? &*definition : nullptr);
    };
  } else if (parts.size() == 6 && method == "PUT") {
    const std::string name = parts[5];
    Loaded loaded = load_body(request, name + ".yaml");
    if (loaded.refusal) co_return std::move(*loaded.refusal);
    if (loaded.definition->name != name) {
      co_return error_response(
          {ErrorCode::invalid_argument, "the definition is named '" + loaded.definition->name +
                                            "', not '" + name + "': a workflow keeps its name"});
    }
    body = [user_id, project_id, name, source = loaded.source, definition = loaded.definition,
            now_ms](SqlTransaction& tx) -> Result<Json> {
      auto updated = update_project_workflow(tx, user_id, project_id, name, source, now_ms);
      if (!updated) return fail(updated.error());
      return full_record_json(*updated, definition.get());
    };
  } else if (parts.size() == 6 && method == "DELETE") {
    body = [user_id, project_id, name = parts[5]](SqlTransaction& tx) -> Result<Json> {
      auto deleted = delete_project_workflow(tx, user_id, project_id, name);
      if (!deleted) return fail(deleted.error());
      return Json{{"name", name}, {"status", "deleted"}};
    };
  } else {
    co_return std::nullopt;
  }
  Task<HttpResponse> running = transact_and_respond(env_, std::move(body), status);
  co_return co_await running;
}

Task<HttpResponse> WorkflowRoutes::start_run(const HttpRequest& request,
                                             const std::string& user_id) {
  auto json = parse_json_body(request);
  if (!json) co_return error_response(json.error());
  const Json& ref = (*json)["workflow"];
  const Json& project = (*json)["project_id"];
  const Json& inputs = (*json)["inputs"];
  if (!(ref.is_string() || (*json)["source"].is_string()) ||
      !(project.is_null() || project.is_string()) || !(inputs.is_null() || inputs.is_object())) {
    co_return error_response(
        {ErrorCode::invalid_argument,
         "expected {\"workflow\": \"builtin://NAME\" or a project workflow's name with "
         "\"project_id\", or \"source\": YAML; \"inputs\": {…}}"});
  }
  workflow::RunRequest run;
  run.user_id = user_id;
  run.inputs = inputs.is_object() ? inputs : Json::object();
  const std::string run_id = ids_.next();
  Json context = {{"user_id", user_id}, {"workflow", {{"id", run_id}}}};
  if (project.is_string()) context["project_id"] = project;

  std::shared_ptr<const workflow::Definition> definition;
  if ((*json)["source"].is_string()) {
    Loaded loaded = load_source(*json, "workflow.yaml");
    if (loaded.refusal) co_return std::move(*loaded.refusal);
    run.source = std::move(loaded.source);
    run.file = std::move(loaded.file);
    definition = std::move(loaded.definition);
  } else if (ref.get<std::string>().starts_with("builtin://")) {
    run.ref = ref.get<std::string>();
  } else {
    if (!project.is_string()) {
      co_return error_response(
          {ErrorCode::invalid_argument, "a project's workflow is named with its \"project_id\""});
    }
    // The stored source travels in the run: editing the definition later changes no run.
    auto find = [user_id, project_id = project.get<std::string>(),
                 name = ref.get<std::string>()](SqlTransaction& tx) {
      return get_project_workflow(tx, user_id, project_id, name);
    };
    Task<Result<ProjectWorkflowRecord>> finding = env_.store->transact_for(std::move(find));
    Result<ProjectWorkflowRecord> found = co_await finding;
    if (!found) co_return error_response(found.error());
    run.source = found->source;
    run.file = found->name + ".yaml";
  }
  // Refused now rather than failed later: a definition or inputs the run would reject.
  if (!definition) {
    auto loaded = workflow::load_run_definition(run);
    if (!loaded) co_return error_response(loaded.error());
    definition = std::move(*loaded);
  }
  auto resolved = workflow::resolve_inputs(definition->inputs, run.inputs);
  if (!resolved) {
    co_return error_response({ErrorCode::invalid_argument, "inputs: " + resolved.error()});
  }
  context["workflow"]["name"] = definition->name;
  run.context = std::move(context);

  engine::NewRun started{run_id, queue_, std::string(workflow::kEngineWorkflowName),
                         workflow::to_json(run)};
  const std::int64_t now_ms = to_ms(env_.executor.now());
  auto start = [started, now_ms](SqlTransaction& tx) {
    return engine::start_run(tx, started, now_ms);
  };
  Task<Result<void>> starting = env_.store->transact_for(std::move(start));
  Result<void> stored = co_await starting;
  if (!stored) co_return error_response(stored.error());
  if (env_.bus != nullptr) (void)env_.bus->publish(engine::wake_subject(queue_), "");
  co_return json_response(
      201, {{"run_id", run_id}, {"workflow", definition->name}, {"status", "running"}});
}

Task<HttpResponse> WorkflowRoutes::answer(const HttpRequest& request, const std::string& run_id,
                                          const std::string& verb, const std::string& user_id) {
  auto json = parse_json_body(request);
  if (!json) co_return error_response(json.error());
  const Json& node = (*json)["node"];
  const Json& message = (*json)["message"];
  if (!(node.is_null() || node.is_string()) || !(message.is_null() || message.is_string()) ||
      (verb == "answer" && !json->contains("answer"))) {
    co_return error_response(
        {ErrorCode::invalid_argument,
         verb == "answer"
             ? "expected {\"answer\": …, \"node\": optional key or path}"
             : "expected {\"message\": optional text, \"node\": optional key or path}"});
  }
  Json output = verb == "answer" ? Json{{"answer", (*json)["answer"]}}
                                 : Json{{"status", verb == "approve" ? "approved" : "denied"},
                                        {"message", message.is_string() ? message : Json("")}};
  const auto wanted_type =
      verb == "answer" ? workflow::NodeType::ask_question : workflow::NodeType::approval;
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const SqlDialect dialect = env_.store->dialect();
  auto signal = [=](SqlTransaction& tx) -> Result<Json> {
    auto summary = engine::get_run(tx, run_id);
    if (!summary) return fail(summary.error());
    if (summary->workflow != workflow::kEngineWorkflowName ||
        summary->input.value("user_id", "") != user_id) {
      return fail(ErrorCode::not_found, "no workflow run " + run_id);
    }
    auto history = engine::load_history(tx, run_id);
    if (!history) return fail(history.error());
    auto state = engine::RunState::fold(*history);
    if (!state) return fail(state.error());
    if (state->terminal) {
      return fail(ErrorCode::failed_precondition, "run " + run_id + " has ended");
    }
    auto waiting = workflow::waiting_nodes(*state);
    if (!waiting) return fail(waiting.error());
    const workflow::WaitingNode* target = nullptr;
    for (const auto& w : *waiting) {
      if (w.type != wanted_type) continue;
      if (node.is_string() && node != w.key && node != w.path && node != w.node_id) continue;
      if (target != nullptr) {
        return fail(ErrorCode::invalid_argument,
                    "more than one node waits: name one with \"node\" (" + target->key + ", " +
                        w.key + ")");
      }
      target = &w;
    }
    if (target == nullptr) {
      return fail(ErrorCode::failed_precondition,
                  "run " + run_id + " has no " +
                      (wanted_type == workflow::NodeType::approval ? "approval" : "question") +
                      (node.is_string() ? " '" + node.get<std::string>() + "'" : "") + " waiting");
    }
    auto signalled = engine::signal_run(tx, dialect, run_id, std::string(workflow::kAnswerSignal),
                                        Json{{"key", target->key}, {"output", output}}, now_ms);
    if (!signalled) return fail(signalled.error());
    return Json{{"run_id", run_id}, {"node", target->key}, {"output", output}};
  };
  Task<Result<Json>> signalling = env_.store->transact_for(std::move(signal));
  Result<Json> answered = co_await signalling;
  if (!answered) co_return error_response(answered.error());
  if (env_.bus != nullptr) (void)env_.bus->publish(engine::wake_subject(queue_), "");
  co_return json_response(200, *answered);
}

}  // namespace reliant::api
