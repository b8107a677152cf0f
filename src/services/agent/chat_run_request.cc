// The run a chat's message starts (chat_run_request.h).
#include "services/agent/chat_run_request.h"

#include <algorithm>
#include <optional>

#include "core/workflow/engine_workflow.h"
#include "core/workflow/inputs.h"
#include "core/workflow/preset_inputs.h"
#include "core/workflow/selector_expressions.h"
#include "services/storage/preset_library.h"
#include "services/storage/project_workflows.h"

namespace reliant::agent {
namespace {

// The inputs a message of `chat` gives `definition`, before presets: the chat's with the
// message's on top, and its model, mode and turn limit. The message's model wins over the
// chat's; `default_model` (the server's) only fills one nobody gave.
engine::Json message_inputs(const workflow::Definition& definition, const ChatRecord& chat,
                            const SendOptions& options, const std::string& default_model) {
  engine::Json inputs = chat.workflow_inputs;
  if (options.inputs.is_object()) {
    for (const auto& [key, value] : options.inputs.items()) inputs[key] = value;
  }
  const bool takes_model =
      std::any_of(definition.inputs.begin(), definition.inputs.end(),
                  [](const workflow::InputSpec& spec) { return spec.name == "model"; });
  if (takes_model && !options.model.empty()) {
    inputs["model"] = options.model;
  } else if (takes_model && !default_model.empty() && !inputs.contains("model")) {
    inputs["model"] = default_model;
  }
  if (!options.mode.empty()) inputs["mode"] = options.mode;
  if (options.turns_max) inputs["max_turns"] = *options.turns_max;
  return inputs;
}

}  // namespace

// The run a message of `chat` starts: the message's workflow else the chat's, the chat's inputs
// with the message's on top (and its model, mode and turn limit where the workflow takes them),
// checked against the workflow's inputs; `default_model` fills a model nobody gave.
// invalid_argument names what is wrong.
Result<workflow::RunRequest> chat_run_request(SqlTransaction& tx, const ChatRecord& chat,
                                              const SendOptions& options,
                                              const std::string& default_model,
                                              const std::string& run_id,
                                              const PresetLibrary* presets) {
  const std::string name = options.workflow.empty() ? chat.workflow : options.workflow;
  workflow::RunRequest request;
  request.user_id = chat.user_id;
  if (name.starts_with("builtin://")) {
    request.ref = name;
  } else {
    if (chat.project_id.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "workflow \"" + name + "\": a chat without a project runs builtin:// workflows");
    }
    auto stored = get_project_workflow(tx, chat.user_id, chat.project_id, name);
    if (!stored) return fail(stored.error());
    request.source = stored->source;
    request.file = name + ".yaml";
  }
  auto definition = workflow::load_run_definition(request);
  if (!definition) return fail(ErrorCode::invalid_argument, definition.error().message);
  if ((*definition)->automation_only && !options.from_trigger) {
    return fail(ErrorCode::invalid_argument,
                "workflow " + name + " is automation_only: only its triggers start it");
  }
  engine::Json inputs = message_inputs(**definition, chat, options, default_model);
  // The presets fill what is still unset; the run keeps the result, so a preset edited later
  // changes no run.
  std::optional<PresetLibrary> loaded;
  if (presets == nullptr) {
    auto library = PresetLibrary::load(tx, chat.user_id, chat.project_id);
    if (!library) return fail(library.error());
    presets = &loaded.emplace(std::move(*library));
  }
  auto under = workflow::inputs_under_presets(
      **definition, std::move(inputs), options.presets.is_null() ? chat.presets : options.presets,
      presets->finder());
  if (!under) return fail(ErrorCode::invalid_argument, name + ": " + under.error());
  inputs = std::move(*under);
  auto resolved = workflow::resolve_inputs((*definition)->inputs, inputs);
  if (!resolved) {
    return fail(ErrorCode::invalid_argument, name + ": inputs: " + resolved.error());
  }
  request.inputs = std::move(inputs);
  request.context = {{"user_id", chat.user_id}, {"chat_id", chat.id}};
  if (!chat.project_id.empty()) request.context["project_id"] = chat.project_id;
  if (!options.daemon.is_null()) {
    // "{{ … }}" is evaluated here, once, over what the run starts with; the run keeps the literal.
    cel::Activation variables;
    variables.bind("inputs", std::move(*resolved));
    variables.bind("chat", cel::from_json({{"id", chat.id},
                                           {"title", chat.title},
                                           {"project_id", chat.project_id},
                                           {"workflow", name}}));
    variables.bind("user", cel::from_json({{"id", chat.user_id}}));
    auto selector = workflow::literal_selector(options.daemon, variables);
    if (!selector) {
      return fail(ErrorCode::invalid_argument, "daemon selector " + selector.error().message);
    }
    request.context["daemon"] = to_json(*selector);
  }
  if (!run_id.empty()) request.context["workflow"] = {{"id", run_id}};
  return request;
}

}  // namespace reliant::agent
