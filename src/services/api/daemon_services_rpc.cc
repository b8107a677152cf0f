// The daemon services' gRPC methods: a unary call is forwarded as it came, its request's bytes
// a typed call to the daemon (after checking the daemon is the caller's), and the daemon's
// response bytes are the answer. The two streams loop on the daemon's long-polling pages
// (daemon_pages.proto), typed calls too.
#include "services/api/daemon_services_rpc.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include "base/assert.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "runtime/scope.h"
#include "services/api/daemon_routes.h"
#include "services/routing/daemon_calls.h"

namespace reliant::api {
namespace {

namespace v1 = reliant::api::v1;
namespace pages = reliant::daemon::v1;

constexpr std::string_view kStreamProcessOutput =
    "/reliant.api.v1.BackgroundService/StreamProcessOutput";
constexpr std::string_view kStreamTerminal = "/reliant.api.v1.TerminalService/StreamTerminal";

using routing::call_daemon;
using routing::kCloseTerminalSession;
using routing::kFollowProcessOutput;
using routing::kListTerminalSessions;
using routing::kOpenTerminal;
using routing::kReadTerminal;
using routing::kResizeTerminal;
using routing::kWriteTerminal;

// Checks that the daemon is the user's (NOT_FOUND otherwise, like no daemon at all).
Task<Result<void>> owned(Env& env, routing::DaemonRouter* router, std::string user_id,
                         std::string daemon_id) {
  if (daemon_id.empty()) co_return fail(ErrorCode::invalid_argument, "daemon_id is required");
  Task<Result<void>> checking = check_daemon_owner(env, std::move(user_id), std::move(daemon_id));
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  if (router == nullptr) {
    co_return fail(ErrorCode::unavailable,
                   "this server reaches no daemon (it has no daemon router)");
  }
  co_return Result<void>{};
}

// The method of daemon_services.proto that `method` ("/reliant.api.v1.FileSystemService/
// ListDirectory") names, or null.
const google::protobuf::MethodDescriptor* daemon_service_method(std::string_view method) {
  if (method.size() < 2 || method[0] != '/') return nullptr;
  std::string full_name(method.substr(1));
  const std::size_t slash = full_name.find('/');
  if (slash == std::string::npos) return nullptr;
  full_name[slash] = '.';
  const google::protobuf::MethodDescriptor* found =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  if (found == nullptr || found->file() != v1::FileEntry::descriptor()->file()) return nullptr;
  return found;
}

// The daemon a request names: every request of daemon_services.proto has `daemon_id`.
Result<std::string> daemon_named(const google::protobuf::MethodDescriptor& method,
                                 const std::string& request) {
  const google::protobuf::Descriptor* type = method.input_type();
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  if (!message->ParseFromString(request)) {
    return fail(ErrorCode::invalid_argument, "the request is not a " + type->full_name());
  }
  const google::protobuf::FieldDescriptor* field = type->FindFieldByName("daemon_id");
  RELIANT_ASSERT(field != nullptr &&
                 field->type() == google::protobuf::FieldDescriptor::TYPE_STRING);
  return message->GetReflection()->GetString(*message, field);
}

// A stream's credential while the stream runs: `ended` names why it ended ("revoked",
// "expired"), empty while it holds.
struct WatchedCredential {
  std::shared_ptr<std::string> ended = std::make_shared<std::string>();
  std::unique_ptr<CredentialWatch> watch;
};

Result<WatchedCredential> watch_credential(CredentialWatches& watches,
                                           const Credential& credential) {
  WatchedCredential out;
  auto watched = std::make_shared<const CredentialWatch*>(nullptr);
  auto watch = watches.watch(credential, [ended = out.ended, watched] {
    if (ended->empty()) *ended = *watched != nullptr ? (*watched)->why() : "revoked";
  });
  if (!watch) return fail(watch.error());
  *watched = watch->get();
  out.watch = std::move(*watch);
  return out;
}

Error credential_ended(const std::string& why) {
  return Error{ErrorCode::unauthenticated,
               "the credential that opened this stream was " + why + ": it ends"};
}

// ---- StreamTerminal ----

// What the two halves of a terminal stream share. The output half owns it and is the only one
// that writes to the client; the input half forwards keys, sizes and a close.
struct TerminalStream {
  routing::DaemonRouter& router;
  std::string user_id;
  std::string daemon_id;
  std::string session_id;
  bool close_sent = false;
  std::optional<Error> input_failure;  // ends the stream at the output half's next turn
  std::shared_ptr<const std::string> credential_ended;  // non-empty: send nothing more
};

Task<void> forward_input(TerminalStream* stream, RpcReader* in) {
  for (;;) {
    Task<std::optional<std::string>> reading = in->read();
    std::optional<std::string> bytes = co_await reading;
    if (!bytes) co_return;  // the client sends no more; its terminal keeps running
    if (!stream->credential_ended->empty()) co_return;  // what it sent is not run
    auto message = protocol::decode<v1::TerminalStreamInput>(*bytes);
    if (!message) {
      stream->input_failure = message.error();
      co_return;
    }
    std::string_view method;
    std::string request;
    if (message->has_data()) {
      pages::WriteTerminalRequest write;
      write.set_daemon_id(stream->daemon_id);
      write.set_session_id(stream->session_id);
      write.set_data(message->data().data());
      method = kWriteTerminal;
      request = protocol::encode(write);
    } else if (message->has_resize()) {
      pages::ResizeTerminalRequest resize;
      resize.set_daemon_id(stream->daemon_id);
      resize.set_session_id(stream->session_id);
      resize.set_rows(message->resize().rows());
      resize.set_cols(message->resize().cols());
      method = kResizeTerminal;
      request = protocol::encode(resize);
    } else if (message->has_close()) {
      v1::CloseTerminalSessionRequest close;
      close.set_daemon_id(stream->daemon_id);
      close.set_session_id(stream->session_id);
      method = kCloseTerminalSession;
      request = protocol::encode(close);
      stream->close_sent = true;
    } else {
      stream->input_failure =
          Error{ErrorCode::invalid_argument,
                "after create or attach, a terminal stream takes data, resize and close"};
      co_return;
    }
    Task<Result<v1::TerminalSession>> sending =
        routing::decoded_answer<v1::TerminalSession>(stream->router.daemon_call(
            stream->user_id, stream->daemon_id, std::string(method), std::move(request)));
    Result<v1::TerminalSession> sent = co_await sending;
    if (!sent && !stream->close_sent) {
      stream->input_failure = sent.error();
      co_return;
    }
    if (stream->close_sent) co_return;
  }
}

// A terminal stream's first message: a new terminal (create), or an open one (attach).
Task<Result<v1::TerminalSession>> open_or_attach(routing::DaemonRouter& router, std::string user_id,
                                                 std::string daemon_id,
                                                 v1::TerminalStreamInput first) {
  if (first.has_create()) {
    Task<Result<v1::TerminalSession>> opening = open_terminal(
        router, std::move(user_id), daemon_id, first.create().rows(), first.create().cols());
    co_return co_await opening;
  }
  Task<Result<v1::TerminalSession>> attaching =
      find_terminal(router, std::move(user_id), daemon_id, first.attach().session_id());
  co_return co_await attaching;
}

}  // namespace

Task<Result<v1::TerminalSession>> open_terminal(routing::DaemonRouter& router, std::string user_id,
                                                std::string daemon_id, std::int32_t rows,
                                                std::int32_t cols) {
  pages::OpenTerminalRequest open;
  open.set_daemon_id(daemon_id);
  open.set_rows(rows);
  open.set_cols(cols);
  Task<Result<v1::TerminalSession>> opening =
      call_daemon<v1::TerminalSession>(router, std::move(user_id), daemon_id, kOpenTerminal, open);
  co_return co_await opening;
}

Task<Result<v1::TerminalSession>> find_terminal(routing::DaemonRouter& router, std::string user_id,
                                                std::string daemon_id, std::string session_id) {
  v1::ListTerminalSessionsRequest list;
  list.set_daemon_id(daemon_id);
  Task<Result<v1::ListTerminalSessionsResponse>> listing =
      call_daemon<v1::ListTerminalSessionsResponse>(router, std::move(user_id), daemon_id,
                                                    kListTerminalSessions, list);
  Result<v1::ListTerminalSessionsResponse> listed = co_await listing;
  if (!listed) co_return fail(listed.error());
  for (const auto& each : listed->sessions()) {
    if (each.id() == session_id) co_return each;
  }
  co_return fail(ErrorCode::not_found, "no terminal " + session_id + " on daemon " + daemon_id);
}

DaemonServicesRpc::DaemonServicesRpc(Env& env, routing::DaemonRouter* router,
                                     CredentialWatches& watches)
    : env_(env), router_(router), watches_(watches) {}

bool DaemonServicesRpc::knows(std::string_view method) const {
  return daemon_service_method(method) != nullptr;
}

bool DaemonServicesRpc::is_server_streaming(std::string_view method) const {
  return method == kStreamProcessOutput;
}

bool DaemonServicesRpc::is_bidi_streaming(std::string_view method) const {
  return method == kStreamTerminal;
}

// Every unary method the same way: the caller's daemon is checked, then the request goes to
// it as it came, a typed call (the daemon's table, daemon_methods.h, answers it).
Task<Result<std::string>> DaemonServicesRpc::unary(std::string user_id, RpcCall call) {
  const google::protobuf::MethodDescriptor* method = daemon_service_method(call.method);
  if (method == nullptr || method->client_streaming() || method->server_streaming()) {
    co_return fail(ErrorCode::not_found, "no method " + call.method);
  }
  Result<std::string> daemon_id = daemon_named(*method, call.request);
  if (!daemon_id) co_return fail(daemon_id.error());
  Task<Result<void>> checking = owned(env_, router_, user_id, *daemon_id);
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  Task<Result<std::string>> calling = router_->daemon_call(
      std::move(user_id), std::move(*daemon_id), std::move(call.method), std::move(call.request));
  co_return co_await calling;
}

// StreamProcessOutput: pages of FollowProcessOutput, each a long-poll, until the process has ended
// and everything it wrote was sent.
Task<Result<void>> DaemonServicesRpc::server_stream(Credential credential, RpcCall call,
                                                    RpcWriter& out) {
  if (call.method != kStreamProcessOutput) {
    co_return fail(ErrorCode::not_found, "no stream method " + call.method);
  }
  Result<WatchedCredential> watched = watch_credential(watches_, credential);
  if (!watched) co_return fail(watched.error());
  const std::string user_id = credential.user_id;
  auto in = protocol::decode<v1::StreamProcessOutputRequest>(call.request);
  if (!in) co_return fail(in.error());
  Task<Result<void>> checking = owned(env_, router_, user_id, in->daemon_id());
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  std::uint64_t offset = in->offset();
  bool first = true;
  for (;;) {
    if (!watched->ended->empty()) co_return fail(credential_ended(*watched->ended));
    pages::FollowProcessOutputRequest follow;
    follow.set_daemon_id(in->daemon_id());
    follow.set_process_id(in->process_id());
    follow.set_offset(offset);
    follow.set_wait_ms(to_ms(kPollWait));
    Task<Result<pages::ProcessOutputPage>> following = call_daemon<pages::ProcessOutputPage>(
        *router_, user_id, in->daemon_id(), kFollowProcessOutput, follow);
    Result<pages::ProcessOutputPage> page = co_await following;
    if (!page) co_return fail(page.error());
    v1::ProcessOutputEvent event;
    event.set_data(std::move(*page->mutable_data()));
    event.set_offset(page->offset());
    event.set_dropped(page->dropped());
    // Ended, and this page reaches the end of what it wrote: the last event.
    const bool ended = !page->process().running() && page->next() >= page->process().output_bytes();
    event.set_ended(ended);
    if (first || ended) *event.mutable_process() = page->process();
    offset = std::max(offset, page->next());
    if (first || ended || !event.data().empty() || event.dropped() != 0) {
      Task<bool> writing = out.write(protocol::encode(event));
      if (!co_await writing) co_return Result<void>{};  // the client went
      first = false;
    }
    if (ended) co_return Result<void>{};
  }
}

// StreamTerminal: the first message opens or attaches; then the output half pages ReadTerminal
// (each a long-poll) to the client while forward_input sends its keys, sizes and a close.
Task<Result<void>> DaemonServicesRpc::bidi_stream(Credential credential, RpcCall call,
                                                  RpcReader& in, RpcWriter& out) {
  if (call.method != kStreamTerminal) {
    co_return fail(ErrorCode::not_found, "no bidirectional method " + call.method);
  }
  Result<WatchedCredential> watched = watch_credential(watches_, credential);
  if (!watched) co_return fail(watched.error());
  const std::string user_id = credential.user_id;
  Task<std::optional<std::string>> reading = in.read();
  std::optional<std::string> first_bytes = co_await reading;
  if (!first_bytes) co_return fail(ErrorCode::invalid_argument, "no create or attach came");
  auto first = protocol::decode<v1::TerminalStreamInput>(*first_bytes);
  if (!first) co_return fail(first.error());
  if (!first->has_create() && !first->has_attach()) {
    co_return fail(ErrorCode::invalid_argument, "a terminal stream starts with create or attach");
  }
  const std::string daemon_id =
      first->has_create() ? first->create().daemon_id() : first->attach().daemon_id();
  Task<Result<void>> checking = owned(env_, router_, user_id, daemon_id);
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());

  TerminalStream stream{*router_, user_id, daemon_id, {}, false, std::nullopt, watched->ended};
  Task<Result<v1::TerminalSession>> starting = open_or_attach(*router_, user_id, daemon_id, *first);
  Result<v1::TerminalSession> session = co_await starting;
  if (!session) co_return fail(session.error());
  std::uint64_t offset = first->has_attach() ? first->attach().offset() : 0;
  stream.session_id = session->id();
  v1::TerminalStreamOutput opened_message;
  *opened_message.mutable_opened() = *session;
  Task<bool> announcing = out.write(protocol::encode(opened_message));
  if (!co_await announcing) co_return Result<void>{};

  Scope input_half(env_.executor);  // destroyed, with the input half, when this returns
  input_half.spawn(forward_input(&stream, &in));
  for (;;) {
    if (!watched->ended->empty()) co_return fail(credential_ended(*watched->ended));
    if (stream.input_failure) co_return fail(*stream.input_failure);
    pages::ReadTerminalRequest read;
    read.set_daemon_id(daemon_id);
    read.set_session_id(stream.session_id);
    read.set_offset(offset);
    read.set_wait_ms(to_ms(kPollWait));
    Task<Result<pages::TerminalOutputPage>> paging =
        call_daemon<pages::TerminalOutputPage>(*router_, user_id, daemon_id, kReadTerminal, read);
    Result<pages::TerminalOutputPage> page = co_await paging;
    v1::TerminalStreamOutput message;
    if (!page) {
      // Closed by this client: its end, not a failure.
      if (stream.close_sent && page.error().code == ErrorCode::not_found) {
        message.mutable_closed();
        Task<bool> closing = out.write(protocol::encode(message));
        (void)co_await closing;
        co_return Result<void>{};
      }
      co_return fail(page.error());
    }
    offset = std::max(offset, page->next());
    if (!page->data().empty() || page->dropped() != 0) {
      v1::TerminalOutputData* chunk = message.mutable_data();
      chunk->set_data(std::move(*page->mutable_data()));
      chunk->set_offset(page->offset());
      chunk->set_dropped(page->dropped());
      Task<bool> writing = out.write(protocol::encode(message));
      if (!co_await writing) co_return Result<void>{};  // the client went; the terminal stays
      continue;
    }
    if (!page->terminal().running()) {
      v1::TerminalStreamOutput closed;
      closed.mutable_closed();
      if (page->terminal().has_exit_code()) {
        closed.mutable_closed()->set_exit_code(page->terminal().exit_code());
      }
      Task<bool> closing = out.write(protocol::encode(closed));
      (void)co_await closing;
      co_return Result<void>{};
    }
  }
}

}  // namespace reliant::api
