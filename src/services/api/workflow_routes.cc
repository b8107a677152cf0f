// Workflow definitions: YAML validated by the loader, stored per project by the repository.
#include "services/api/workflow_routes.h"

#include <algorithm>

#include "core/agent/agent_workflow.h"
#include "core/engine/run_state.h"
#include "core/workflow/builtins.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/inputs.h"
#include "core/workflow/loader.h"
#include "core/workflow/preset_inputs.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/chats.h"
#include "services/storage/preset_library.h"
#include "services/storage/project_workflows.h"
#include "services/storage/projects.h"
#include "services/updates/user_events.h"
#include "services/worker/worker.h"

namespace reliant::api {
namespace {

// Which presets a workflow's runs take, for a client's picker: {tag, default}, each "" when
// the workflow gives none (then any preset may be picked, and none applies unless one is).
Json presets_json(const workflow::Definition& definition) {
  auto choice = workflow::preset_choice(definition.presets);
  if (!choice) return {{"tag", ""}, {"default", ""}};  // the loader refuses such a file
  return {{"tag", choice->tag}, {"default", choice->default_name}};
}

Json summary_json(const workflow::Definition& definition) {
  return {{"name", definition.name},
          {"description", definition.description},
          {"inputs", workflow::input_schema(definition.inputs)},
          {"presets", presets_json(definition)}};
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
    out["presets"] = presets_json(*definition);
  }
  return out;
}

// `yaml` loaded (its file named `file`): the definition, or invalid_argument naming the first
// mistake, with every mistake in `diagnostics` when that is set.
Result<std::shared_ptr<const workflow::Definition>> load_source(const WorkflowSource& yaml,
                                                                const std::string& file,
                                                                Json* diagnostics,
                                                                const cel::TimeZoneLoader& zones) {
  // A text that loads comes from the runs' definition cache (starting a run of a workflow
  // parsed it again each time); one that does not is loaded again here for all its mistakes.
  workflow::RunRequest request;
  request.source = yaml.source;
  request.file = file;
  auto cached = workflow::load_run_definition(request);
  // Its schedules' zones are checked against the zone database too, which a run never needs.
  if (cached && ((*cached)->triggers.empty() || !zones)) return std::move(*cached);
  auto loaded = workflow::load_workflow(yaml.source, file, zones);
  if (loaded) return std::make_shared<const workflow::Definition>(std::move(*loaded));
  return fail(diagnosed(file, loaded.error(), diagnostics));
}

// The YAML of a REST request body: {"source": "...", "file": optional name}.
Result<WorkflowSource> source_of(const Json& body) {
  const Json source = body.value("source", Json());
  const Json file = body.value("file", Json());
  if (!source.is_string() || source.get<std::string>().empty() ||
      !(file.is_null() || file.is_string())) {
    return fail(ErrorCode::invalid_argument,
                "expected {\"source\": YAML text, \"file\": optional name}");
  }
  return WorkflowSource{source.get<std::string>(), file.is_string() ? file.get<std::string>() : ""};
}

// A run's start as a REST body gives it: {workflow (builtin://NAME or a project's with
// project_id) or source, inputs, presets}.
Result<RunStart> run_start_of(Json& body) {
  const Json& ref = body["workflow"];
  const Json& project = body["project_id"];
  const Json& inputs = body["inputs"];
  if (!(ref.is_string() || body["source"].is_string()) ||
      !(project.is_null() || project.is_string()) || !(inputs.is_null() || inputs.is_object())) {
    return fail(ErrorCode::invalid_argument,
                "expected {\"workflow\": \"builtin://NAME\" or a project workflow's name with "
                "\"project_id\", or \"source\": YAML; \"inputs\": {…}; \"presets\": a "
                "preset's name or {group: name}}");
  }
  RunStart start;
  if (body["source"].is_string()) {
    auto yaml = source_of(body);
    if (!yaml) return fail(yaml.error());
    start.source = std::move(*yaml);
  } else {
    start.workflow = ref.get<std::string>();
  }
  if (project.is_string()) start.project_id = project.get<std::string>();
  if (inputs.is_object()) start.inputs = inputs;
  start.presets = body.value("presets", Json());
  const Json& on_failure = body["on_failure"];
  if (!on_failure.is_null()) {
    if (!on_failure.is_string() ||
        (on_failure.get<std::string>() != "pause" && on_failure.get<std::string>() != "fail")) {
      return fail(ErrorCode::invalid_argument, "\"on_failure\" must be \"pause\" or \"fail\"");
    }
    start.on_failure = on_failure.get<std::string>();
  }
  return start;
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
                               std::string queue, cel::TimeZoneLoader zones)
    : env_(env),
      zones_(std::move(zones)),
      engine_workflows_(std::move(engine_workflows)),
      queue_(std::move(queue)),
      listing_(workflow_listing(engine_workflows_)),
      ids_(env.executor, env.random.split(0x776b666cULL)) {
  agent::register_agent_workflow(deciders_);
}

Task<std::optional<HttpResponse>> WorkflowRoutes::handle(const HttpRequest& request,
                                                         const std::vector<std::string>& parts,
                                                         const std::string& user_id) {
  const std::string& method = request.method;
  const bool post = method == "POST";
  Json diagnostics;  // every mistake of a definition that did not load
  int status = 200;
  std::optional<Task<Result<Json>>> serving;
  // The request's body as a definition's YAML; a refusal ends the request.
  std::optional<HttpResponse> refusal;
  auto yaml_of = [&]() -> std::optional<WorkflowSource> {
    auto body = parse_json_body(request);
    auto yaml = body ? source_of(*body) : Result<WorkflowSource>(fail(body.error()));
    if (!yaml) refusal = error_response(yaml.error());
    return yaml ? std::optional(std::move(*yaml)) : std::nullopt;
  };
  if (parts[2] == "workflows") {
    if (parts.size() == 3 && method == "GET") co_return json_response(200, listing_);
    if (parts.size() != 4) co_return std::nullopt;
    if (parts[3] == "runs" && method == "GET") {
      std::int64_t limit = kRunListDefault;
      if (auto it = request.query.find("limit"); it != request.query.end()) {
        auto parsed = parse_seq(it->second, "limit");
        if (!parsed) co_return error_response(parsed.error());
        limit = *parsed;
      }
      serving.emplace(list_runs(user_id, limit));
    } else if (parts[3] == "runs" && post) {
      auto json = parse_json_body(request);
      auto start = json ? run_start_of(*json) : Result<RunStart>(fail(json.error()));
      if (!start) co_return error_response(start.error());
      status = 201;
      serving.emplace(start_run(user_id, std::move(*start), &diagnostics));
    } else if (parts[3] == "validate" && post) {
      auto yaml = yaml_of();
      if (!yaml) co_return std::move(*refusal);
      co_return respond_diagnosed(validate(*yaml, &diagnostics), 200, diagnostics);
    } else {
      co_return std::nullopt;
    }
  } else if (parts[2] == "runs" && parts.size() == 5) {
    const std::string& run_id = parts[3];
    const std::string& verb = parts[4];
    if (post && (verb == "approve" || verb == "deny" || verb == "answer")) {
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
      NodeAnswer answering{verb, std::nullopt,
                           message.is_string() ? message.get<std::string>() : "",
                           verb == "answer" ? (*json)["answer"] : Json()};
      if (node.is_string()) answering.node = node.get<std::string>();
      serving.emplace(answer(user_id, run_id, std::move(answering)));
    } else if (post && verb == "cancel") {
      serving.emplace(cancel_run(user_id, run_id));
    } else if (post && verb == "message") {
      auto json = parse_json_body(request);
      if (!json) co_return error_response(json.error());
      const Json& text = (*json)["text"];
      serving.emplace(
          message_run(user_id, run_id, text.is_string() ? text.get<std::string>() : ""));
    } else if (post && std::find(kRunControlVerbs.begin(), kRunControlVerbs.end(), verb) !=
                           kRunControlVerbs.end()) {
      auto json = parse_json_body(request);
      auto control = json ? control_request_of(verb, *json)
                          : Result<workflow::ControlRequest>(fail(json.error()));
      if (!control) co_return error_response(control.error());
      serving.emplace(control_run(user_id, run_id, std::move(*control)));
    } else if (method == "GET" && verb == "events") {
      std::int64_t since = 0;
      if (auto it = request.query.find("since_seq"); it != request.query.end()) {
        auto parsed = parse_seq(it->second, "since_seq");
        if (!parsed) co_return error_response(parsed.error());
        since = *parsed;
      }
      serving.emplace(run_events(user_id, run_id, since));
    } else {
      co_return std::nullopt;
    }
  } else if (parts[2] == "projects" && parts.size() >= 5 && parts[4] == "workflows") {
    const std::string& project_id = parts[3];
    if (parts.size() == 5 && method == "GET") {
      serving.emplace(list_project_workflows(user_id, project_id));
    } else if (parts.size() == 5 && post) {
      auto yaml = yaml_of();
      if (!yaml) co_return std::move(*refusal);
      status = 201;
      serving.emplace(create_project_workflow(user_id, project_id, std::move(*yaml), &diagnostics));
    } else if (parts.size() == 6 && method == "GET") {
      serving.emplace(get_project_workflow(user_id, project_id, parts[5]));
    } else if (parts.size() == 6 && method == "PUT") {
      auto yaml = yaml_of();
      if (!yaml) co_return std::move(*refusal);
      serving.emplace(
          update_project_workflow(user_id, project_id, parts[5], std::move(*yaml), &diagnostics));
    } else if (parts.size() == 6 && method == "DELETE") {
      serving.emplace(delete_project_workflow(user_id, project_id, parts[5]));
    } else {
      co_return std::nullopt;
    }
  } else {
    co_return std::nullopt;
  }
  Task<Result<Json>> running = std::move(*serving);
  Result<Json> out = co_await running;
  co_return respond_diagnosed(out, status, diagnostics);
}

Result<Json> WorkflowRoutes::validate(const WorkflowSource& yaml, Json* diagnostics) const {
  auto definition =
      load_source(yaml, yaml.file.empty() ? "workflow.yaml" : yaml.file, diagnostics, zones_);
  if (!definition) return fail(definition.error());
  Json out = summary_json(**definition);
  out["valid"] = true;
  return out;
}

Task<Result<Json>> WorkflowRoutes::list_project_workflows(std::string user_id,
                                                          std::string project_id) {
  JsonTransactionBody body = [user_id, project_id](SqlTransaction& tx) -> Result<Json> {
    auto listed = reliant::list_project_workflows(tx, user_id, project_id);
    if (!listed) return fail(listed.error());
    Json list = Json::array();
    for (const auto& record : *listed) list.push_back(record_json(record));
    return Json{{"workflows", list}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> WorkflowRoutes::get_project_workflow(std::string user_id, std::string project_id,
                                                        std::string name) {
  JsonTransactionBody body = [user_id, project_id, name](SqlTransaction& tx) -> Result<Json> {
    auto found = reliant::get_project_workflow(tx, user_id, project_id, name);
    if (!found) return fail(found.error());
    auto definition = workflow::load_workflow(found->source, name + ".yaml");
    return full_record_json(*found, definition ? &*definition : nullptr);
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> WorkflowRoutes::create_project_workflow(std::string user_id,
                                                           std::string project_id,
                                                           WorkflowSource yaml, Json* diagnostics) {
  auto definition =
      load_source(yaml, yaml.file.empty() ? "workflow.yaml" : yaml.file, diagnostics, zones_);
  if (!definition) co_return fail(definition.error());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  ProjectWorkflowRecord record{ids_.next(), project_id, (*definition)->name, yaml.source, 1,
                               now_ms,      now_ms};
  JsonTransactionBody body = [user_id, record,
                              definition = *definition](SqlTransaction& tx) -> Result<Json> {
    auto inserted = insert_project_workflow(tx, user_id, record);
    if (!inserted) return fail(inserted.error());
    return full_record_json(record, definition.get());
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> WorkflowRoutes::update_project_workflow(std::string user_id,
                                                           std::string project_id, std::string name,
                                                           WorkflowSource yaml, Json* diagnostics) {
  auto definition =
      load_source(yaml, yaml.file.empty() ? name + ".yaml" : yaml.file, diagnostics, zones_);
  if (!definition) co_return fail(definition.error());
  if ((*definition)->name != name) {
    co_return fail(ErrorCode::invalid_argument, "the definition is named '" + (*definition)->name +
                                                    "', not '" + name +
                                                    "': a workflow keeps its name");
  }
  JsonTransactionBody body =
      [user_id, project_id, name, source = yaml.source, definition = *definition,
       now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Json> {
    auto updated = reliant::update_project_workflow(tx, user_id, project_id, name, source, now_ms);
    if (!updated) return fail(updated.error());
    return full_record_json(*updated, definition.get());
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> WorkflowRoutes::delete_project_workflow(std::string user_id,
                                                           std::string project_id,
                                                           std::string name) {
  JsonTransactionBody body = [user_id, project_id, name](SqlTransaction& tx) -> Result<Json> {
    auto deleted = reliant::delete_project_workflow(tx, user_id, project_id, name);
    if (!deleted) return fail(deleted.error());
    return Json{{"name", name}, {"status", "deleted"}};
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> WorkflowRoutes::inputs_under_presets(
    std::string user_id, std::string project_id,
    std::shared_ptr<const workflow::Definition> definition, Json inputs, Json presets) {
  auto load_library = [user_id, project_id](SqlTransaction& tx) {
    return PresetLibrary::load(tx, user_id, project_id);
  };
  Task<Result<PresetLibrary>> loading = env_.store->transact_for(std::move(load_library));
  Result<PresetLibrary> library = co_await loading;
  if (!library) co_return fail(library.error());
  auto under =
      workflow::inputs_under_presets(*definition, std::move(inputs), presets, library->finder());
  if (!under) co_return fail(ErrorCode::invalid_argument, under.error());
  co_return std::move(*under);
}

Task<Result<std::shared_ptr<const workflow::Definition>>> WorkflowRoutes::run_definition(
    std::string user_id, RunStart& start, workflow::RunRequest& run, Json* diagnostics) {
  std::shared_ptr<const workflow::Definition> definition;
  if (start.source) {
    run.file = start.source->file.empty() ? "workflow.yaml" : start.source->file;
    auto loaded = load_source(*start.source, run.file, diagnostics, zones_);
    if (!loaded) co_return fail(loaded.error());
    run.source = std::move(start.source->source);
    definition = std::move(*loaded);
  } else if (start.workflow.starts_with("builtin://")) {
    run.ref = start.workflow;
  } else {
    if (!start.project_id) {
      co_return fail(ErrorCode::invalid_argument,
                     "a project's workflow is named with its \"project_id\"");
    }
    // The stored source travels in the run: editing the definition later changes no run.
    auto find = [user_id, project_id = *start.project_id,
                 name = start.workflow](SqlTransaction& tx) {
      return reliant::get_project_workflow(tx, user_id, project_id, name);
    };
    Task<Result<ProjectWorkflowRecord>> finding = env_.store->transact_for(std::move(find));
    Result<ProjectWorkflowRecord> found = co_await finding;
    if (!found) co_return fail(found.error());
    run.source = found->source;
    run.file = found->name + ".yaml";
  }
  // Refused now rather than failed later: a definition or inputs the run would reject.
  if (!definition) {
    auto loaded = workflow::load_run_definition(run);
    if (!loaded) co_return fail(loaded.error());
    definition = std::move(*loaded);
  }
  co_return definition;
}

namespace {

// The chat of a run started through the API: what its nodes say and the model sees.
ChatRecord run_chat(std::string id, const std::string& user_id, const std::string& run_id,
                    const workflow::Definition& definition, const workflow::RunRequest& run,
                    std::string project_id, std::int64_t now_ms) {
  ChatRecord chat;
  chat.id = std::move(id);
  chat.user_id = user_id;
  chat.title = "workflow " + definition.name;
  chat.status = ChatStatus::running;
  chat.workflow_run_id = run_id;
  chat.workflow = run.ref.empty() ? definition.name : run.ref;
  chat.workflow_inputs = run.inputs;
  chat.project_id = std::move(project_id);
  chat.created_at_ms = chat.updated_at_ms = now_ms;
  return chat;
}

}  // namespace

Task<Result<Json>> WorkflowRoutes::start_run(std::string user_id, RunStart start,
                                             Json* diagnostics) {
  if (!start.source && start.workflow.empty()) {
    co_return fail(ErrorCode::invalid_argument,
                   "name a workflow (builtin://NAME or a project's) or give its source");
  }
  workflow::RunRequest run;
  run.user_id = user_id;
  run.inputs = start.inputs.is_object() ? start.inputs : Json::object();
  run.on_failure = start.on_failure;
  const std::string run_id = ids_.next();
  Json context = {{"user_id", user_id}, {"workflow", {{"id", run_id}}}};
  if (start.project_id) context["project_id"] = *start.project_id;

  Task<Result<std::shared_ptr<const workflow::Definition>>> finding =
      run_definition(user_id, start, run, diagnostics);
  auto found = co_await finding;
  if (!found) co_return fail(found.error());
  const std::shared_ptr<const workflow::Definition> definition = std::move(*found);
  if (definition->automation_only) {
    co_return fail(
        ErrorCode::invalid_argument,
        "workflow " + definition->name + " is automation_only: only its triggers start it");
  }
  Task<Result<Json>> presetting =
      inputs_under_presets(user_id, start.project_id.value_or(""), definition,
                           std::move(run.inputs), std::move(start.presets));
  Result<Json> under = co_await presetting;
  if (!under) co_return fail(under.error());
  run.inputs = std::move(*under);
  auto resolved = workflow::resolve_inputs(definition->inputs, run.inputs);
  if (!resolved) co_return fail(ErrorCode::invalid_argument, "inputs: " + resolved.error());
  context["workflow"]["name"] = definition->name;
  // The run's conversation — what its nodes say and the model sees — is a chat of its own,
  // which records the run's end.
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const ChatRecord chat = run_chat(ids_.next(), user_id, run_id, *definition, run,
                                   start.project_id.value_or(""), now_ms);
  context["chat_id"] = chat.id;
  run.context = std::move(context);

  engine::NewRun started{run_id, queue_, std::string(workflow::kEngineWorkflowName),
                         workflow::to_json(run)};
  auto ready = std::make_shared<std::vector<std::string>>();  // named in the wake-up
  auto store = [started, chat, now_ms, dialect = env_.store->dialect(), deciders = &deciders_,
                ready](SqlTransaction& tx) -> Result<void> {
    ready->clear();
    if (!chat.project_id.empty()) {
      auto owned = owns_project(tx, chat.user_id, chat.project_id);
      if (!owned) return fail(owned.error());
      if (!*owned) return fail(ErrorCode::not_found, "no project " + chat.project_id);
    }
    if (auto ok = insert_chat(tx, chat); !ok) return ok;
    return engine::start_run(tx, dialect, started, now_ms, engine::RunStartSent::now, deciders,
                             ready.get());
  };
  Task<Result<void>> starting = env_.store->transact_for(std::move(store));
  Result<void> stored = co_await starting;
  if (!stored) co_return fail(stored.error());
  if (env_.bus != nullptr) engine::announce_start(*env_.bus, queue_, run_id, user_id, *ready);
  co_return Json{{"run_id", run_id},
                 {"chat_id", chat.id},
                 {"workflow", definition->name},
                 {"status", "running"}};
}

Task<Result<Json>> WorkflowRoutes::answer(std::string user_id, std::string run_id,
                                          NodeAnswer answer) {
  if (answer.verb != "approve" && answer.verb != "deny" && answer.verb != "answer") {
    co_return fail(ErrorCode::invalid_argument, "a node is approved, denied or answered");
  }
  const std::string verb = answer.verb;
  const std::optional<std::string> node = answer.node;
  Json output = verb == "answer" ? Json{{"answer", answer.answer}}
                                 : Json{{"status", verb == "approve" ? "approved" : "denied"},
                                        {"message", answer.message}};
  const auto wanted_type =
      verb == "answer" ? workflow::NodeType::ask_question : workflow::NodeType::approval;
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const SqlDialect dialect = env_.store->dialect();
  auto signal = [=](SqlTransaction& tx) -> Result<Json> {
    auto state = owned_run_state(tx, run_id, user_id);
    if (!state) return fail(state.error());
    if (state->terminal) {
      return fail(ErrorCode::failed_precondition, "run " + run_id + " has ended");
    }
    auto waiting = workflow::waiting_nodes(*state);
    if (!waiting) return fail(waiting.error());
    const workflow::WaitingNode* target = nullptr;
    for (const auto& w : *waiting) {
      if (w.type != wanted_type) continue;
      if (node && *node != w.key && *node != w.path && *node != w.node_id) continue;
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
                      (node ? " '" + *node + "'" : "") + " waiting");
    }
    auto signalled = engine::signal_run(tx, dialect, run_id, std::string(workflow::kAnswerSignal),
                                        Json{{"key", target->key}, {"output", output}}, now_ms);
    if (!signalled) return fail(signalled.error());
    return Json{{"run_id", run_id}, {"node", target->key}, {"output", output}};
  };
  Task<Result<Json>> signalling = env_.store->transact_for(std::move(signal));
  Result<Json> answered = co_await signalling;
  if (answered && env_.bus != nullptr) {
    (void)env_.bus->publish(engine::wake_subject(queue_), "");
  }
  co_return answered;
}

namespace {

// The run, when it is a workflow-language run of `user_id`'s; not_found otherwise.
Result<engine::RunSummary> owned_run(SqlTransaction& tx, const std::string& run_id,
                                     const std::string& user_id) {
  auto run = engine::get_run(tx, run_id);
  if (!run) return fail(run.error());
  if (run->workflow != workflow::kEngineWorkflowName ||
      run->input.value("user_id", "") != user_id) {
    return fail(ErrorCode::not_found, "no workflow run " + run_id);
  }
  return std::move(*run);
}

Json run_summary_json(const engine::RunSummary& run) {
  const Json context = run.input.value("context", Json::object());
  Json out = {{"id", run.id},
              {"status", run.status},
              {"workflow", context.value("workflow", Json::object()).value("name", "")},
              {"ref", run.input.value("ref", "")},
              {"chat_id", context.value("chat_id", "")},
              {"parent_run_id", context.value("parent_run_id", "")},
              {"created_at_ms", run.created_at_ms}};
  if (run.closed_at_ms) out["closed_at_ms"] = *run.closed_at_ms;
  if (run.error) out["error"] = *run.error;
  return out;
}

}  // namespace

Task<Result<Json>> WorkflowRoutes::get_run(std::string user_id, std::string run_id, bool history) {
  JsonTransactionBody body = [user_id, run_id, history](SqlTransaction& tx) -> Result<Json> {
    auto run = engine::get_run(tx, run_id);
    if (!run) return fail(run.error());
    // A run is the user's when its input says so (the agent's runs carry user_id).
    if (run->input.value("user_id", "") != user_id)
      return fail(ErrorCode::not_found, "no workflow run " + run_id);
    Json out = {{"id", run->id},
                {"workflow", run->workflow},
                {"status", run->status},
                {"result", run->result.value_or(Json())},
                {"error", run->error ? Json(*run->error) : Json()}};
    const bool language = run->workflow == workflow::kEngineWorkflowName;
    if (!history && !language) return out;
    auto events = engine::load_history(tx, run_id);
    if (!events) return fail(events.error());
    if (language) {
      // A workflow-language run: each node's state, and what waits for a person.
      auto state = engine::RunState::fold(*events);
      if (!state) return fail(state.error());
      // Whether it is paused, and the failed steps that wait for the user: the same replay.
      auto view = workflow::run_view(*state);
      if (!view) return fail(view.error());
      out["nodes"] = std::move(view->nodes);
      out["control"] = std::move(view->control);
      // The workflow's own graph, for a client that draws it: nodes and edges (a loop's or a
      // group's inside is its node's; the node states' keys say where in it a run is).
      auto request = workflow::run_request_from_json(run->input);
      auto definition =
          request ? workflow::load_run_definition(*request)
                  : Result<std::shared_ptr<const workflow::Definition>>(fail(request.error()));
      if (definition && (*definition)->graph) {
        const workflow::Graph& graph = *(*definition)->graph;
        Json graph_nodes = Json::array();
        for (const auto& node : graph.nodes) {
          graph_nodes.push_back(
              {{"id", node.id}, {"type", std::string(workflow::to_string(node.type))}});
        }
        Json graph_edges = Json::array();
        for (const auto& edge : graph.edges) {
          for (const auto& c : edge.cases) {
            for (const auto& to : c.to) {
              graph_edges.push_back({{"from", edge.from}, {"to", to}, {"label", c.label}});
            }
          }
          for (const auto& to : edge.fallback) {
            graph_edges.push_back({{"from", edge.from}, {"to", to}, {"label", "default"}});
          }
        }
        out["graph"] = {{"name", (*definition)->name},
                        {"entries", graph.entries},
                        {"nodes", std::move(graph_nodes)},
                        {"edges", std::move(graph_edges)}};
      }
      if (!history) return out;
    }
    Json list = Json::array();
    for (const auto& e : *events) {
      list.push_back({{"seq", e.seq},
                      {"kind", std::string(engine::to_string(e.kind))},
                      {"at_ms", e.at_ms},
                      {"body", e.body}});
    }
    out["history"] = list;
    return out;
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> WorkflowRoutes::list_runs(std::string user_id, std::int64_t limit) {
  limit = std::clamp<std::int64_t>(limit, 1, 500);
  JsonTransactionBody body = [user_id, limit](SqlTransaction& tx) -> Result<Json> {
    auto runs = engine::list_runs(tx, user_id, limit);
    if (!runs) return fail(runs.error());
    Json list = Json::array();
    for (const auto& run : *runs) {
      if (run.workflow == workflow::kEngineWorkflowName) list.push_back(run_summary_json(run));
    }
    return Json{{"runs", list}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> WorkflowRoutes::cancel_run(std::string user_id, std::string run_id) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const SqlDialect dialect = env_.store->dialect();
  auto body = [run_id, user_id, now_ms, dialect](
                  SqlTransaction& tx, std::vector<updates::UserEvent>& events) -> Result<Json> {
    auto run = owned_run(tx, run_id, user_id);
    if (!run) return fail(run.error());
    if (run->terminal()) {
      return fail(ErrorCode::failed_precondition, "run " + run_id + " has ended");
    }
    if (auto ok = engine::cancel_run(tx, dialect, run_id, "cancelled by the user", now_ms); !ok) {
      return fail(ok.error());
    }
    // Its conversation stops running too, when this run is the one it runs.
    const std::string chat_id = run->input.value("context", Json::object()).value("chat_id", "");
    if (!chat_id.empty()) {
      auto moved = tx.execute(
          "UPDATE chats SET status = 'cancelled', updated_at_ms = $2 WHERE id = $1 AND "
          "workflow_run_id = $3 AND status = 'running'",
          {chat_id, now_ms, run_id});
      if (!moved) return fail(moved.error());
      if (*moved > 0) {
        events.push_back(updates::UserEvent{
            user_id, 0, "chat_status", chat_id,
            Json{{"status", "cancelled"}, {"run_id", run_id}, {"outcome", "cancelled"}}, now_ms});
      }
    }
    return Json{{"run_id", run_id}, {"status", "cancelled"}};
  };
  Task<Result<Json>> writing = updates::commit_and_announce(*env_.store, env_.bus, std::move(body));
  Result<Json> cancelled = co_await writing;
  if (cancelled && env_.bus != nullptr) {
    (void)env_.bus->publish(engine::wake_subject(queue_), "");
  }
  co_return cancelled;
}

Task<Result<Json>> WorkflowRoutes::run_events(std::string user_id, std::string run_id,
                                              std::int64_t since_seq) {
  JsonTransactionBody body = [run_id, user_id, since_seq](SqlTransaction& tx) -> Result<Json> {
    auto run = owned_run(tx, run_id, user_id);
    if (!run) return fail(run.error());
    auto history = engine::load_history(tx, run_id);
    if (!history) return fail(history.error());
    auto events = workflow::node_events(*history, since_seq);
    if (!events) return fail(events.error());
    return Json{{"run_id", run_id},
                {"status", run->status},
                {"events", std::move(*events)},
                {"last_seq", history->empty() ? 0 : history->back().seq}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

}  // namespace reliant::api
