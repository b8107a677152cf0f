// node.call_llm, node.save_message and node.compact: the nodes that talk on a thread.
#include "services/agent/node_activities.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/assert.h"
#include "base/json_parse.h"
#include "core/agent/agent_workflow.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/node_types.h"
#include "core/workflow/preset_inputs.h"
#include "services/agent/conversation_cache.h"
#include "services/agent/daemon_tool_specs.h"
#include "services/agent/node_support.h"
#include "services/agent/server_tools.h"
#include "services/agent/spawn_tools.h"
#include "services/agent/step_support.h"
#include "services/agent/text_previews.h"
#include "services/storage/preset_library.h"

namespace reliant::agent {

void register_node_tool_activities(engine::ActivityRegistry& registry, const AgentDeps& deps,
                                   std::shared_ptr<ConversationCache> conversations,
                                   std::shared_ptr<DaemonToolSpecs> daemon_tools);
void register_child_run_activity(engine::ActivityRegistry& registry, const AgentDeps& deps);

namespace {

using engine::ActivityContext;
using engine::StoreWork;
using Json = nlohmann::json;

constexpr const char* kDefaultSystemPrompt =
    "You are Reliant, a software engineering agent. Use the tools to inspect and change the "
    "user's workspace; answer concisely.";

// The tools a filter lets a node offer (node_support.h's tool_allowed), or every tool without
// a filter.
std::vector<llm::ToolSpec> filtered_tools(const std::vector<llm::ToolSpec>& tools,
                                          const Json& filter) {
  std::vector<llm::ToolSpec> out;
  for (const auto& tool : tools) {
    if (tool_allowed(filter, tool.name)) out.push_back(tool);
  }
  return out;
}

// The filter a model call's args give: `tool_filter`, else `tools` — a list, or true (the
// default tools) or false (none: a response tool alone).
Json node_tool_filter(const Json& args) {
  if (const auto it = args.find("tool_filter"); it != args.end() && !it->is_null()) return *it;
  const Json tools = args.value("tools", Json());
  if (tools.is_boolean()) return tools.get<bool>() ? Json::array({"tag:default"}) : Json::array();
  return tools;
}

// A model call's `presets:` (a name, or {default: name}): the preset's params under the node's
// own args — its system prompt, model, temperature and thinking level, and its tools as the
// node's tool filter when the node gives none.
Task<Result<Json>> args_under_preset(const AgentDeps& deps, NodeInput node) {
  const Json pick = node.args["presets"];
  if (auto wrong = workflow::preset_pick_error(pick)) co_return fail(node_error(node, *wrong));
  const std::string name = pick.is_string()
                               ? pick.get<std::string>()
                               : pick.value(std::string(workflow::kOwnInputsGroup), "");
  if (name.empty()) co_return node.args;
  auto load = [user_id = node.user_id, project_id = node.project_id](SqlTransaction& tx) {
    return PresetLibrary::load(tx, user_id, project_id);
  };
  Task<Result<PresetLibrary>> loading = deps.store.transact_for(std::move(load));
  Result<PresetLibrary> library = co_await loading;
  if (!library) co_return fail(library.error());
  const PresetInForce* preset = library->find(name);
  if (preset == nullptr) co_return fail(node_error(node, "no preset \"" + name + "\""));
  Json args = node.args;
  const Json& params = preset->preset.params;
  if (node_tool_filter(args).is_null() && params.contains("tools"))
    args["tool_filter"] = params["tools"];
  static const std::set<std::string, std::less<>> kTaken = {"system_prompt", "model", "temperature",
                                                            "thinking_level"};
  co_return workflow::under_preset(preset->preset, std::move(args),
                                   [](const std::string& key) { return kTaken.contains(key); });
}

// A model call's request before its conversation and tools: the model, the system prompt
// (the default when none is given), the temperature, and the thinking its `thinking_level` (or
// the model selector's) asks for, when the model thinks.
llm::Request model_request(const NodeInput& node, const ModelSpec& model) {
  llm::Request request;
  request.model = model.name;
  request.user_id = node.user_id;  // their own key for the provider, if they keep one
  const std::string system = text_field(node.args, "system_prompt");
  request.system = system.empty() ? kDefaultSystemPrompt : system;
  if (const Json t = node.args.value("temperature", Json()); t.is_number())
    request.temperature = t.get<double>();
  std::string level = text_field(node.args, "thinking_level");
  if (const Json selector = node.args.value("model", Json()); level.empty() && selector.is_object())
    level = text_field(selector, "thinking_level");
  if (model.thinking) {
    request.thinking_tokens = thinking_budget_tokens(level);
    request.reasoning_effort = std::string(reasoning_effort(level));
  }
  return request;
}

// What a model call reports beside its answer: the model (the catalogue's name, and the
// provider's), why it stopped, its tokens, its thinking and its cost in USD at the catalogue's
// prices.
void add_usage(Json& output, const ModelSpec& model, const llm::Response& response) {
  output["thinking"] = response.thinking;
  output["model"] = model.name.empty() ? response.model : model.name;
  output["provider_model"] = response.model;
  output["stop_reason"] = response.stop_reason;
  output["input_tokens"] = response.input_tokens;
  output["output_tokens"] = response.output_tokens;
  output["cost"] = call_cost_usd(model, response.input_tokens, response.output_tokens);
}

// A model call's input as its activity reads it, its `presets:` applied.
Task<Result<NodeInput>> model_call_input(const AgentDeps& deps, Json input) {
  auto parsed = node_input(input);
  if (!parsed) co_return fail(parsed.error());
  NodeInput node = std::move(*parsed);
  if (node.args.contains("presets") && !node.args["presets"].is_null()) {
    Task<Result<Json>> applying = args_under_preset(deps, node);
    Result<Json> args = co_await applying;
    if (!args) co_return fail(args.error());
    node.args = std::move(*args);
  }
  co_return node;
}

// The catalogue model a node's `model:` picks (model_catalog.h's rules); without a catalogue,
// the process's one model, which serves any tags and passes any name to its provider.
Result<ModelSpec> choose_model(const AgentDeps& deps, const NodeInput& node) {
  const Json selector = node.args.value("model", Json());
  const bool unset = selector.is_null() || selector == "";
  if (deps.catalog == nullptr) {
    ModelSpec only;
    only.name = only.api_model =
        selector.is_string() && !unset ? selector.get<std::string>() : deps.default_model;
    if (!selector.is_string() && !selector.is_object() && !unset)
      return fail(
          node_error(node, "model is a name or {name, tags, providers}, not " + selector.dump()));
    if (selector.is_object()) only.name = only.api_model = text_field(selector, "name");
    if (only.name.empty()) only.name = only.api_model = deps.default_model;
    return only;
  }
  auto chosen = resolve_model(*deps.catalog, unset ? Json() : selector);
  if (!chosen) return fail(node_error(node, chosen.error()));
  return std::move(*chosen);
}

// A JSON Schema's basic check of a response tool's arguments: an object, its required fields
// present, and the declared types of the fields it has.
std::optional<std::string> schema_mismatch(const Json& schema, const Json& value) {
  if (!value.is_object()) return "the arguments are not an object";
  if (!schema.is_object()) return std::nullopt;
  for (const auto& required : schema.value("required", Json::array())) {
    if (required.is_string() && !value.contains(required.get<std::string>())) {
      return "the required field \"" + required.get<std::string>() + "\" is missing";
    }
  }
  const Json properties = schema.value("properties", Json::object());
  if (!properties.is_object()) return std::nullopt;
  for (const auto& [field, spec] : properties.items()) {
    if (!value.contains(field) || !spec.is_object() || !spec.contains("type")) continue;
    const Json& v = value[field];
    const std::string type = spec["type"].is_string() ? spec["type"].get<std::string>() : "";
    const bool ok = type == "string"    ? v.is_string()
                    : type == "boolean" ? v.is_boolean()
                    : type == "integer" ? v.is_number_integer()
                    : type == "number"  ? v.is_number()
                    : type == "array"   ? v.is_array()
                    : type == "object"  ? v.is_object()
                                        : true;
    if (!ok) return "field \"" + field + "\" is not of type " + type;
  }
  return std::nullopt;
}

// A call_llm node's `messages:`, as the model reads them: system messages join the system
// prompt, the others keep their order.
struct GivenMessages {
  std::vector<llm::Message> messages;
  std::string system;
};

// The node's `messages:` ({role, content, tool_calls, tool_result} each), or nullopt without
// them.
Result<std::optional<GivenMessages>> given_messages(const NodeInput& node) {
  const Json list = node.args.value("messages", Json());
  if (list.is_null() || (list.is_array() && list.empty())) return std::optional<GivenMessages>();
  if (!list.is_array()) return fail(node_error(node, "messages must be a list"));
  GivenMessages out;
  for (const auto& entry : list) {
    if (!entry.is_object()) return fail(node_error(node, "each of messages must be a map"));
    auto read_role = text_arg(node, entry, "role", "user");
    if (!read_role) return fail(read_role.error());
    const std::string role = std::move(*read_role);
    const Json content = entry.value("content", Json(""));
    const std::string text = content.is_string() ? content.get<std::string>()
                             : content.is_null() ? std::string()
                                                 : content.dump();
    if (role == "system") {
      out.system += (out.system.empty() ? "" : "\n\n") + text;
      continue;
    }
    llm::Message message;
    if (role == "user") {
      message.role = llm::Message::Role::user;
    } else if (role == "assistant") {
      message.role = llm::Message::Role::assistant;
    } else if (role == "tool") {
      message.role = llm::Message::Role::tool;
    } else {
      return fail(node_error(
          node, "a message's role must be user, assistant, system or tool, not \"" + role + "\""));
    }
    if (!text.empty() && role != "tool") message.content.push_back(llm::Block::text_block(text));
    for (const auto& call : entry.value("tool_calls", Json::array())) {
      if (!call.is_object()) return fail(node_error(node, "tool_calls must be a list of maps"));
      llm::Block block;
      block.kind = llm::Block::Kind::tool_call;
      block.tool_call_id = text_field(call, "id");
      block.tool_name = text_field(call, "name");
      block.input = call.value("input", Json::object());
      message.content.push_back(std::move(block));
    }
    if (const Json result = entry.value("tool_result", Json());
        result.is_object() || role == "tool") {
      llm::Block block;
      block.kind = llm::Block::Kind::tool_result;
      block.tool_call_id = result.is_object() ? text_field(result, "tool_call_id") : "";
      block.text = result.is_object() ? result.value("content", text) : text;
      block.is_error = result.is_object() && bool_field(result, "is_error");
      message.content.push_back(std::move(block));
    }
    out.messages.push_back(std::move(message));
  }
  return std::optional<GivenMessages>(std::move(out));
}

class CallLlmNode final : public engine::Activity {
 public:
  CallLlmNode(AgentDeps deps, std::shared_ptr<ConversationCache> conversations,
              std::shared_ptr<DaemonToolSpecs> daemon_tools)
      : deps_(std::move(deps)),
        conversations_(std::move(conversations)),
        daemon_tools_(std::move(daemon_tools)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::call_llm).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    Task<Result<NodeInput>> reading = model_call_input(deps_, std::move(input));
    Result<NodeInput> parsed = co_await reading;
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    auto model = choose_model(deps_, node);
    if (!model) co_return fail(model.error());
    Executor& executor = context.executor;

    const std::int64_t now_ms = to_ms(executor.now());
    const std::string run_id = context.run_id;
    // `messages:` makes it an ad-hoc call about those messages, not about the thread.
    auto given = given_messages(node);
    if (!given) co_return fail(given.error());
    auto filter_list = tool_filter_list(node, node_tool_filter(node.args));
    if (!filter_list) co_return fail(filter_list.error());
    const Json filter = std::move(*filter_list);
    const bool offers_mcp = may_offer_mcp(filter);
    NodeReads reads;
    if (!node.chat_id.empty() && !*given) {
      Task<Result<NodeReads>> reading = read_thread_and_daemons(node, run_id, now_ms, offers_mcp);
      Result<NodeReads> read = co_await reading;
      if (!read) co_return fail(read.error());
      reads = std::move(*read);
    }

    llm::Request request = model_request(node, *model);
    request.tools = filtered_tools(deps_.tools, filter);
    // The tools the worker runs itself keep their state on the chat (a plan): offered in one.
    if (!node.chat_id.empty()) {
      for (auto& spec : filtered_tools(server_tool_specs(), filter))
        request.tools.push_back(std::move(spec));
      // The spawn tools: its spawn entries' presets, and a sub-agent's line to its parent.
      for (auto& spec : spawn_tool_specs(spawn_presets_in(filter), is_spawned_run(node.run))) {
        if (tool_allowed(filter, spec.name) || spec.name == "spawn_send")
          request.tools.push_back(std::move(spec));
      }
    }
    // The MCP tools of the daemon this node's tools would run on.
    if (offers_mcp) {
      Task<OfferedTools> asking =
          daemon_tools_->for_node(deps_, executor, node, std::move(reads.daemons));
      OfferedTools offered = co_await asking;
      for (auto& spec : offered.specs) {
        const std::vector<std::string> tags =
            daemon_tools_->tags(node.user_id, offered.daemon_id, spec.name);
        if (tool_allowed(filter, spec.name, tags)) request.tools.push_back(std::move(spec));
      }
    }
    const Json response_tool = node.args.value("response_tool", Json());
    std::string response_name;
    if (response_tool.is_object()) {
      response_name = text_field(response_tool, "name");
      if (response_name.empty()) co_return fail(node_error(node, "response_tool needs a name"));
      request.tools.push_back({response_name, text_field(response_tool, "description"),
                               response_tool.value("schema", Json{{"type", "object"}}), true});
    }
    if (*given) {
      for (auto& message : (*given)->messages) request.messages.push_back(std::move(message));
      if (!(*given)->system.empty()) request.system += "\n\n" + (*given)->system;
    } else {
      request.earlier = reads.thread.conversation;
      if (!node.chat_id.empty())
        conversations_->put(node.chat_id, node.thread_ref.id, std::move(reads.thread));
    }
    if (const Json prompt = node.args.value("prompt", Json()); prompt.is_string()) {
      request.messages.push_back({llm::Message::Role::user, {llm::Block::text_block(prompt)}});
    }

    TextPreviews previews(executor, deps_.bus, node.user_id, node.chat_id);
    // The chat shows its main thread only: text on a node's own thread would stream into a
    // message the chat never shows.
    llm::TextSink on_text =
        [&previews, main_thread = node.thread_ref.id.empty(), run_id, key = node.key,
         message_id = node_message_id(run_id, node.key)](std::string_view delta) {
          if (!main_thread) return;
          previews.add(
              {{"run_id", run_id}, {"node", key}, {"message_id", message_id}, {"text", delta}});
        };
    Scope beating(executor);
    beating.spawn(keep_alive(executor, context.heartbeat));
    Task<Result<llm::Response>> asking = deps_.llm.complete(std::move(request), std::move(on_text));
    Result<llm::Response> response = co_await asking;
    previews.flush();
    if (!response) co_return fail(response.error());

    std::string text;
    Json calls = Json::array();
    Json output = Json::object();
    for (const auto& block : response->content) {
      if (block.kind == llm::Block::Kind::text) {
        text += block.text;
        continue;
      }
      if (block.kind != llm::Block::Kind::tool_call) continue;
      if (block.tool_name.empty() || !block.input.is_object()) {
        co_return fail(node_error(
            node, "the model returned a malformed tool call (" +
                      (block.tool_name.empty() ? std::string("no tool name")
                                               : block.tool_name + "'s input is not an object") +
                      ")"));
      }
      Json call = {{"id", block.tool_call_id}, {"name", block.tool_name}, {"input", block.input}};
      if (!response_name.empty() && block.tool_name == response_name) {
        if (auto mismatch = schema_mismatch(response_tool.value("schema", Json()), block.input)) {
          co_return fail(node_error(node, "the model's " + response_name +
                                              " response does not fit its schema: " + *mismatch));
        }
        call["response_tool"] = true;
        output["response"] = block.input;
        output["response_data"][response_name] = block.input;
      }
      calls.push_back(std::move(call));
    }
    output["message"] = {{"role", "assistant"}, {"text", text}};
    output["response_text"] = text;
    output["tool_calls"] = std::move(calls);
    add_usage(output, *model, *response);
    co_return output;
  }

 private:
  // The node's thread, and the daemons whose MCP tools it may be offered (when it may be offered
  // any), read in one transaction.
  struct NodeReads {
    KeptThread thread;
    std::optional<ChatDaemons> daemons;  // unread: the offer reads them itself
  };
  Task<Result<NodeReads>> read_thread_and_daemons(NodeInput node, std::string run_id,
                                                  std::int64_t now_ms, bool offers_mcp) {
    auto daemons = std::make_shared<std::optional<ChatDaemons>>();
    std::optional<AlongTheThread> along;
    if (offers_mcp) {
      along = AlongTheThread{
          daemons_for_chat_statement(node.user_id, node.chat_id),
          [daemons, chat_id = node.chat_id](SqlTransaction& tx, const SqlRows& rows) {
            // Unread, the offer reads them itself, and has none when it cannot. Set on every
            // attempt: a body run again reads them again.
            auto read = chat_daemons_from(tx, chat_id, rows);
            *daemons = read ? std::optional(std::move(*read)) : std::nullopt;
            return Result<void>{};
          }};
    }
    Task<Result<KeptThread>> loading = read_thread(
        *conversations_, deps_.store, node.chat_id, node.thread_ref.id,
        [node, run_id, now_ms, dialect = deps_.store.dialect()](SqlTransaction& tx) {
          return ensure_node_thread(tx, dialect, node, run_id, now_ms);
        },
        std::move(along));
    Result<KeptThread> thread = co_await loading;
    if (!thread) co_return fail(thread.error());
    co_return NodeReads{std::move(*thread), std::move(*daemons)};
  }

  AgentDeps deps_;
  std::shared_ptr<ConversationCache> conversations_;
  std::shared_ptr<DaemonToolSpecs> daemon_tools_;  // shared with execute_tools
};

// A message as a save_message node (or a node's `save_message:`) gives it: {role, content,
// tool_calls, tool_results, display_style}.
Result<MessageRecord> message_from_args(const NodeInput& node) {
  MessageRecord message;
  message.chat_id = node.chat_id;
  message.thread = node.thread_ref.id;
  auto role = text_arg(node, node.args, "role", "assistant");
  if (!role) return fail(role.error());
  message.role = std::move(*role);
  if (message.role != "user" && message.role != "assistant" && message.role != "system" &&
      message.role != "tool") {
    return fail(node_error(
        node, "role must be user, assistant, system or tool, not \"" + message.role + "\""));
  }
  const Json content = node.args.value("content", Json(""));
  std::string text = content.is_string() ? content.get<std::string>()
                     : content.is_null() ? std::string()
                                         : content.dump();
  if (!text.empty()) {
    Json body = {{"text", std::move(text)}};
    if (const Json style = node.args.value("display_style", Json()); style.is_string()) {
      body["display_style"] = style;
    }
    message.blocks.push_back({"text", std::move(body)});
  }
  const Json calls = node.args.value("tool_calls", Json::array());
  for (const auto& call : calls.is_array() ? calls : Json::array()) {
    if (!call.is_object()) return fail(node_error(node, "tool_calls must be a list of maps"));
    message.blocks.push_back({"tool_call",
                              {{"id", text_field(call, "id")},
                               {"name", text_field(call, "name")},
                               {"input", call.value("input", Json::object())}}});
  }
  const Json results = node.args.value("tool_results", Json::array());
  for (const auto& result : results.is_array() ? results : Json::array()) {
    if (!result.is_object()) return fail(node_error(node, "tool_results must be a list of maps"));
    message.blocks.push_back({"tool_result",
                              {{"tool_call_id", text_field(result, "tool_call_id")},
                               {"name", text_field(result, "name")},
                               {"content", text_field(result, "content")},
                               {"is_error", bool_field(result, "is_error")},
                               {"daemon_id", text_field(result, "daemon_id")}}});
  }
  return message;
}

class SaveMessageNode final : public engine::Activity {
 public:
  explicit SaveMessageNode(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::save_message).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto planned = plan(context, input);
    if (!planned) co_return fail(planned.error());
    if (!planned->message) co_return Json{{"saved", false}};
    const NodeInput& node = planned->node;
    // The main thread needs nothing made first: no transaction that would do nothing.
    if (node_thread_needs_preparing(node)) {
      const std::string run_id = context.run_id;
      Task<Result<void>> preparing = deps_.store.transact_for(
          [node, run_id, now_ms = planned->message->created_at_ms,
           dialect = deps_.store.dialect()](SqlTransaction& tx) -> Result<void> {
            return ensure_node_thread(tx, dialect, node, run_id, now_ms);
          });
      Result<void> prepared = co_await preparing;
      if (!prepared) co_return fail(prepared.error());
    }
    Task<Result<MessageRecord>> storing = store_message(deps_.store, deps_.bus, node.user_id,
                                                        std::move(*planned->message), std::nullopt);
    Result<MessageRecord> stored = co_await storing;
    if (!stored) co_return fail(stored.error());
    co_return Json{{"saved", true}, {"message_id", stored->id}, {"role", stored->role}};
  }

  // A message on the chat's main thread is one transaction whose result is known before it
  // (the message's id and role: a second write of the id returns the first, the same message).
  std::optional<StoreWork> store_work(const ActivityContext& context, const Json& input) override {
    auto planned = plan(context, input);
    if (!planned || !planned->message || node_thread_needs_preparing(planned->node)) {
      return std::nullopt;
    }
    const MessageRecord& message = *planned->message;
    Json result{{"saved", true}, {"message_id", message.id}, {"role", message.role}};
    return store_work_with_updates(
        deps_.store, deps_.bus, std::move(result),
        [message, user_id = planned->node.user_id, dialect = deps_.store.dialect()](
            SqlTransaction& tx, std::vector<updates::UserEvent>& events) -> Result<void> {
          auto written = write_message(tx, dialect, user_id, message, std::nullopt, events);
          if (!written) return fail(written.error());
          return {};
        });
  }

 private:
  // The node and the message this attempt stores (none: it answers {"saved": false}).
  struct Planned {
    NodeInput node;
    std::optional<MessageRecord> message;
  };
  Result<Planned> plan(const ActivityContext& context, const Json& input) const {
    auto parsed = node_input(input);
    if (!parsed) return fail(parsed.error());
    Planned planned{std::move(*parsed), std::nullopt};
    const NodeInput& node = planned.node;
    auto message = message_from_args(node);
    if (!message) return fail(message.error());
    if (node.chat_id.empty()) return planned;
    // A node's own `save_message:` stores under the id its streamed text already named.
    message->id = node.key.starts_with(workflow::kSaveMessageKeyPrefix)
                      ? node_message_id(context.run_id, std::string_view(node.key).substr(
                                                            workflow::kSaveMessageKeyPrefix.size()))
                      : step_message_id(context.run_id, context.scheduled_seq);
    message->created_at_ms = to_ms(context.executor.now());
    if (message->blocks.empty()) return planned;  // nothing to say
    planned.message = std::move(*message);
    return planned;
  }

  AgentDeps deps_;
};

class CompactNode final : public engine::Activity {
 public:
  CompactNode(AgentDeps deps, std::shared_ptr<ConversationCache> conversations)
      : deps_(std::move(deps)), conversations_(std::move(conversations)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::compact).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto parsed = node_input(input);
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    // Without a threshold the node compacts: the edge that led to it has decided (Reliant's
    // agent compares the thread's size with its own input before it gets here).
    const Json limit = node.args.value("threshold", Json());
    if (!limit.is_null() && !limit.is_number()) {
      co_return fail(node_error(node, "threshold must be an integer, not " + limit.dump()));
    }
    const std::int64_t threshold = limit.is_number_integer() ? limit.get<std::int64_t>()
                                   : limit.is_number()       ? std::llround(limit.get<double>())
                                                             : 0;
    const std::string summary_id = step_message_id(context.run_id, context.scheduled_seq);
    std::vector<MessageRecord> messages;
    if (!node.chat_id.empty()) {
      Task<Result<KeptThread>> loading =
          read_thread(*conversations_, deps_.store, node.chat_id, node.thread_ref.id);
      Result<KeptThread> read = co_await loading;
      if (!read) co_return fail(read.error());
      // A copy: the model may take minutes, and the kept thread serves other nodes meanwhile.
      messages = read->messages;
      conversations_->put(node.chat_id, node.thread_ref.id, std::move(*read));
    }
    const std::vector<MessageRecord>* thread = &messages;
    const std::int64_t before = estimated_tokens(*thread);
    // A retry after the summary was stored sees it first on the thread: done.
    if (!thread->empty() && thread->front().id == summary_id) {
      co_return Json{{"compacted", true},
                     {"tokens_after", before},
                     {"thread_token_count", before},
                     {"message_id", summary_id}};
    }
    if (before <= threshold || thread->empty()) {
      co_return Json{{"compacted", false},
                     {"tokens_before", before},
                     {"thread_token_count", before},
                     {"threshold", threshold}};
    }
    auto model = choose_model(deps_, node);
    if (!model) co_return fail(model.error());
    llm::Request request = model_request(node, *model);  // its model, for its user
    request.system =
        "Summarise the conversation so far for whoever continues it: the task, what was done, "
        "what was found, the files involved, and what remains. Be complete but brief.";
    for (const auto& message : *thread) request.messages.push_back(to_llm(message));
    request.messages.push_back(
        {llm::Message::Role::user, {llm::Block::text_block("Summarise the conversation so far.")}});
    Scope beating(context.executor);
    beating.spawn(keep_alive(context.executor, context.heartbeat));
    Task<Result<llm::Response>> asking = deps_.llm.complete(std::move(request), nullptr);
    Result<llm::Response> response = co_await asking;
    if (!response) co_return fail(response.error());
    std::string summary;
    for (const auto& block : response->content) {
      if (block.kind == llm::Block::Kind::text) summary += block.text;
    }
    MessageRecord message;
    message.id = summary_id;
    message.chat_id = node.chat_id;
    message.thread = node.thread_ref.id;
    message.role = "system";
    message.model = response->model;
    message.created_at_ms = to_ms(context.executor.now());
    message.blocks.push_back(
        {"text",
         {{"text", "Summary of the conversation before this point:\n" + summary},
          {"summary", true},
          {"tokens_before", before}}});
    const std::int64_t after = estimated_tokens({message});
    Task<Result<MessageRecord>> storing =
        store_message(deps_.store, deps_.bus, node.user_id, std::move(message), std::nullopt);
    Result<MessageRecord> stored = co_await storing;
    if (!stored) co_return fail(stored.error());
    co_return Json{{"compacted", true},
                   {"tokens_before", before},
                   {"tokens_after", after},
                   {"thread_token_count", after},
                   {"message_id", stored->id}};
  }

 private:
  AgentDeps deps_;
  std::shared_ptr<ConversationCache> conversations_;
};

}  // namespace

void register_node_activities(engine::ActivityRegistry& registry, const AgentDeps& deps) {
  // One per worker: the threads its nodes read lately.
  auto conversations = std::make_shared<ConversationCache>();
  // And the MCP tools (with their tags) of the daemons its nodes run on.
  auto daemon_tools = std::make_shared<DaemonToolSpecs>();
  registry.add(std::make_unique<CallLlmNode>(deps, conversations, daemon_tools));
  registry.add(std::make_unique<SaveMessageNode>(deps));
  registry.add(std::make_unique<CompactNode>(deps, conversations));
  register_node_tool_activities(registry, deps, conversations, daemon_tools);
  register_child_run_activity(registry, deps);
  // Every node type that runs as an activity has its handler, or this worker does not start.
  for (const auto& type : workflow::node_types()) {
    RELIANT_ASSERT_MSG(
        type.role != workflow::NodeRole::activity || registry.find(type.activity) != nullptr,
        "a node type's activity has no handler (core/workflow/node_types.cc)");
  }
}

}  // namespace reliant::agent
