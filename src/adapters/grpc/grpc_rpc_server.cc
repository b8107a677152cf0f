// GrpcRpcServer: one generic callback reactor per call (gRPC's threads), the state it shares
// with the executor (RpcCallCore), and the dispatcher that runs the handler's tasks on the
// executor. A call is always finished from whichever side is first — the handler's answer, or
// gRPC's cancellation — so shutting the server down never waits for the executor.
#include "adapters/grpc/grpc_rpc_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <climits>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "adapters/grpc/grpc_address.h"
#include "adapters/grpc/grpc_bytes.h"
#include "adapters/grpc/grpc_reactors.h"
#include "adapters/grpc/grpc_stream.h"
#include "runtime/future.h"
#include "runtime/scope.h"

namespace reliant {
namespace grpc_detail {
namespace {

grpc::Status too_large(std::size_t bytes, std::size_t limit) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      "the response message of " + std::to_string(bytes) +
                          " bytes exceeds the limit of " + std::to_string(limit));
}

}  // namespace

// The calls whose reactors gRPC has not let go of; the server's destructor waits for none.
class CallCounter {
 public:
  void add() {
    std::lock_guard lock(mutex_);
    ++live_;
  }
  void remove() {
    std::lock_guard lock(mutex_);
    if (--live_ == 0) idle_.notify_all();
  }
  std::size_t live() const {
    std::lock_guard lock(mutex_);
    return live_;
  }
  bool wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return live_ == 0; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t live_ = 0;
};

// One call's state, shared by its reactor (gRPC's threads) and its handler task (the
// executor). The reactor is used only under the mutex and never after Finish, after which
// gRPC may delete it at any moment.
class RpcCallCore : public std::enable_shared_from_this<RpcCallCore> {
 public:
  RpcCallCore(Executor& executor, std::size_t message_bytes_max)
      : executor_(executor), message_bytes_max_(message_bytes_max) {}

  Executor& executor() const { return executor_; }

  // ---- gRPC's threads ----
  void bind(grpc::ServerGenericBidiReactor* reactor) {
    std::lock_guard lock(mutex_);
    reactor_ = reactor;
  }
  void on_write_done(bool ok) {
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      if (!ok) write_failed_ = true;
      if (pending_finish_) {
        grpc::Status status = std::move(*pending_finish_);
        pending_finish_.reset();
        finish_locked(std::move(status));
      }
    }
    executor_.post([self = shared_from_this(), ok] { self->write_done_.set(ok); });
  }
  // A read after the first (a bidirectional call's): its message, or nullopt when the client has
  // finished sending or the call ended.
  void on_read_done(bool ok, std::string bytes) {
    {
      std::lock_guard lock(mutex_);
      reading_ = false;
      if (!ok) read_ended_ = true;
    }
    std::optional<std::string> message;
    if (ok) message = std::move(bytes);
    executor_.post([self = shared_from_this(), message = std::move(message)]() mutable {
      (void)self->read_done_.set(std::move(message));
    });
  }
  // The client cancelled, its deadline passed, or the server is shutting down.
  void on_cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      finish_locked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
    }
    executor_.post([self = shared_from_this()] {
      if (auto hook = std::exchange(self->on_cancel_, {})) hook();
    });
  }

  // ---- any thread ----
  // Ends the call with `status`; the first end wins (later ones change nothing).
  void finish(grpc::Status status) {
    std::lock_guard lock(mutex_);
    finish_locked(std::move(status));
  }

  // ---- the executor's thread ----
  // One message of a stream; the future says whether gRPC wrote it.
  Future<bool> write(std::string bytes) {
    auto written = make_promise<bool>(executor_);
    write_done_ = written.first;
    std::lock_guard lock(mutex_);
    RELIANT_ASSERT_MSG(!writing_, "one write at a time");
    if (ended_locked() || write_failed_) {
      written.first.set(false);
    } else if (bytes.size() > message_bytes_max_) {
      finish_locked(too_large(bytes.size(), message_bytes_max_));
      written.first.set(false);
    } else {
      out_ = buffer_of(std::move(bytes));
      writing_ = true;
      reactor_->StartWrite(&out_);
    }
    return std::move(written.second);
  }
  // The next message of a bidirectional call; nullopt once the client has finished sending.
  Future<std::optional<std::string>> read(grpc::ByteBuffer* into) {
    auto read = make_promise<std::optional<std::string>>(executor_);
    read_done_ = read.first;
    std::lock_guard lock(mutex_);
    RELIANT_ASSERT_MSG(!reading_, "one read at a time");
    if (ended_locked() || read_ended_) {
      read.first.set(std::nullopt);
    } else {
      reading_ = true;
      reactor_->StartRead(into);
    }
    return std::move(read.second);
  }
  // A unary call's answer: the message and OK together.
  void answer(std::string bytes) {
    std::lock_guard lock(mutex_);
    if (ended_locked()) return;
    if (bytes.size() > message_bytes_max_) {
      finish_locked(too_large(bytes.size(), message_bytes_max_));
      return;
    }
    out_ = buffer_of(std::move(bytes));
    finished_ = true;
    std::exchange(reactor_, nullptr)
        ->StartWriteAndFinish(&out_, grpc::WriteOptions(), grpc::Status::OK);
  }
  bool ended() const {
    std::lock_guard lock(mutex_);
    return ended_locked();
  }
  // Runs (on the executor) when the call is cancelled; at most once.
  void set_on_cancel(std::function<void()> hook) { on_cancel_ = std::move(hook); }

 private:
  bool ended_locked() const { return finished_ || pending_finish_ || cancelled_; }
  void finish_locked(grpc::Status status) {
    if (finished_ || pending_finish_) return;
    // gRPC takes no Finish while a write is in flight: it follows the write's completion
    // (which a cancelled call reports at once).
    if (writing_) {
      pending_finish_ = std::move(status);
      return;
    }
    finished_ = true;
    std::exchange(reactor_, nullptr)->Finish(std::move(status));
  }

  Executor& executor_;
  const std::size_t message_bytes_max_;

  // ---- shared with gRPC's threads, under mutex_ ----
  mutable std::mutex mutex_;
  grpc::ServerGenericBidiReactor* reactor_ = nullptr;  // cleared when finished
  bool finished_ = false;
  bool cancelled_ = false;
  bool writing_ = false;
  bool write_failed_ = false;
  bool reading_ = false;
  bool read_ended_ = false;
  std::optional<grpc::Status> pending_finish_;
  grpc::ByteBuffer out_;  // the message being written; gRPC reads it until the write is done

  // ---- the executor's thread only ----
  Promise<bool> write_done_;
  Promise<std::optional<std::string>> read_done_;
  std::function<void()> on_cancel_;
};

namespace {

// A handler task destroyed before it answered (the server is going) still ends its call.
struct FinishOnExit {
  ~FinishOnExit() {
    core->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server stopped first"));
  }
  std::shared_ptr<RpcCallCore> core;
};

class CallWriter final : public RpcWriter {
 public:
  explicit CallWriter(std::shared_ptr<RpcCallCore> core) : core_(std::move(core)) {}
  Task<bool> write(std::string message_bytes) override {
    Future<bool> written = core_->write(std::move(message_bytes));
    co_return co_await written;
  }

 private:
  std::shared_ptr<RpcCallCore> core_;
};

// A bidirectional call's messages: the first, which started the call, then each read from gRPC.
class CallReader final : public RpcReader {
 public:
  CallReader(std::shared_ptr<RpcCallCore> core, std::shared_ptr<grpc::ByteBuffer> buffer,
             std::string first)
      : core_(std::move(core)), buffer_(std::move(buffer)), first_(std::move(first)) {}
  Task<std::optional<std::string>> read() override {
    if (first_) co_return std::exchange(first_, std::nullopt);
    Future<std::optional<std::string>> next = core_->read(buffer_.get());
    co_return co_await next;
  }

 private:
  std::shared_ptr<RpcCallCore> core_;
  std::shared_ptr<grpc::ByteBuffer> buffer_;  // the reactor's read buffer
  std::optional<std::string> first_;
};

// Exceptions end the call, never the process (a root task's exception aborts). `busy`: held
// while the call is answered (GrpcConnectionGate::call_in_progress).
Task<void> answer_unary(std::shared_ptr<RpcCallCore> core, Task<Result<std::string>> work,
                        [[maybe_unused]] std::shared_ptr<void> busy) {
  FinishOnExit guard{core};
  std::optional<Result<std::string>> reply;
  try {
    Result<std::string> done = co_await work;
    reply.emplace(std::move(done));
  } catch (const std::exception& e) {
    reply.emplace(fail(ErrorCode::internal, std::string("the handler failed: ") + e.what()));
  } catch (...) {
    reply.emplace(fail(ErrorCode::internal, "the handler failed"));
  }
  if (*reply) {
    core->answer(std::move(**reply));
  } else {
    core->finish(status_of(reply->error()));
  }
}

Task<void> run_stream(std::shared_ptr<RpcCallCore> core, Task<Result<void>> work,
                      std::function<void()> on_exit, [[maybe_unused]] std::shared_ptr<void> busy) {
  FinishOnExit guard{core};
  std::optional<Result<void>> outcome;
  try {
    Result<void> done = co_await work;
    outcome.emplace(std::move(done));
  } catch (const std::exception& e) {
    outcome.emplace(fail(ErrorCode::internal, std::string("the handler failed: ") + e.what()));
  } catch (...) {
    outcome.emplace(fail(ErrorCode::internal, "the handler failed"));
  }
  core->finish(*outcome ? grpc::Status::OK : status_of(outcome->error()));
  on_exit();
}

}  // namespace

// Runs the handler's tasks; the executor's thread only. A stream's task has a scope of its own
// so that the client cancelling it can destroy it at once.
class RpcDispatcher : public std::enable_shared_from_this<RpcDispatcher> {
 public:
  RpcDispatcher(Executor& executor, RpcHandler& handler) : handler_(handler), unary_(executor) {}

  // The connection gate, which learns of a call's connection authenticating and of the calls
  // it is answering; null: none (it is gone).
  GrpcConnectionGate* gate = nullptr;

  // `read_buffer`: where the call's reactor reads further messages (a bidirectional call's).
  void dispatch(std::shared_ptr<RpcCallCore> core, RpcCall call,
                std::shared_ptr<grpc::ByteBuffer> read_buffer) {
    if (core->ended()) return;  // cancelled on its way here
    std::shared_ptr<void> busy;
    if (gate != nullptr) {
      call.authenticated = gate->authenticator(call.peer);
      busy = gate->call_in_progress(call.peer);
    }
    if (!handler_.knows(call.method)) {
      core->finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method " + call.method));
      return;
    }
    const bool bidi = handler_.is_bidi_streaming(call.method);
    if (!bidi && !handler_.is_server_streaming(call.method)) {
      Task<Result<std::string>> work = handler_.unary(std::move(call));
      unary_.spawn(answer_unary(std::move(core), std::move(work), std::move(busy)));
      return;
    }
    const std::uint64_t id = next_stream_++;
    std::string first = bidi ? std::exchange(call.request, {}) : std::string();
    auto owned = std::make_unique<StreamTask>(core, read_buffer, std::move(first));
    StreamTask& stream = *owned;
    streams_.emplace(id, std::move(owned));
    // The scope goes in a turn of its own (the task's end posts, a cancel arrives posted),
    // never from inside the task it owns.
    auto forget = [weak = weak_from_this(), id] {
      if (auto self = weak.lock()) self->streams_.erase(id);
    };
    core->set_on_cancel(forget);
    Task<Result<void>> work =
        bidi ? handler_.bidi_stream(std::move(call), stream.reader, stream.writer)
             : handler_.server_stream(std::move(call), stream.writer);
    stream.scope.spawn(run_stream(
        core, std::move(work), [&executor = core->executor(), forget] { executor.post(forget); },
        std::move(busy)));
  }

 private:
  struct StreamTask {
    StreamTask(const std::shared_ptr<RpcCallCore>& core, std::shared_ptr<grpc::ByteBuffer> buffer,
               std::string first)
        : writer(core),
          reader(core, std::move(buffer), std::move(first)),
          scope(core->executor()) {}
    CallWriter writer;
    CallReader reader;
    Scope scope;  // last: the task goes before the writer it writes to
  };

  RpcHandler& handler_;
  Scope unary_;
  std::map<std::uint64_t, std::unique_ptr<StreamTask>> streams_;
  std::uint64_t next_stream_ = 1;
};

namespace {

// Every call, whatever its method: read the one request message, hand it to the executor,
// and let the core finish the call.
class GenericCall final : public grpc::ServerGenericBidiReactor {
 public:
  GenericCall(grpc::GenericCallbackServerContext* context, Executor& executor,
              std::size_t message_bytes_max, std::shared_ptr<CallCounter> calls,
              std::weak_ptr<RpcDispatcher> dispatcher)
      : context_(context),
        calls_(std::move(calls)),
        dispatcher_(std::move(dispatcher)),
        core_(std::make_shared<RpcCallCore>(executor, message_bytes_max)) {
    core_->bind(this);
    // The call's connection has spoken, before its message arrives (which may never happen).
    executor.post([dispatcher = dispatcher_, peer = peer_address(context->peer())] {
      const auto live = dispatcher.lock();
      if (live && live->gate != nullptr) live->gate->spoke(peer);
    });
    StartRead(request_.get());
  }

  void OnReadDone(bool ok) override {
    if (dispatched_) {  // a later message of a bidirectional call
      std::string bytes = ok ? bytes_of(*request_) : std::string();
      request_->Clear();
      core_->on_read_done(ok, std::move(bytes));
      return;
    }
    dispatched_ = true;
    if (!ok) {
      // A cancelled call (or one over the size limit, which gRPC fails itself) gets here too;
      // its status is already decided and this one is ignored.
      core_->finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "the call ended before its request message arrived"));
      return;
    }
    RpcCall call;
    call.method = context_->method();
    call.metadata = client_metadata(*context_);
    call.peer = peer_address(context_->peer());
    call.request = bytes_of(*request_);
    request_->Clear();
    core_->executor().post([dispatcher = dispatcher_, core = core_, call = std::move(call),
                            buffer = request_]() mutable {
      auto live = dispatcher.lock();
      if (!live) {
        core->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
        return;
      }
      live->dispatch(std::move(core), std::move(call), std::move(buffer));
    });
  }
  void OnWriteDone(bool ok) override { core_->on_write_done(ok); }
  void OnCancel() override { core_->on_cancel(); }
  void OnDone() override {
    std::shared_ptr<CallCounter> calls = std::move(calls_);
    delete this;
    calls->remove();
  }

 private:
  grpc::GenericCallbackServerContext* context_;
  std::shared_ptr<CallCounter> calls_;
  std::weak_ptr<RpcDispatcher> dispatcher_;
  std::shared_ptr<RpcCallCore> core_;
  // Shared with the call's reader: a bidirectional call reads every message into it. gRPC may
  // still write into it until OnDone, and the reader may outlive the reactor.
  std::shared_ptr<grpc::ByteBuffer> request_ = std::make_shared<grpc::ByteBuffer>();
  bool dispatched_ = false;  // gRPC's callbacks for one call never run at once
};

}  // namespace

class GenericService final : public grpc::CallbackGenericService {
 public:
  GenericService(Executor& executor, std::size_t message_bytes_max,
                 std::shared_ptr<CallCounter> calls, std::weak_ptr<RpcDispatcher> dispatcher)
      : executor_(executor),
        message_bytes_max_(message_bytes_max),
        calls_(std::move(calls)),
        dispatcher_(std::move(dispatcher)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    calls_->add();
    return new GenericCall(context, executor_, message_bytes_max_, calls_, dispatcher_);
  }

 private:
  Executor& executor_;
  const std::size_t message_bytes_max_;
  const std::shared_ptr<CallCounter> calls_;
  const std::weak_ptr<RpcDispatcher> dispatcher_;
};

}  // namespace grpc_detail

using grpc_detail::CallCounter;
using grpc_detail::GenericService;
using grpc_detail::RpcDispatcher;

GrpcRpcServer::GrpcRpcServer(AsioExecutor& executor, std::size_t message_bytes_max,
                             RpcHandler& handler)
    : calls_(std::make_shared<CallCounter>()),
      dispatcher_(std::make_shared<RpcDispatcher>(executor, handler)),
      service_(std::make_unique<GenericService>(executor, message_bytes_max, calls_, dispatcher_)) {
}

Result<std::unique_ptr<GrpcRpcServer>> GrpcRpcServer::start(AsioExecutor& executor,
                                                            GrpcRpcServerOptions options,
                                                            RpcHandler& handler) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return fail(ErrorCode::invalid_argument,
                "serving TLS needs both a certificate and a private key file (got only the " +
                    std::string(options.tls_cert_file.empty() ? "key" : "certificate") + ")");
  }
  if (options.message_bytes_max == 0 || options.message_bytes_max > INT_MAX) {
    return fail(ErrorCode::invalid_argument, "max_message_bytes must be in 1..2^31-1");
  }
  if (options.port < 0 || options.port > 65535) {
    return fail(ErrorCode::invalid_argument,
                "the gRPC port must be in 0..65535, not " + std::to_string(options.port));
  }
  std::string host = options.bind_address;
  if (host.find(':') != std::string::npos && !host.starts_with("[")) host = "[" + host + "]";
  auto address = parse_listen_address(host + ":" + std::to_string(options.port));
  if (!address) return fail(address.error());

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!options.tls_cert_file.empty()) {
    auto cert = grpc_detail::read_pem(options.tls_cert_file, "TLS certificate file");
    if (!cert) return fail(cert.error());
    auto key = grpc_detail::read_pem(options.tls_key_file, "TLS key file");
    if (!key) return fail(key.error());
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(tls);
  }

  std::unique_ptr<GrpcRpcServer> server(
      new GrpcRpcServer(executor, options.message_bytes_max, handler));
  // The gate accepts the connections and hands them to the server (grpc_connection_gate.h).
  auto gate = GrpcConnectionGate::listen(executor, address->host, address->port, options.limits);
  if (!gate) return fail(gate.error());
  server->gate_ = std::move(*gate);
  server->dispatcher_->gate = server->gate_.get();
  grpc::ServerBuilder builder;
  server->gate_->configure(builder, credentials);
  builder.RegisterCallbackGenericService(server->service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.message_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(options.message_bytes_max));
  server->server_ = builder.BuildAndStart();
  if (!server->server_) {
    return fail(
        ErrorCode::already_exists,
        "cannot serve gRPC on " + address->with_port(address->port) + ": gRPC did not start" +
            (options.tls_cert_file.empty() ? "" : " (do the TLS certificate and key match?)"));
  }
  server->gate_->start();
  server->port_ = server->gate_->port();
  return server;
}

GrpcRpcServer::~GrpcRpcServer() {
  // The dispatcher points at the gate: no call is dispatched after this.
  if (dispatcher_) dispatcher_->gate = nullptr;
  gate_.reset();  // no new connection reaches the server
  if (server_) {
    // A deadline of now cancels every open call; the reactors finish cancelled calls from
    // gRPC's threads, so this never waits for the executor (the thread running it).
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  const bool idle = calls_->wait_idle(std::chrono::seconds(10));
  RELIANT_ASSERT_MSG(idle, "gRPC kept calls alive 10 s after the server shut down");
  server_.reset();
  dispatcher_.reset();  // destroys the handler tasks still running; their calls are over
  service_.reset();
}

std::size_t GrpcRpcServer::live_calls() const { return calls_->live(); }

}  // namespace reliant
