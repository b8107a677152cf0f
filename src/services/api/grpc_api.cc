// The gRPC methods: decode the request, authenticate, call ChatService or WorkflowRoutes (or
// read the store), encode the answer; StreamUpdates writes a UserFeed's updates until the client
// goes.
#include "services/api/grpc_api.h"

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/api.pb.h"
#include "runtime/sleep.h"
#include "services/api/api_support.h"
#include "services/updates/user_feed.h"

namespace reliant::api {
namespace {

namespace v1 = reliant::api::v1;

constexpr std::string_view kStreamUpdates = "/reliant.api.v1.StreamingService/StreamUpdates";

void to_proto(const ChatRecord& chat, v1::Chat& out) {
  out.set_id(chat.id);
  out.set_title(chat.title);
  out.set_status(std::string(to_string(chat.status)));
  out.set_workflow_run_id(chat.workflow_run_id);
  out.set_active_daemon_id(chat.active_daemon_id);
  out.set_created_at_ms(chat.created_at_ms);
  out.set_updated_at_ms(chat.updated_at_ms);
}

void to_proto(const MessageRecord& message, v1::Message& out) {
  out.set_id(message.id);
  out.set_chat_id(message.chat_id);
  out.set_ordinal(message.ordinal);
  out.set_role(message.role);
  out.set_model(message.model);
  out.set_input_tokens(message.input_tokens);
  out.set_output_tokens(message.output_tokens);
  out.set_created_at_ms(message.created_at_ms);
  for (const auto& block : message.blocks) {
    v1::ContentBlock* content = out.add_content();
    content->set_kind(block.kind);
    content->set_body_json(block.body.dump());
  }
}

// Free-form JSON as a *_json field (invalid UTF-8 replaced: run outputs echo tool bytes).
std::string json_text(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A *_json field of a request: `empty` when the field is, else its JSON.
Result<Json> json_field(const std::string& text, std::string_view name, Json empty) {
  if (text.empty()) return empty;
  auto json = parse_json(text);
  if (!json) {
    return fail(ErrorCode::invalid_argument,
                std::string(name) + " is not valid JSON: " + json.error().message);
  }
  return json;
}

void to_proto(const Json& record, v1::ProjectWorkflow& out) {
  out.set_id(record.value("id", ""));
  out.set_project_id(record.value("project_id", ""));
  out.set_name(record.value("name", ""));
  out.set_version(record.value("version", std::int64_t{0}));
  out.set_created_at_ms(record.value("created_at_ms", std::int64_t{0}));
  out.set_updated_at_ms(record.value("updated_at_ms", std::int64_t{0}));
  out.set_source(record.value("source", ""));
  out.set_description(record.value("description", ""));
  if (record.contains("inputs")) out.set_inputs_json(json_text(record["inputs"]));
}

// Awaits a WorkflowRoutes operation and encodes its JSON as a `Response` filled by `fill`.
template <class Response, class Fill>
Task<Result<std::string>> encoded(Task<Result<Json>> operation, Fill fill) {
  Result<Json> out = co_await operation;
  if (!out) co_return fail(out.error());
  Response response;
  fill(*out, response);
  co_return protocol::encode(response);
}

// An ApproveNodeRequest's or DenyNodeRequest's answer (the two have the same fields).
template <class Request>
NodeAnswer decision(std::string verb, const Request& in) {
  NodeAnswer out{std::move(verb), std::nullopt, in.message(), Json()};
  if (!in.node().empty()) out.node = in.node();
  return out;
}

// What WorkflowRoutes::answer answered, as a NodeAnswered.
Task<Result<std::string>> node_answered(Task<Result<Json>> answering) {
  return encoded<v1::NodeAnswered>(std::move(answering), [](const Json& answered, auto& out) {
    out.set_run_id(answered.value("run_id", ""));
    out.set_node(answered.value("node", ""));
    out.set_output_json(json_text(answered.value("output", Json())));
  });
}

// Counts a stream while its frame lives (a cancelled stream's frame is destroyed).
class OpenStream {
 public:
  explicit OpenStream(std::uint64_t& open) : open_(open) { ++open_; }
  ~OpenStream() { --open_; }
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

 private:
  std::uint64_t& open_;
};

}  // namespace

GrpcApi::GrpcApi(Env& env, ApiConfig config, OnAuthenticated on_authenticated)
    : env_(env),
      config_(std::move(config)),
      on_authenticated_(std::move(on_authenticated)),
      chats_(env, config_.chats),
      workflows_(env, config_.workflows, config_.chats.queue),
      presets_(env),
      watches_(env, config_.credential_recheck),
      daemon_services_(env, config_.daemons, watches_),
      managed_daemons_(env, config_.managed_daemons),
      update_budget_(config_.update_budget != nullptr
                         ? config_.update_budget
                         : std::make_shared<updates::UpdateBudget>(kUpdateBudgetBytes)) {}

const std::map<std::string_view, GrpcApi::UnaryMethod>& GrpcApi::unary_methods() {
  static const std::map<std::string_view, UnaryMethod> methods = {
      {"/reliant.api.v1.ChatService/CreateChat", &GrpcApi::create_chat},
      {"/reliant.api.v1.ChatService/ListChats", &GrpcApi::list_chats},
      {"/reliant.api.v1.ChatService/GetChat", &GrpcApi::get_chat},
      {"/reliant.api.v1.ChatService/SendMessage", &GrpcApi::send_message},
      {"/reliant.api.v1.ChatService/CancelChat", &GrpcApi::cancel_chat},
      {"/reliant.api.v1.DaemonService/ListDaemons", &GrpcApi::list_daemons},
      {"/reliant.api.v1.DaemonService/SetSessionDaemon", &GrpcApi::set_session_daemon},
      {"/reliant.api.v1.WorkflowService/ListWorkflows", &GrpcApi::list_workflows},
      {"/reliant.api.v1.WorkflowService/ValidateWorkflow", &GrpcApi::validate_workflow},
      {"/reliant.api.v1.WorkflowService/ListProjectWorkflows", &GrpcApi::list_project_workflows},
      {"/reliant.api.v1.WorkflowService/GetProjectWorkflow", &GrpcApi::get_project_workflow},
      {"/reliant.api.v1.WorkflowService/CreateProjectWorkflow", &GrpcApi::create_project_workflow},
      {"/reliant.api.v1.WorkflowService/UpdateProjectWorkflow", &GrpcApi::update_project_workflow},
      {"/reliant.api.v1.WorkflowService/DeleteProjectWorkflow", &GrpcApi::delete_project_workflow},
      {"/reliant.api.v1.WorkflowService/StartRun", &GrpcApi::start_run},
      {"/reliant.api.v1.WorkflowService/GetRun", &GrpcApi::get_run},
      {"/reliant.api.v1.WorkflowService/ListRuns", &GrpcApi::list_runs},
      {"/reliant.api.v1.WorkflowService/ApproveNode", &GrpcApi::approve_node},
      {"/reliant.api.v1.WorkflowService/DenyNode", &GrpcApi::deny_node},
      {"/reliant.api.v1.WorkflowService/AnswerNode", &GrpcApi::answer_node},
      {"/reliant.api.v1.WorkflowService/CancelRun", &GrpcApi::cancel_run},
      {"/reliant.api.v1.WorkflowService/ControlRun", &GrpcApi::control_run},
      {"/reliant.api.v1.WorkflowService/ListRunEvents", &GrpcApi::list_run_events},
      {"/reliant.api.v1.PresetService/ListPresets", &GrpcApi::list_presets},
      {"/reliant.api.v1.PresetService/GetPreset", &GrpcApi::get_preset},
      {"/reliant.api.v1.PresetService/ValidatePreset", &GrpcApi::validate_preset},
      {"/reliant.api.v1.PresetService/CreatePreset", &GrpcApi::create_preset},
      {"/reliant.api.v1.PresetService/DeletePreset", &GrpcApi::delete_preset},
  };
  return methods;
}

bool GrpcApi::knows(std::string_view method) const {
  return is_server_streaming(method) || unary_methods().contains(method) ||
         daemon_services_.knows(method) || managed_daemons_.knows(method);
}

bool GrpcApi::is_server_streaming(std::string_view method) const {
  return method == kStreamUpdates || daemon_services_.is_server_streaming(method);
}

bool GrpcApi::is_bidi_streaming(std::string_view method) const {
  return daemon_services_.is_bidi_streaming(method);
}

Task<Result<Credential>> GrpcApi::authenticate(const RpcCall& call) {
  std::string token = bearer_token(call.metadata);
  Task<Result<Credential>> checking =
      api::authenticate_credential(env_, config_.jwt, std::move(token));
  Result<Credential> credential = co_await checking;
  if (!credential) co_return fail(credential.error());
  call.mark_authenticated();
  if (on_authenticated_) {
    Task<Result<void>> hook = on_authenticated_(credential->user_id);
    Result<void> ready = co_await hook;
    if (!ready) co_return fail(ready.error());
  }
  co_return std::move(*credential);
}

Task<Result<std::string>> GrpcApi::unary(RpcCall call) {
  ++stats_.calls;
  auto method = unary_methods().find(call.method);
  const bool daemon_service = daemon_services_.knows(call.method);
  const bool managed_daemon = managed_daemons_.knows(call.method);
  if (method == unary_methods().end() && !daemon_service && !managed_daemon) {
    co_return fail(ErrorCode::not_found, "no unary method " + call.method);
  }
  Task<Result<Credential>> authenticating = authenticate(call);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  if (managed_daemon) {
    Task<Result<std::string>> serving = managed_daemons_.unary(
        std::move(credential->user_id), std::move(call.method), std::move(call.request));
    co_return co_await serving;
  }
  if (daemon_service) {
    Task<Result<std::string>> serving =
        daemon_services_.unary(std::move(credential->user_id), std::move(call));
    co_return co_await serving;
  }
  Task<Result<std::string>> serving =
      (this->*(method->second))(std::move(credential->user_id), std::move(call.request));
  co_return co_await serving;
}

Task<Result<void>> GrpcApi::server_stream(RpcCall call, RpcWriter& out) {
  ++stats_.calls;
  const bool daemon_service = daemon_services_.is_server_streaming(call.method);
  if (call.method != kStreamUpdates && !daemon_service)
    co_return fail(ErrorCode::not_found, "no stream method " + call.method);
  Task<Result<Credential>> authenticating = authenticate(call);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  if (daemon_service) {
    OpenStream open(stats_.streams_open);
    Task<Result<void>> serving =
        daemon_services_.server_stream(std::move(*credential), std::move(call), out);
    co_return co_await serving;
  }
  Task<Result<void>> streaming =
      stream_updates(std::move(*credential), std::move(call.request), out);
  co_return co_await streaming;
}

Task<Result<void>> GrpcApi::bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out) {
  ++stats_.calls;
  if (!daemon_services_.is_bidi_streaming(call.method)) {
    co_return fail(ErrorCode::not_found, "no bidirectional method " + call.method);
  }
  Task<Result<Credential>> authenticating = authenticate(call);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  OpenStream open(stats_.streams_open);
  Task<Result<void>> serving =
      daemon_services_.bidi_stream(std::move(*credential), std::move(call), in, out);
  co_return co_await serving;
}

Task<Result<std::string>> GrpcApi::create_chat(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::CreateChatRequest>(request);
  if (!in) co_return fail(in.error());
  auto presets = json_field(in->presets_json(), "presets_json", Json());
  if (!presets) co_return fail(presets.error());
  agent::ChatWorkflow workflow;
  workflow.presets = std::move(*presets);
  Task<Result<ChatRecord>> creating =
      chats_.create_chat(std::move(user_id), in->title(), std::move(workflow));
  Result<ChatRecord> chat = co_await creating;
  if (!chat) co_return fail(chat.error());
  v1::Chat out;
  to_proto(*chat, out);
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::list_chats(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ListChatsRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::vector<ChatRecord>>> listing = chats_.list_chats(std::move(user_id));
  Result<std::vector<ChatRecord>> chats = co_await listing;
  if (!chats) co_return fail(chats.error());
  v1::ListChatsResponse out;
  for (const auto& chat : *chats) to_proto(chat, *out.add_chats());
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::get_chat(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::GetChatRequest>(request);
  if (!in) co_return fail(in.error());
  auto page = message_page_query(in->limit(), in->after_ordinal(), in->before_ordinal());
  if (!page) co_return fail(page.error());
  Task<Result<agent::ChatView>> getting = chats_.get_chat(std::move(user_id), in->chat_id(), *page);
  Result<agent::ChatView> view = co_await getting;
  if (!view) co_return fail(view.error());
  v1::GetChatResponse out;
  to_proto(view->chat, *out.mutable_chat());
  for (const auto& message : view->messages) to_proto(message, *out.add_messages());
  out.set_has_more(view->has_more);
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::send_message(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::SendMessageRequest>(request);
  if (!in) co_return fail(in.error());
  agent::SendOptions options;
  options.model = in->model();
  if (!in->daemon_selector_json().empty()) {
    auto selector = parse_json(in->daemon_selector_json());
    if (!selector) {
      co_return fail(ErrorCode::invalid_argument,
                     "daemon_selector_json is not valid JSON: " + selector.error().message);
    }
    options.daemon = std::move(*selector);
  }
  if (in->max_turns() != 0) options.turns_max = in->max_turns();
  auto presets = json_field(in->presets_json(), "presets_json", Json());
  if (!presets) co_return fail(presets.error());
  options.presets = std::move(*presets);
  Task<Result<agent::SentMessage>> sending =
      chats_.send_message(std::move(user_id), in->chat_id(), in->text(), std::move(options));
  Result<agent::SentMessage> sent = co_await sending;
  if (!sent) co_return fail(sent.error());
  v1::SendMessageResponse out;
  out.set_message_id(sent->message_id);
  out.set_run_id(sent->run_id);
  out.set_seq(sent->seq);
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::cancel_chat(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::CancelChatRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<void>> cancelling = chats_.cancel(std::move(user_id), in->chat_id());
  Result<void> cancelled = co_await cancelling;
  if (!cancelled) co_return fail(cancelled.error());
  co_return protocol::encode(v1::CancelChatResponse());
}

Task<Result<std::string>> GrpcApi::list_daemons(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ListDaemonsRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<v1::ListDaemonsResponse>> listing =
      managed_daemons_.service().list(std::move(user_id));
  Result<v1::ListDaemonsResponse> out = co_await listing;
  if (!out) co_return fail(out.error());
  co_return protocol::encode(*out);
}

Task<Result<std::string>> GrpcApi::set_session_daemon(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::SetSessionDaemonRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<void>> setting =
      chats_.set_session_daemon(std::move(user_id), in->chat_id(), in->daemon_id());
  Result<void> set = co_await setting;
  if (!set) co_return fail(set.error());
  co_return protocol::encode(v1::SetSessionDaemonResponse());
}

Task<Result<std::string>> GrpcApi::list_workflows(std::string, std::string request) {
  auto in = protocol::decode<v1::ListWorkflowsRequest>(request);
  if (!in) co_return fail(in.error());
  v1::ListWorkflowsResponse out;
  for (const auto& workflow : workflows_.workflows()["workflows"]) {
    v1::WorkflowInfo* info = out.add_workflows();
    info->set_name(workflow.value("name", ""));
    info->set_builtin(workflow.value("builtin", false));
    info->set_description(workflow.value("description", ""));
    if (workflow.contains("inputs")) info->set_inputs_json(json_text(workflow["inputs"]));
  }
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::validate_workflow(std::string, std::string request) {
  auto in = protocol::decode<v1::ValidateWorkflowRequest>(request);
  if (!in) co_return fail(in.error());
  auto valid = workflows_.validate({in->source(), in->file()}, nullptr);
  if (!valid) co_return fail(valid.error());
  v1::ValidateWorkflowResponse out;
  out.set_name(valid->value("name", ""));
  out.set_description(valid->value("description", ""));
  out.set_inputs_json(json_text(valid->value("inputs", Json::array())));
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::list_project_workflows(std::string user_id,
                                                          std::string request) {
  auto in = protocol::decode<v1::ListProjectWorkflowsRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> listing = encoded<v1::ListProjectWorkflowsResponse>(
      workflows_.list_project_workflows(std::move(user_id), in->project_id()),
      [](const Json& listed, auto& out) {
        for (const auto& record : listed["workflows"]) to_proto(record, *out.add_workflows());
      });
  co_return co_await listing;
}

Task<Result<std::string>> GrpcApi::get_project_workflow(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::GetProjectWorkflowRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> getting = encoded<v1::ProjectWorkflow>(
      workflows_.get_project_workflow(std::move(user_id), in->project_id(), in->name()),
      [](const Json& record, auto& out) { to_proto(record, out); });
  co_return co_await getting;
}

Task<Result<std::string>> GrpcApi::create_project_workflow(std::string user_id,
                                                           std::string request) {
  auto in = protocol::decode<v1::CreateProjectWorkflowRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> creating = encoded<v1::ProjectWorkflow>(
      workflows_.create_project_workflow(std::move(user_id), in->project_id(),
                                         {in->source(), in->file()}, nullptr),
      [](const Json& record, auto& out) { to_proto(record, out); });
  co_return co_await creating;
}

Task<Result<std::string>> GrpcApi::update_project_workflow(std::string user_id,
                                                           std::string request) {
  auto in = protocol::decode<v1::UpdateProjectWorkflowRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> updating = encoded<v1::ProjectWorkflow>(
      workflows_.update_project_workflow(std::move(user_id), in->project_id(), in->name(),
                                         {in->source(), in->file()}, nullptr),
      [](const Json& record, auto& out) { to_proto(record, out); });
  co_return co_await updating;
}

Task<Result<std::string>> GrpcApi::delete_project_workflow(std::string user_id,
                                                           std::string request) {
  auto in = protocol::decode<v1::DeleteProjectWorkflowRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> deleting = encoded<v1::DeleteProjectWorkflowResponse>(
      workflows_.delete_project_workflow(std::move(user_id), in->project_id(), in->name()),
      [](const Json&, auto&) {});
  co_return co_await deleting;
}

Task<Result<std::string>> GrpcApi::start_run(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::StartRunRequest>(request);
  if (!in) co_return fail(in.error());
  auto inputs = json_field(in->inputs_json(), "inputs_json", Json::object());
  if (!inputs) co_return fail(inputs.error());
  if (!inputs->is_object())
    co_return fail(ErrorCode::invalid_argument, "inputs_json must be a JSON object");
  RunStart start;
  start.workflow = in->workflow();
  if (!in->project_id().empty()) start.project_id = in->project_id();
  if (!in->source().empty()) start.source = WorkflowSource{in->source(), in->file()};
  start.inputs = std::move(*inputs);
  auto presets = json_field(in->presets_json(), "presets_json", Json());
  if (!presets) co_return fail(presets.error());
  start.presets = std::move(*presets);
  if (!in->on_failure().empty() && in->on_failure() != "pause" && in->on_failure() != "fail")
    co_return fail(ErrorCode::invalid_argument, "on_failure must be pause or fail");
  start.on_failure = in->on_failure();
  Task<Result<std::string>> starting = encoded<v1::StartRunResponse>(
      workflows_.start_run(std::move(user_id), std::move(start), nullptr),
      [](const Json& run, auto& out) {
        out.set_run_id(run.value("run_id", ""));
        out.set_chat_id(run.value("chat_id", ""));
        out.set_workflow(run.value("workflow", ""));
        out.set_status(run.value("status", ""));
      });
  co_return co_await starting;
}

Task<Result<std::string>> GrpcApi::get_run(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::GetRunRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> getting = encoded<v1::GetRunResponse>(
      workflows_.get_run(std::move(user_id), in->run_id(), in->history()),
      [](const Json& run, auto& out) {
        out.set_id(run.value("id", ""));
        out.set_workflow(run.value("workflow", ""));
        out.set_status(run.value("status", ""));
        out.set_result_json(json_text(run.value("result", Json())));
        if (const Json error = run.value("error", Json()); error.is_string())
          out.set_error(error.get<std::string>());
        if (run.contains("nodes")) out.set_nodes_json(json_text(run["nodes"]));
        if (run.contains("history")) out.set_history_json(json_text(run["history"]));
      });
  co_return co_await getting;
}

Task<Result<std::string>> GrpcApi::list_runs(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ListRunsRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> listing = encoded<v1::ListRunsResponse>(
      workflows_.list_runs(std::move(user_id), in->limit() == 0 ? kRunListDefault : in->limit()),
      [](const Json& listed, auto& out) {
        for (const auto& run : listed["runs"]) {
          v1::RunSummary* summary = out.add_runs();
          summary->set_id(run.value("id", ""));
          summary->set_status(run.value("status", ""));
          summary->set_workflow(run.value("workflow", ""));
          summary->set_ref(run.value("ref", ""));
          summary->set_chat_id(run.value("chat_id", ""));
          summary->set_parent_run_id(run.value("parent_run_id", ""));
          summary->set_created_at_ms(run.value("created_at_ms", std::int64_t{0}));
          summary->set_closed_at_ms(run.value("closed_at_ms", std::int64_t{0}));
          summary->set_error(run.value("error", ""));
        }
      });
  co_return co_await listing;
}

Task<Result<std::string>> GrpcApi::approve_node(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ApproveNodeRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> answering =
      node_answered(workflows_.answer(std::move(user_id), in->run_id(), decision("approve", *in)));
  co_return co_await answering;
}

Task<Result<std::string>> GrpcApi::deny_node(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::DenyNodeRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> answering =
      node_answered(workflows_.answer(std::move(user_id), in->run_id(), decision("deny", *in)));
  co_return co_await answering;
}

Task<Result<std::string>> GrpcApi::answer_node(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::AnswerNodeRequest>(request);
  if (!in) co_return fail(in.error());
  // An answer may be any JSON, null included, but not nothing.
  if (in->answer_json().empty())
    co_return fail(ErrorCode::invalid_argument, "answer_json: expected the answer as JSON");
  auto answer = json_field(in->answer_json(), "answer_json", Json());
  if (!answer) co_return fail(answer.error());
  NodeAnswer answering{"answer", std::nullopt, "", std::move(*answer)};
  if (!in->node().empty()) answering.node = in->node();
  Task<Result<std::string>> answered =
      node_answered(workflows_.answer(std::move(user_id), in->run_id(), std::move(answering)));
  co_return co_await answered;
}

Task<Result<std::string>> GrpcApi::cancel_run(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::CancelRunRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> cancelling = encoded<v1::CancelRunResponse>(
      workflows_.cancel_run(std::move(user_id), in->run_id()), [](const Json& run, auto& out) {
        out.set_run_id(run.value("run_id", ""));
        out.set_status(run.value("status", ""));
      });
  co_return co_await cancelling;
}

Task<Result<std::string>> GrpcApi::control_run(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ControlRunRequest>(request);
  if (!in) co_return fail(in.error());
  Json control{{"action", in->action()}};
  if (!in->key().empty()) control["key"] = in->key();
  for (const auto& [field, text] :
       {std::pair{"args", in->args_json()}, std::pair{"output", in->output_json()}}) {
    if (text.empty()) continue;
    auto value = json_field(text, std::string(field) + "_json", Json());
    if (!value) co_return fail(value.error());
    control[field] = std::move(*value);
  }
  if (in->action() == "set_input") {
    control["name"] = in->name();
    auto value = json_field(in->value_json(), "value_json", Json());
    if (!value) co_return fail(value.error());
    control["value"] = std::move(*value);
  }
  auto parsed = workflow::control_request_from_json(control);
  if (!parsed) co_return fail(parsed.error());
  Task<Result<std::string>> controlling = encoded<v1::ControlRunResponse>(
      workflows_.control_run(std::move(user_id), in->run_id(), std::move(*parsed)),
      [](const Json& done, auto& out) {
        out.set_run_id(done.value("run_id", ""));
        out.set_action(done.value("action", ""));
        out.set_key(done.value("key", ""));
        out.set_control_json(json_text(done.value("control", Json())));
      });
  co_return co_await controlling;
}

Task<Result<std::string>> GrpcApi::list_run_events(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ListRunEventsRequest>(request);
  if (!in) co_return fail(in.error());
  if (in->since_seq() < 0)
    co_return fail(ErrorCode::invalid_argument, "since_seq must not be negative");
  Task<Result<std::string>> reading = encoded<v1::ListRunEventsResponse>(
      workflows_.run_events(std::move(user_id), in->run_id(), in->since_seq()),
      [](const Json& listed, auto& out) {
        out.set_run_id(listed.value("run_id", ""));
        out.set_status(listed.value("status", ""));
        out.set_last_seq(listed.value("last_seq", std::int64_t{0}));
        for (const auto& event : listed["events"]) {
          v1::RunEvent* e = out.add_events();
          e->set_seq(event.value("seq", std::int64_t{0}));
          e->set_kind(event.value("kind", ""));
          e->set_key(event.value("key", ""));
          e->set_event_json(json_text(event));
        }
      });
  co_return co_await reading;
}

Task<Result<void>> GrpcApi::stream_updates(Credential credential, std::string request,
                                           RpcWriter& out) {
  auto in = protocol::decode<v1::StreamUpdatesRequest>(request);
  if (!in) co_return fail(in.error());
  if (in->since_seq() < 0)
    co_return fail(ErrorCode::invalid_argument, "since_seq must not be negative");
  updates::FeedOptions options;
  options.budget = update_budget_;
  options.announcements = config_.announcements;
  options.user_id = credential.user_id;
  options.since_seq = in->since_seq();
  options.chat_id = in->chat_id();
  options.previews = in->previews();
  const Duration retry = options.poll_interval;
  auto feed = updates::UserFeed::open(env_, std::move(options));
  if (!feed) co_return fail(feed.error());
  updates::UserFeed* raw_feed = feed->get();
  auto watch = watches_.watch(std::move(credential), [raw_feed] { raw_feed->interrupt(); });
  if (!watch) co_return fail(watch.error());
  OpenStream counted(stats_.streams_open);
  // No keepalive messages: gRPC keeps the connection itself, and a client that goes away makes
  // the adapter destroy this frame (or the next write fail).
  for (;;) {
    Task<Result<std::vector<updates::UserEvent>>> next = (*feed)->next();
    Result<std::vector<updates::UserEvent>> batch = co_await next;
    if ((*watch)->ended()) {
      co_return fail(ErrorCode::unauthenticated,
                     "the credential of this stream was " + (*watch)->why());
    }
    // The client fell behind: end the stream (RESOURCE_EXHAUSTED, saying where to resume).
    if (!batch && batch.error().code == ErrorCode::resource_exhausted)
      co_return fail(batch.error());
    // What the client had still to read was pruned (FAILED_PRECONDITION): it must read the state
    // afresh and follow from the head.
    if (!batch && (*feed)->gone()) co_return fail(batch.error());
    if (!batch) {
      Sleep pausing = sleep(env_.executor, retry);  // the store failed: try again shortly
      co_await pausing;
      continue;
    }
    // What is left of the batch counts against the server's update budget while it is written.
    std::vector<std::string> encoded;
    std::size_t left_bytes = 0;
    for (const auto& event : *batch) {
      v1::UserUpdate update;
      updates::to_proto(event, update);
      encoded.push_back(protocol::encode(update));
      left_bytes += encoded.back().size();
    }
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      (*feed)->holding(left_bytes);
      left_bytes -= encoded[i].size();
      Task<bool> writing = out.write(std::move(encoded[i]));
      if (!co_await writing) co_return Result<void>{};  // the client went away
      (*feed)->delivered((*batch)[i].seq);
      if ((*feed)->overflowed()) break;  // the next() says why, and ends the stream
    }
    batch->clear();
  }
}

namespace {

void to_proto(const Json& preset, v1::Preset& out) {
  out.set_name(preset.value("name", ""));
  out.set_description(preset.value("description", ""));
  out.set_tag(preset.value("tag", ""));
  out.set_origin(preset.value("origin", ""));
  out.set_params_json(json_text(preset.value("params", Json::object())));
  out.set_source(preset.value("source", ""));
  out.set_updated_at_ms(preset.value("updated_at_ms", std::int64_t{0}));
}

}  // namespace

Task<Result<std::string>> GrpcApi::list_presets(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::ListPresetsRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> listing = encoded<v1::ListPresetsResponse>(
      presets_.list(std::move(user_id), in->project_id()), [](const Json& listed, auto& out) {
        for (const auto& preset : listed["presets"]) to_proto(preset, *out.add_presets());
      });
  co_return co_await listing;
}

Task<Result<std::string>> GrpcApi::get_preset(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::GetPresetRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> getting =
      encoded<v1::Preset>(presets_.get(std::move(user_id), in->project_id(), in->name()),
                          [](const Json& preset, auto& out) { to_proto(preset, out); });
  co_return co_await getting;
}

Task<Result<std::string>> GrpcApi::validate_preset(std::string, std::string request) {
  auto in = protocol::decode<v1::ValidatePresetRequest>(request);
  if (!in) co_return fail(in.error());
  auto valid = presets_.validate(in->source(), nullptr);
  if (!valid) co_return fail(valid.error());
  v1::Preset out;
  to_proto(*valid, out);
  co_return protocol::encode(out);
}

Task<Result<std::string>> GrpcApi::create_preset(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::CreatePresetRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> creating =
      encoded<v1::Preset>(presets_.put(std::move(user_id), in->project_id(), in->source(), nullptr),
                          [](const Json& preset, auto& out) { to_proto(preset, out); });
  co_return co_await creating;
}

Task<Result<std::string>> GrpcApi::delete_preset(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::DeletePresetRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<std::string>> deleting = encoded<v1::DeletePresetResponse>(
      presets_.remove(std::move(user_id), in->project_id(), in->name()),
      [](const Json& deleted, auto& out) { out.set_name(deleted.value("name", "")); });
  co_return co_await deleting;
}

}  // namespace reliant::api
