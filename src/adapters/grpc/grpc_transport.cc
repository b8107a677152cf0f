// GrpcTransport: one gRPC server per listen(), one channel per dial(), TLS credentials and the
// unary handlers — the wiring around the stream machinery of grpc_stream.h, grpc_reactors.h and
// grpc_client_call.h.
#include "adapters/grpc/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <chrono>
#include <climits>
#include <fstream>
#include <mutex>
#include <sstream>

#include "adapters/grpc/grpc_client_call.h"
#include "adapters/grpc/grpc_reactors.h"
#include "adapters/grpc/grpc_stream.h"
#include "reliant/daemon/v1/daemon.grpc.pb.h"
#include "runtime/scope.h"

namespace reliant {
namespace grpc_detail {

using daemon::v1::DaemonFrame;
using daemon::v1::GatewayFrame;
using daemon::v1::ListDaemonsRequest;
using daemon::v1::ListDaemonsResponse;
using daemon::v1::ReportToolResultAck;
using daemon::v1::ToolResponse;

// The unary RPCs' handlers and the scope their tasks run in; the executor's thread only.
struct Handlers {
  explicit Handlers(Executor& executor) : scope(executor) {}
  GrpcTransport::ReportHandler report;
  GrpcTransport::ListDaemonsHandler list_daemons;
  Scope scope;
};

// The dialer's metadata as the component sees it: without HTTP/2 pseudo-headers and gRPC's own.
Metadata client_metadata(const grpc::CallbackServerContext& context) {
  Metadata out;
  for (const auto& [key, value] : context.client_metadata()) {
    const std::string_view name(key.data(), key.size());
    if (name.empty() || name.front() == ':' || name.starts_with("grpc-") || name == "user-agent" ||
        name == "te" || name == "content-type") {
      continue;
    }
    out.emplace(std::string(name), std::string(value.data(), value.size()));
  }
  return out;
}

// gRPC aborts the process on a header it cannot send: check (and lower-case) before dialing.
Result<Metadata> grpc_metadata(const Metadata& metadata) {
  Metadata out;
  for (const auto& [key, value] : metadata) {
    std::string name;
    for (char c : key) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    bool valid = !name.empty() && !name.starts_with("grpc-");
    for (char c : name) {
      valid = valid && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                        c == '.');
    }
    if (!valid) {
      return fail(ErrorCode::invalid_argument,
                  "metadata key '" + key +
                      "' is not a gRPC header name (letters, digits, '-', '_', '.'; not grpc-*)");
    }
    if (!name.ends_with("-bin")) {
      for (char c : value) {
        if (c < 0x20 || c > 0x7e) {
          return fail(ErrorCode::invalid_argument,
                      "metadata value of '" + name +
                          "' has a byte gRPC cannot carry (binary values need a key ending -bin)");
        }
      }
    }
    out[name] = value;
  }
  return out;
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(GrpcTlsMode mode,
                                                              const std::string& ca_pem) {
  switch (mode) {
    case GrpcTlsMode::tls: {
      grpc::SslCredentialsOptions options;
      options.pem_root_certs = ca_pem;  // empty: gRPC's default (system) roots
      return grpc::SslCredentials(options);
    }
    case GrpcTlsMode::insecure_tls_skip_verify: {
      // Encrypted, but any certificate (and any name in it) is accepted.
      grpc::experimental::TlsChannelCredentialsOptions options;
      options.set_verify_server_certs(false);
      options.set_certificate_verifier(
          std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
      options.set_check_call_host(false);
      return grpc::experimental::TlsCredentials(options);
    }
    case GrpcTlsMode::h2c:
    case GrpcTlsMode::infer:
      break;
  }
  return grpc::InsecureChannelCredentials();
}

// A handler task cancelled before it answered (the transport is going) still answers.
struct FinishOnExit {
  ~FinishOnExit() {
    answer->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server stopped first"));
  }
  std::shared_ptr<UnaryAnswer> answer;
};

// `authenticated`: the call's connection gate, told when the handler accepted the call's token.
Task<void> answer_report(std::shared_ptr<UnaryAnswer> answer, Task<Result<void>> work,
                         std::function<void()> authenticated) {
  FinishOnExit guard{answer};
  Result<void> done = co_await work;
  if (done && authenticated) authenticated();
  ReportToolResultAck ack;
  ack.set_accepted(true);
  answer->finish(done ? grpc::Status::OK : status_of(done.error()), &ack);
}

Task<void> answer_list(std::shared_ptr<UnaryAnswer> answer, Task<Result<ListDaemonsResponse>> work,
                       std::function<void()> authenticated) {
  FinishOnExit guard{answer};
  Result<ListDaemonsResponse> done = co_await work;
  if (done) {
    if (authenticated) authenticated();
    answer->finish(grpc::Status::OK, &*done);
  } else {
    answer->finish(status_of(done.error()));
  }
}

class ToolsService;
class DaemonsService;

// One listen(): a gRPC server, its services and the accept handler. Accepted streams outlive
// the Listener (Transport contract), so the server is shut down when the Listener is gone *and*
// its last stream ended — or by the transport's destructor, whichever comes first.
struct ServerEntry : std::enable_shared_from_this<ServerEntry> {
  ServerEntry(Executor& e, GrpcRole r, std::size_t bytes_max, std::weak_ptr<Handlers> h)
      : executor(e), role(r), message_bytes_max(bytes_max), handlers(std::move(h)) {}

  // What tells the gate that the connection of `peer` authenticated (executor only).
  std::function<void()> authenticator(const std::string& peer) const {
    return gate ? gate->authenticator(peer) : std::function<void()>();
  }
  // A call of `peer`'s arrived (executor only).
  void spoke(const std::string& peer) const {
    if (gate) gate->spoke(peer);
  }

  // A stream whose side here sends messages of type `out_type` (a descriptor's name).
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* accept(
      grpc::CallbackServerContext* context, std::string_view out_type);
  void stop_accepting();   // executor
  void shutdown();         // executor; idempotent
  void stream_finished();  // gRPC threads

  Executor& executor;
  const GrpcRole role;
  const std::size_t message_bytes_max;
  const std::weak_ptr<Handlers> handlers;
  std::string address;
  std::shared_ptr<AcceptHandler> on_accept;  // executor only; reset when the Listener goes
  std::unique_ptr<ToolsService> tools;
  std::unique_ptr<DaemonsService> daemons;
  std::unique_ptr<GrpcConnectionGate> gate;  // executor only; goes before the server
  std::unique_ptr<grpc::Server> server;      // executor only

  std::mutex mutex;
  bool accepting = true;
  std::size_t live_streams = 0;
  bool shutdown_scheduled = false;
};

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ServerEntry::accept(
    grpc::CallbackServerContext* context, std::string_view out_type) {
  {
    std::lock_guard lock(mutex);
    if (!accepting) {
      return new RefusingReactor(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                              "the listener at " + address + " stopped accepting"));
    }
    ++live_streams;
  }
  std::string peer = peer_address(context->peer());
  auto core = std::make_shared<StreamCore>(executor, RpcSide::server, out_type,
                                           client_metadata(*context), peer, message_bytes_max);
  auto* reactor = new ServerStreamReactor(context, core,
                                          [self = shared_from_this()] { self->stream_finished(); });
  // The dialer's dial() completes only when the component has the stream (accepted() sends
  // the initial metadata it waits for).
  executor.post([weak = weak_from_this(), core, peer = std::move(peer)] {
    auto self = weak.lock();
    std::shared_ptr<AcceptHandler> handler = self ? self->on_accept : nullptr;
    if (!handler) {
      core->abort(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the listener stopped accepting"));
      return;
    }
    core->accepted();
    self->spoke(peer);
    std::function<void()> authenticated = self->authenticator(peer);
    // A managed daemon's listener checks no credential of the gateway that dials it (the
    // gateway checked the daemon's): the stream is all there is to prove.
    if (self->role == GrpcRole::daemon && authenticated) authenticated();
    (*handler)(std::make_unique<GrpcStream>(core, std::move(authenticated)));
  });
  return reactor;
}

void ServerEntry::stop_accepting() {
  on_accept.reset();
  bool idle = false;
  {
    std::lock_guard lock(mutex);
    accepting = false;
    idle = live_streams == 0 && !shutdown_scheduled;
    if (idle) shutdown_scheduled = true;
  }
  if (idle) shutdown();
}

void ServerEntry::shutdown() {
  gate.reset();  // no new connection is handed to the server
  if (!server) return;
  // A deadline of now cancels what is still running; our reactors finish cancelled calls from
  // gRPC's threads, so this never waits for the executor (the thread running it).
  server->Shutdown(std::chrono::system_clock::now());
  server->Wait();
  server.reset();
}

void ServerEntry::stream_finished() {
  bool last = false;
  {
    std::lock_guard lock(mutex);
    --live_streams;
    last = !accepting && live_streams == 0 && !shutdown_scheduled;
    if (last) shutdown_scheduled = true;
  }
  // Not from here: Shutdown waits for this very callback to return.
  if (last) {
    executor.post([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->shutdown();
    });
  }
}

template <class Response, class Request, class Handler, class Answer>
grpc::ServerUnaryReactor* serve_unary(ServerEntry& entry, grpc::CallbackServerContext* context,
                                      const Request& request, Response* response,
                                      Handler Handlers::*handler, Answer answer_with,
                                      const char* rpc_name) {
  auto answer = std::make_shared<UnaryAnswer>(response);
  auto* reactor = new UnaryReactor(answer);
  entry.executor.post([weak_entry = entry.weak_from_this(), handlers = entry.handlers, answer,
                       metadata = client_metadata(*context), peer = peer_address(context->peer()),
                       request, handler, answer_with, rpc_name] {
    auto state = handlers.lock();
    if (!state) {
      answer->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
      return;
    }
    const Handler& serve = (*state).*handler;
    if (!serve) {
      answer->finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                  std::string(rpc_name) + " is not served by this endpoint"));
      return;
    }
    const auto live = weak_entry.lock();
    if (live) live->spoke(peer);
    auto work = serve(metadata, request);
    state->scope.spawn(answer_with(answer, std::move(work),
                                   live ? live->authenticator(peer) : std::function<void()>()));
  });
  return reactor;
}

// The tool stream's two directions take raw messages (grpc_bytes.h): the component's frames are
// its own encoding, and gRPC neither parses nor serializes them again.
using RawToolsService = daemon::v1::ToolsDaemonService::WithRawCallbackMethod_ConnectDaemon<
    daemon::v1::ToolsDaemonService::WithRawCallbackMethod_ConnectGateway<
        daemon::v1::ToolsDaemonService::WithCallbackMethod_ReportToolResult<
            daemon::v1::ToolsDaemonService::Service>>>;

class ToolsService final : public RawToolsService {
 public:
  explicit ToolsService(ServerEntry& entry) : entry_(entry) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ConnectDaemon(
      grpc::CallbackServerContext* context) override {
    if (entry_.role != GrpcRole::gateway) {
      return new RefusingReactor(
          grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                       "this endpoint is a daemon: it serves ConnectGateway, not ConnectDaemon"));
    }
    return entry_.accept(context, GatewayFrame::descriptor()->full_name());
  }

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* ConnectGateway(
      grpc::CallbackServerContext* context) override {
    if (entry_.role != GrpcRole::daemon) {
      return new RefusingReactor(
          grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                       "this endpoint is a gateway: it serves ConnectDaemon, not ConnectGateway"));
    }
    return entry_.accept(context, DaemonFrame::descriptor()->full_name());
  }

  grpc::ServerUnaryReactor* ReportToolResult(grpc::CallbackServerContext* context,
                                             const ToolResponse* request,
                                             ReportToolResultAck* response) override {
    return serve_unary(entry_, context, *request, response, &Handlers::report, &answer_report,
                       "ReportToolResult");
  }

 private:
  ServerEntry& entry_;
};

class DaemonsService final : public daemon::v1::DaemonService::CallbackService {
 public:
  explicit DaemonsService(ServerEntry& entry) : entry_(entry) {}

  grpc::ServerUnaryReactor* ListDaemons(grpc::CallbackServerContext* context,
                                        const ListDaemonsRequest* request,
                                        ListDaemonsResponse* response) override {
    return serve_unary(entry_, context, *request, response, &Handlers::list_daemons, &answer_list,
                       "ListDaemons");
  }

 private:
  ServerEntry& entry_;
};

class GrpcListener final : public Listener {
 public:
  explicit GrpcListener(std::shared_ptr<ServerEntry> entry) : entry_(std::move(entry)) {}
  ~GrpcListener() override { entry_->stop_accepting(); }
  std::string address() const override { return entry_->address; }

 private:
  std::shared_ptr<ServerEntry> entry_;
};

// Cancels a dial's call unless the stream was handed over (timeout, failure, or the dialing
// coroutine destroyed while it waited).
struct AbortOnExit {
  ~AbortOnExit() {
    if (core) core->abort();
  }
  std::shared_ptr<StreamCore> core;
};

// Starts a client call of the tool service's `method` that sends messages of type `out_type` (a
// descriptor's name); returns the stream's core.
std::shared_ptr<StreamCore> start_call(std::shared_ptr<CallQueue> queue, Executor& executor,
                                       const std::shared_ptr<grpc::Channel>& channel,
                                       std::string_view method, std::string_view out_type,
                                       const Metadata& metadata, std::string authority,
                                       std::size_t message_bytes_max,
                                       std::shared_ptr<CallRegistry> calls) {
  auto core = std::make_shared<StreamCore>(executor, RpcSide::client, out_type, metadata,
                                           std::move(authority), message_bytes_max);
  const std::string full_name = "/" +
                                std::string(daemon::v1::ToolsDaemonService::service_full_name()) +
                                "/" + std::string(method);
  ClientStreamCall::start(std::move(queue), channel, full_name, core, metadata, std::move(calls));
  return core;
}

Result<std::string> read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(ErrorCode::invalid_argument, std::string("cannot read the ") + what + " " + path);
  std::ostringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return fail(ErrorCode::invalid_argument,
                std::string("the ") + what + " " + path + " is not PEM (no -----BEGIN line)");
  }
  return pem;
}

}  // namespace grpc_detail

using daemon::v1::DaemonFrame;
using daemon::v1::GatewayFrame;
using grpc_detail::AbortOnExit;
using grpc_detail::CallQueue;
using grpc_detail::CallRegistry;
using grpc_detail::channel_credentials;
using grpc_detail::DaemonsService;
using grpc_detail::grpc_metadata;
using grpc_detail::GrpcListener;
using grpc_detail::GrpcStream;
using grpc_detail::Handlers;
using grpc_detail::read_pem;
using grpc_detail::ServerEntry;
using grpc_detail::start_call;
using grpc_detail::StreamCore;
using grpc_detail::ToolsService;

Result<std::unique_ptr<GrpcTransport>> GrpcTransport::create(AsioExecutor& executor,
                                                             GrpcTransportOptions options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return fail(ErrorCode::invalid_argument,
                "serving TLS needs both a certificate and a private key file (got only the " +
                    std::string(options.tls_cert_file.empty() ? "key" : "certificate") + ")");
  }
  if (options.message_bytes_max == 0 || options.message_bytes_max > INT_MAX) {
    return fail(ErrorCode::invalid_argument, "max_message_bytes must be in 1..2^31-1");
  }
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
  if (!options.tls_ca_file.empty()) {
    auto pem = read_pem(options.tls_ca_file, "TLS CA file");
    if (!pem) return fail(pem.error());
    ca_pem = std::move(*pem);
  }
  if (!options.tls_cert_file.empty()) {
    auto cert = read_pem(options.tls_cert_file, "TLS certificate file");
    if (!cert) return fail(cert.error());
    auto key = read_pem(options.tls_key_file, "TLS key file");
    if (!key) return fail(key.error());
    cert_pem = std::move(*cert);
    key_pem = std::move(*key);
  }
  return std::unique_ptr<GrpcTransport>(new GrpcTransport(
      executor, std::move(options), std::move(ca_pem), std::move(cert_pem), std::move(key_pem)));
}

GrpcTransport::GrpcTransport(AsioExecutor& executor, GrpcTransportOptions options,
                             std::string ca_pem, std::string cert_pem, std::string key_pem)
    : executor_(executor),
      options_(std::move(options)),
      ca_pem_(std::move(ca_pem)),
      cert_pem_(std::move(cert_pem)),
      key_pem_(std::move(key_pem)),
      calls_(std::make_shared<CallRegistry>()),
      handlers_(std::make_shared<Handlers>(executor)) {}

GrpcTransport::~GrpcTransport() {
  // Servers first: their calls are cancelled and finished from gRPC's threads.
  for (auto& entry : servers_) {
    entry->stop_accepting();
    entry->shutdown();
  }
  servers_.clear();
  handlers_.reset();  // cancels running handler tasks; each still answers its call
  // Client calls post to the executor until their last callback: wait for them to be over.
  calls_->abort_all();
  const bool idle = calls_->wait_idle(std::chrono::seconds(10));
  RELIANT_ASSERT_MSG(idle, "gRPC kept client calls alive 10 s after they were cancelled");
}

Result<ListenerPtr> GrpcTransport::listen(std::string address, AcceptHandler on_accept) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return fail(parsed.error());
  std::erase_if(servers_, [](const auto& entry) { return !entry->server; });

  auto entry = std::make_shared<ServerEntry>(executor_, options_.role, options_.message_bytes_max,
                                             handlers_);
  entry->on_accept = std::make_shared<AcceptHandler>(std::move(on_accept));
  entry->tools = std::make_unique<ToolsService>(*entry);
  entry->daemons = std::make_unique<DaemonsService>(*entry);

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!cert_pem_.empty()) {
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({key_pem_, cert_pem_});
    credentials = grpc::SslServerCredentials(tls);
  }
  // The gate accepts the connections and hands them to the server (grpc_connection_gate.h).
  auto gate = GrpcConnectionGate::listen(executor_, parsed->host, parsed->port, options_.limits);
  if (!gate) {
    return fail(gate.error().code, "cannot listen on " + address + ": " + gate.error().message);
  }
  entry->gate = std::move(*gate);
  grpc::ServerBuilder builder;
  entry->gate->configure(builder, credentials);
  builder.RegisterService(entry->tools.get());
  builder.RegisterService(entry->daemons.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options_.message_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(options_.message_bytes_max));
  // gRPC sets SO_REUSEPORT by default: a second server on a taken port would "succeed".
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A gateway holds thousands of mostly idle streams: small read buffers to start with (gRPC
  // grows them for busy connections), and no bandwidth probing on links that carry heartbeats.
  builder.AddChannelArgument(GRPC_ARG_TCP_READ_CHUNK_SIZE, 2048);
  builder.AddChannelArgument(GRPC_ARG_TCP_MIN_READ_CHUNK_SIZE, 512);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_ENABLE_CHANNELZ, 0);
  // Not GRPC_ARG_MINIMAL_STACK: it saves 1.4 KiB per idle stream (measured), but it drops the
  // message-size filter, which is what refuses a peer's oversized frames.
  entry->server = builder.BuildAndStart();
  if (!entry->server) {
    entry->shutdown();
    return fail(ErrorCode::already_exists,
                "cannot listen on " + address + ": gRPC did not start" +
                    (cert_pem_.empty() ? "" : " (do the TLS certificate and key match?)"));
  }
  entry->gate->start();
  entry->address = parsed->with_port(static_cast<std::uint16_t>(entry->gate->port()));
  servers_.push_back(entry);
  return ListenerPtr(std::make_unique<GrpcListener>(std::move(entry)));
}

Task<Result<StreamPtr>> GrpcTransport::dial(std::string address, Metadata metadata,
                                            Duration timeout) {
  Result<GrpcDialTarget> target = parse_dial_address(address, options_.tls_mode);
  if (!target) co_return fail(target.error());
  Result<Metadata> headers = grpc_metadata(metadata);
  if (!headers) co_return fail(headers.error());
  const std::string where = address + " (" + std::string(to_string(target->tls_mode)) + ")";

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.message_bytes_max));
  args.SetMaxSendMessageSize(static_cast<int>(options_.message_bytes_max));
  // A channel of its own per stream, with its own subchannels: no connection (or reconnect
  // backoff) shared with an earlier, failed dial — the caller's backoff is the only one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      target->authority, channel_credentials(target->tls_mode, ca_pem_), args);

  if (!call_queue_) call_queue_ = std::make_shared<CallQueue>();
  std::shared_ptr<StreamCore> core =
      options_.role == GrpcRole::daemon
          ? start_call(call_queue_, executor_, channel, "ConnectDaemon",
                       DaemonFrame::descriptor()->full_name(), *headers, target->authority,
                       options_.message_bytes_max, calls_)
          : start_call(call_queue_, executor_, channel, "ConnectGateway",
                       GatewayFrame::descriptor()->full_name(), *headers, target->authority,
                       options_.message_bytes_max, calls_);
  AbortOnExit abort_guard{core};

  auto [promise, future] = make_promise<Result<void>>(executor_);
  core->await_established(promise);
  ScopedTimer deadline(executor_, executor_.after(timeout, [promise = promise, where, timeout] {
    promise.set(fail(ErrorCode::timeout, "no answer within " + format_duration(timeout)));
  }));
  Result<void> established = co_await future;
  if (!established) {
    const Error& error = established.error();
    co_return fail(error.code, "dial " + where + ": " + error.message);
  }
  abort_guard.core = nullptr;
  co_return StreamPtr(std::make_unique<GrpcStream>(std::move(core)));
}

Result<void> GrpcTransport::set_report_handler(ReportHandler handler) {
  if (!handler) return fail(ErrorCode::invalid_argument, "the report handler is empty");
  handlers_->report = std::move(handler);
  return {};
}

Result<void> GrpcTransport::set_list_daemons_handler(ListDaemonsHandler handler) {
  if (!handler) return fail(ErrorCode::invalid_argument, "the ListDaemons handler is empty");
  handlers_->list_daemons = std::move(handler);
  return {};
}

}  // namespace reliant
