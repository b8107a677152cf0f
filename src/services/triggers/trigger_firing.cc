// One firing of a trigger, in the caller's transaction (trigger_firing.h).
#include "services/triggers/trigger_firing.h"

#include <variant>

#include "core/cel/value.h"
#include "core/triggers/schedule.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/trigger_declarations.h"
#include "services/agent/chat_run_request.h"
#include "services/engine/engine_sql.h"
#include "services/storage/chats.h"
#include "services/storage/project_workflows.h"

namespace reliant::triggers {
namespace {

using Json = nlohmann::json;

// What a firing starts, once its declaration let it.
struct Launch {
  Json inputs = Json::object();
  std::string message;
};
// Why it does not start (a filter that did not hold), or why it cannot (`failed`).
struct NoLaunch {
  FiringStatus status = FiringStatus::skipped;
  std::string detail;
};

// The value the declaration's filter and templates read as `trigger`.
cel::Value trigger_value(const TriggerRecord& trigger, const FireRequest& request) {
  return cel::from_json(Json{{"kind", request.kind},
                             {"id", trigger.id},
                             {"name", trigger.name},
                             {"instant_ms", request.instant_ms},
                             {"payload", request.payload}});
}

// The declaration evaluated against the event: the run's inputs (the trigger's params under the
// mapped ones) and its first message (the mapped prompt, else the trigger's message).
std::variant<Launch, NoLaunch> evaluate(const Result<workflow::TriggerDeclaration>& declaration,
                                        const TriggerRecord& trigger, const FireRequest& request) {
  if (!declaration) return NoLaunch{FiringStatus::failed, declaration.error().message};
  workflow::TriggerDeclaration checked = *declaration;
  if (request.manual) checked.filter.reset();  // a manual fire is not an event to filter
  auto evaluated = workflow::evaluate_trigger(checked, trigger_value(trigger, request));
  if (!evaluated) return NoLaunch{FiringStatus::failed, evaluated.error()};
  if (!evaluated->passes) {
    return NoLaunch{FiringStatus::skipped,
                    "filter did not match: " + checked.raw.value("filter", std::string())};
  }
  Launch launch;
  launch.inputs = trigger.params.is_object() ? trigger.params : Json::object();
  for (const auto& [name, value] : evaluated->inputs.items()) launch.inputs[name] = value;
  launch.message = evaluated->prompt.value_or(trigger.message);
  return launch;
}

// Overlap, for a schedule's firing while a run it started still runs: skip it, queue it, cancel
// the runs and go on, or go on beside them. Returns the status the firing takes.
Result<FiringStatus> apply_overlap(SqlTransaction& tx, const FiringEnv& env,
                                   const workflow::TriggerDeclaration& declaration,
                                   const TriggerRecord& trigger, std::int64_t now_ms,
                                   std::string& detail) {
  const auto* schedule = std::get_if<ScheduleSpec>(&declaration.source);
  if (schedule == nullptr) return FiringStatus::launched;
  auto running = running_runs_of(tx, trigger.id);
  if (!running) return fail(running.error());
  if (running->empty()) return FiringStatus::launched;
  switch (schedule->overlap) {
    case Overlap::skip:
      detail = "run " + running->front() + " it started is still running (overlap: skip)";
      return FiringStatus::skipped;
    case Overlap::queue:
      detail = "waits for run " + running->front() + " (overlap: queue)";
      return FiringStatus::queued;
    case Overlap::cancel:
      for (const auto& run_id : *running) {
        auto cancelled = engine::cancel_run(
            tx, env.dialect, run_id,
            "cancelled by trigger " + trigger.name + "'s next firing (overlap: cancel)", now_ms);
        if (!cancelled && cancelled.error().code != ErrorCode::failed_precondition)
          return fail(cancelled.error());
      }
      return FiringStatus::launched;
    case Overlap::allow:
      return FiringStatus::launched;
  }
  return FiringStatus::launched;
}

// Starts the firing's run as a chat of its own — its first message the launch's — and records
// it on the firing; a run the workflow or its inputs refuse marks the firing failed instead.
Result<void> start_run(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                       const Launch& launch, FiringRecord& firing, std::int64_t now_ms) {
  ChatRecord chat;
  chat.id = env.next_id();
  chat.user_id = trigger.user_id;
  chat.title = "trigger " + trigger.name;
  chat.status = ChatStatus::running;
  chat.workflow_run_id = env.next_id();
  chat.workflow = trigger.workflow;
  chat.workflow_inputs = launch.inputs;
  chat.project_id = trigger.project_id;
  chat.created_at_ms = chat.updated_at_ms = now_ms;
  agent::SendOptions options;
  options.from_trigger = true;
  auto request =
      agent::chat_run_request(tx, chat, options, env.default_model, chat.workflow_run_id);
  if (!request) {
    firing.status = FiringStatus::failed;
    firing.detail = request.error().message;
    return update_firing(tx, firing);
  }
  request->context["trigger_id"] = trigger.id;
  request->context["firing_id"] = firing.id;
  if (auto ok = insert_chat(tx, chat); !ok) return ok;
  if (!launch.message.empty()) {
    MessageRecord message;
    message.id = env.next_id();
    message.chat_id = chat.id;
    message.role = "user";
    message.created_at_ms = now_ms;
    message.blocks.push_back({"text", {{"text", launch.message}}});
    if (auto stored = insert_message_once(tx, env.dialect, message); !stored)
      return fail(stored.error());
  }
  const engine::NewRun run{chat.workflow_run_id, env.queue,
                           std::string(workflow::kEngineWorkflowName), workflow::to_json(*request)};
  if (auto ok = engine::start_run(tx, env.dialect, run, now_ms); !ok) return ok;
  firing.status = FiringStatus::launched;
  firing.chat_id = chat.id;
  firing.run_id = run.id;
  return update_firing(tx, firing);
}

}  // namespace

Result<workflow::TriggerDeclaration> trigger_declaration(SqlTransaction& tx,
                                                         const TriggerRecord& trigger,
                                                         const cel::TimeZoneLoader& zones) {
  if (trigger.declaration.empty()) {
    auto own = workflow::trigger_from_json(trigger.spec, zones);
    if (!own) {
      return fail(ErrorCode::invalid_argument, "trigger " + trigger.name + ": " + own.error());
    }
    return std::move(*own);
  }
  auto definition = workflow_definition(tx, trigger.user_id, trigger.project_id, trigger.workflow);
  if (!definition) return fail(definition.error());
  for (const auto& declared : (*definition)->triggers) {
    if (declared.name == trigger.declaration) return declared;
  }
  return fail(ErrorCode::failed_precondition,
              "workflow " + trigger.workflow + " no longer declares the trigger '" +
                  trigger.declaration + "': restore it, or activate another");
}

Result<std::shared_ptr<const workflow::Definition>> workflow_definition(
    SqlTransaction& tx, const std::string& user_id, const std::string& project_id,
    const std::string& workflow_name) {
  workflow::RunRequest request;
  if (workflow_name.starts_with("builtin://")) {
    request.ref = workflow_name;
  } else {
    if (project_id.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "workflow \"" + workflow_name +
                      "\": a trigger without a project runs builtin:// workflows");
    }
    auto stored = get_project_workflow(tx, user_id, project_id, workflow_name);
    if (!stored) return fail(stored.error());
    request.source = stored->source;
    request.file = workflow_name + ".yaml";
  }
  auto loaded = workflow::load_run_definition(request);
  if (!loaded) return fail(ErrorCode::invalid_argument, loaded.error().message);
  return std::move(*loaded);
}

Result<Fired> fire_trigger(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                           const FireRequest& request) {
  return fire_trigger(tx, env, trigger, trigger_declaration(tx, trigger, env.zones), request);
}

Result<Fired> fire_trigger(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                           const Result<workflow::TriggerDeclaration>& declaration,
                           const FireRequest& request) {
  FiringRecord firing;
  firing.id = env.next_id();
  firing.trigger_id = trigger.id;
  firing.user_id = trigger.user_id;
  firing.key = request.key;
  firing.kind = request.manual ? "manual" : request.kind;
  firing.instant_ms = request.instant_ms;
  firing.payload = request.payload;
  firing.created_at_ms = request.now_ms;
  auto decided = evaluate(declaration, trigger, request);
  std::optional<Launch> launch;
  if (auto* no = std::get_if<NoLaunch>(&decided)) {
    firing.status = no->status;
    firing.detail = no->detail;
  } else {
    launch = std::get<Launch>(std::move(decided));
    auto status = request.manual ? Result<FiringStatus>(FiringStatus::launched)
                                 : apply_overlap(tx, env, *declaration, trigger, request.now_ms,
                                                 firing.detail);
    if (!status) return fail(status.error());
    firing.status = *status;
  }
  auto inserted = insert_firing_once(tx, env.dialect, firing);
  if (!inserted) return fail(inserted.error());
  if (!*inserted) {
    auto existing = find_firing(tx, trigger.id, request.key);
    if (!existing) return fail(existing.error());
    return Fired{std::move(*existing), true};
  }
  if (firing.status == FiringStatus::launched && launch) {
    if (auto ok = start_run(tx, env, trigger, *launch, firing, request.now_ms); !ok)
      return fail(ok.error());
  }
  return Fired{std::move(firing), false};
}

Result<FiringRecord> launch_queued(SqlTransaction& tx, const FiringEnv& env,
                                   const TriggerRecord& trigger, FiringRecord firing,
                                   std::int64_t now_ms) {
  RELIANT_ASSERT(firing.status == FiringStatus::queued);
  const FireRequest request{firing.key,     firing.kind, firing.instant_ms,
                            firing.payload, false,       now_ms};
  auto decided = evaluate(trigger_declaration(tx, trigger, env.zones), trigger, request);
  if (auto* no = std::get_if<NoLaunch>(&decided)) {
    firing.status = no->status;
    firing.detail = no->detail;
    if (auto ok = update_firing(tx, firing); !ok) return fail(ok.error());
    return firing;
  }
  firing.detail.clear();
  if (auto ok = start_run(tx, env, trigger, std::get<Launch>(decided), firing, now_ms); !ok)
    return fail(ok.error());
  return firing;
}

}  // namespace reliant::triggers
