// The gRPC methods: decode the request, authenticate, call ChatService (or read the store),
// encode the answer; StreamUpdates writes a UserFeed's updates until the client goes.
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

void to_proto(const DaemonRecord& daemon, v1::Daemon& out) {
  out.set_id(daemon.id);
  out.set_name(daemon.name);
  out.set_type(std::string(to_string(daemon.type)));
  for (const auto& [key, value] : daemon.labels) (*out.mutable_labels())[key] = value;
  out.set_status(std::string(to_string(daemon.status)));
  out.set_hostname(daemon.hostname);
  out.set_platform(daemon.platform);
  out.set_working_dir(daemon.working_dir);
  out.set_version(daemon.version);
  out.set_last_heartbeat_at_ms(daemon.last_heartbeat_at_ms.value_or(0));
  out.set_connected_at_ms(daemon.connected_at_ms.value_or(0));
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
      watches_(env, config_.credential_recheck) {}

const std::map<std::string_view, GrpcApi::UnaryMethod>& GrpcApi::unary_methods() {
  static const std::map<std::string_view, UnaryMethod> methods = {
      {"/reliant.api.v1.ChatService/CreateChat", &GrpcApi::create_chat},
      {"/reliant.api.v1.ChatService/ListChats", &GrpcApi::list_chats},
      {"/reliant.api.v1.ChatService/GetChat", &GrpcApi::get_chat},
      {"/reliant.api.v1.ChatService/SendMessage", &GrpcApi::send_message},
      {"/reliant.api.v1.ChatService/CancelChat", &GrpcApi::cancel_chat},
      {"/reliant.api.v1.DaemonService/ListDaemons", &GrpcApi::list_daemons},
      {"/reliant.api.v1.DaemonService/SetSessionDaemon", &GrpcApi::set_session_daemon},
  };
  return methods;
}

bool GrpcApi::knows(std::string_view method) const {
  return is_server_streaming(method) || unary_methods().contains(method);
}

bool GrpcApi::is_server_streaming(std::string_view method) const {
  return method == kStreamUpdates;
}

Task<Result<Credential>> GrpcApi::authenticate(const RpcCall& call) {
  auto header = call.metadata.find("authorization");
  std::string token = header == call.metadata.end() ? std::string() : bearer_token(header->second);
  Task<Result<Credential>> checking =
      api::authenticate_credential(env_, config_.jwt, std::move(token));
  Result<Credential> credential = co_await checking;
  if (!credential) co_return fail(credential.error());
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
  if (method == unary_methods().end()) {
    co_return fail(ErrorCode::not_found, "no unary method " + call.method);
  }
  Task<Result<Credential>> authenticating = authenticate(call);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  Task<Result<std::string>> serving =
      (this->*(method->second))(std::move(credential->user_id), std::move(call.request));
  co_return co_await serving;
}

Task<Result<void>> GrpcApi::server_stream(RpcCall call, RpcWriter& out) {
  ++stats_.calls;
  if (call.method != kStreamUpdates)
    co_return fail(ErrorCode::not_found, "no stream method " + call.method);
  Task<Result<Credential>> authenticating = authenticate(call);
  Result<Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  Task<Result<void>> streaming =
      stream_updates(std::move(*credential), std::move(call.request), out);
  co_return co_await streaming;
}

Task<Result<std::string>> GrpcApi::create_chat(std::string user_id, std::string request) {
  auto in = protocol::decode<v1::CreateChatRequest>(request);
  if (!in) co_return fail(in.error());
  Task<Result<ChatRecord>> creating = chats_.create_chat(std::move(user_id), in->title());
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
  if (in->max_turns() != 0) options.max_turns = in->max_turns();
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
  Task<Result<std::vector<DaemonRecord>>> reading = load_daemons(env_, std::move(user_id));
  Result<std::vector<DaemonRecord>> daemons = co_await reading;
  if (!daemons) co_return fail(daemons.error());
  v1::ListDaemonsResponse out;
  for (const auto& daemon : *daemons) to_proto(daemon, *out.add_daemons());
  co_return protocol::encode(out);
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

Task<Result<void>> GrpcApi::stream_updates(Credential credential, std::string request,
                                           RpcWriter& out) {
  auto in = protocol::decode<v1::StreamUpdatesRequest>(request);
  if (!in) co_return fail(in.error());
  if (in->since_seq() < 0)
    co_return fail(ErrorCode::invalid_argument, "since_seq must not be negative");
  updates::FeedOptions options;
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
    if (!batch) {
      Sleep pausing = sleep(env_.executor, retry);  // the store failed: try again shortly
      co_await pausing;
      continue;
    }
    for (const auto& event : *batch) {
      v1::UserUpdate update;
      updates::to_proto(event, update);
      Task<bool> writing = out.write(protocol::encode(update));
      if (!co_await writing) co_return Result<void>{};  // the client went away
    }
  }
}

}  // namespace reliant::api
