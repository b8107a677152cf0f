// GrpcRpcServer on loopback with a scripted RpcHandler: unary answers and metadata, errors as
// statuses, unknown methods, size limits, handler exceptions, ordered streams, clients that
// cancel (unary and streams), shutdown with calls open, bind failures and TLS; the connection
// gate's caps and deadlines.
#include "adapters/grpc/grpc_rpc_server.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit/support/real_loop.h"
#include "unit/support/self_signed_certificate.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "reliant/api/v1/api.grpc.pb.h"
#include "runtime/sleep.h"

namespace reliant {
namespace {

namespace fs = std::filesystem;
namespace v1 = api::v1;

constexpr std::string_view kCreateChat = "/reliant.api.v1.ChatService/CreateChat";
constexpr std::string_view kGetChat = "/reliant.api.v1.ChatService/GetChat";
constexpr std::string_view kStreamUpdates = "/reliant.api.v1.StreamingService/StreamUpdates";

// Scripted by the request: CreateChat echoes; GetChat's chat_id picks an error, an exception,
// an oversized or a slow answer; StreamUpdates writes since_seq updates, then per chat_id ends,
// fails, keeps writing until a write fails, or waits forever.
class ScriptedHandler final : public RpcHandler {
 public:
  explicit ScriptedHandler(Executor& executor) : executor_(executor) {}

  bool knows(std::string_view method) const override {
    note_thread();
    return method == kCreateChat || method == kGetChat || method == kStreamUpdates;
  }
  bool is_server_streaming(std::string_view method) const override {
    note_thread();
    return method == kStreamUpdates;
  }

  Task<Result<std::string>> unary(RpcCall call) override {
    note_thread();
    ++unary_started;
    // A call with x-auth stands for one that carried a valid credential.
    if (call.metadata.count("x-auth") > 0) call.mark_authenticated();
    if (call.method == kCreateChat) {
      v1::CreateChatRequest request;
      if (!request.ParseFromString(call.request)) co_return fail(ErrorCode::invalid_argument, "?");
      v1::Chat chat;
      chat.set_title(request.title());
      chat.set_id(call.metadata.count("x-who") ? call.metadata.at("x-who") : "");
      chat.set_workflow_run_id(call.peer);
      co_return chat.SerializeAsString();
    }
    v1::GetChatRequest request;
    if (!request.ParseFromString(call.request)) co_return fail(ErrorCode::invalid_argument, "?");
    const std::string& what = request.chat_id();
    if (what == "throw") throw std::runtime_error("boom");
    if (what == "big") co_return std::string(100 * 1024, 'x');
    if (what == "slow") {
      Sleep pausing = sleep(executor_, milliseconds(300));
      co_await pausing;
      ++unary_finished;
      co_return v1::GetChatResponse().SerializeAsString();
    }
    for (ErrorCode code : kCodes) {
      if (what == to_string(code)) co_return fail(code, "because " + what);
    }
    v1::GetChatResponse response;
    response.mutable_chat()->set_id(what);
    co_return response.SerializeAsString();
  }

  Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) override {
    note_thread();
    struct Open {
      explicit Open(int& n) : count(n) { ++count; }
      ~Open() { --count; }
      int& count;
    };
    Open open(streams_open);
    v1::StreamUpdatesRequest request;
    if (!request.ParseFromString(call.request)) co_return fail(ErrorCode::invalid_argument, "?");
    std::int64_t seq = 0;
    for (; seq < request.since_seq(); ++seq) {
      Task<bool> writing = out.write(update(seq + 1));
      if (!co_await writing) co_return fail(ErrorCode::internal, "unexpected write failure");
    }
    if (request.chat_id() == "fail") co_return fail(ErrorCode::not_found, "the chat is gone");
    if (request.chat_id() == "until-gone") {
      for (;;) {
        Sleep pausing = sleep(executor_, milliseconds(2));
        co_await pausing;
        Task<bool> writing = out.write(update(++seq));
        if (!co_await writing) {
          ++writes_refused;
          co_return Result<void>{};
        }
      }
    }
    if (request.chat_id() == "forever") {
      Sleep waiting = sleep(executor_, hours(1));
      co_await waiting;
      ADD_FAILURE() << "a stream waited an hour";
    }
    co_return Result<void>{};
  }

  static std::string update(std::int64_t seq) {
    v1::UserUpdate message;
    message.set_seq(seq);
    message.set_kind("tick");
    return message.SerializeAsString();
  }

  static constexpr ErrorCode kCodes[] = {ErrorCode::invalid_argument,
                                         ErrorCode::not_found,
                                         ErrorCode::already_exists,
                                         ErrorCode::unavailable,
                                         ErrorCode::timeout,
                                         ErrorCode::no_responders,
                                         ErrorCode::closed,
                                         ErrorCode::cancelled,
                                         ErrorCode::unauthenticated,
                                         ErrorCode::permission_denied,
                                         ErrorCode::resource_exhausted,
                                         ErrorCode::failed_precondition,
                                         ErrorCode::internal};

  // The executor runs on the test's thread: everything here is read there too.
  int unary_started = 0;
  int unary_finished = 0;
  int streams_open = 0;
  int writes_refused = 0;
  mutable int off_loop_calls = 0;
  std::thread::id loop_thread = std::this_thread::get_id();

 private:
  void note_thread() const {
    if (std::this_thread::get_id() != loop_thread) ++off_loop_calls;
  }
  Executor& executor_;
};

grpc::StatusCode expected_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorCode::not_found:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorCode::already_exists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case ErrorCode::unavailable:
    case ErrorCode::no_responders:
    case ErrorCode::closed:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorCode::timeout:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case ErrorCode::cancelled:
      return grpc::StatusCode::CANCELLED;
    case ErrorCode::unauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case ErrorCode::permission_denied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case ErrorCode::resource_exhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorCode::failed_precondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    default:
      return grpc::StatusCode::INTERNAL;
  }
}

// The executor runs on the test's thread (inside run_until); blocking gRPC clients run on
// threads of their own.
struct Loop {
  AsioExecutor executor;
  ScriptedHandler handler{executor};
  std::unique_ptr<GrpcRpcServer> server;

  explicit Loop(GrpcRpcServerOptions options = small_limits()) {
    auto started = GrpcRpcServer::start(executor, std::move(options), handler);
    EXPECT_TRUE(started.has_value()) << started.error().describe();
    if (started) server = std::move(*started);
  }
  ~Loop() {
    server.reset();
    run_for(std::chrono::milliseconds(10));
  }

  static GrpcRpcServerOptions small_limits() {
    GrpcRpcServerOptions options;
    options.port = 0;
    options.message_bytes_max = 64 * 1024;
    return options;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }
  std::shared_ptr<grpc::Channel> channel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }

  // Runs the executor until `done` holds or `limit` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return testing::run_until(executor, done, limit);
  }
  void run_for(std::chrono::milliseconds duration) { testing::run_for(executor, duration); }

  // Runs `client` on a thread of its own while the executor runs here.
  template <class F>
  auto call(F client) -> decltype(client()) {
    return testing::call_on_thread(executor, std::move(client), std::chrono::seconds(20));
  }

  std::pair<grpc::Status, v1::Chat> create_chat(
      const std::string& title, const std::string& who = "",
      grpc_compression_algorithm compression = GRPC_COMPRESS_NONE) {
    return call([this, title, who, compression] {
      auto stub = v1::ChatService::NewStub(channel());
      grpc::ClientContext context;
      context.set_compression_algorithm(compression);
      if (!who.empty()) context.AddMetadata("x-who", who);
      v1::CreateChatRequest request;
      request.set_title(title);
      v1::Chat chat;
      grpc::Status status = stub->CreateChat(&context, request, &chat);
      return std::make_pair(status, chat);
    });
  }
  grpc::Status get_chat(const std::string& chat_id) {
    return call([this, chat_id] {
      auto stub = v1::ChatService::NewStub(channel());
      grpc::ClientContext context;
      v1::GetChatRequest request;
      request.set_chat_id(chat_id);
      v1::GetChatResponse response;
      return stub->GetChat(&context, request, &response);
    });
  }
  // A raw call: `bytes` to `method`, whatever they are.
  grpc::Status generic_call(const std::string& method, const std::string& bytes) {
    return call([this, method, bytes] {
      grpc::GenericStub stub(channel());
      grpc::ClientContext context;
      grpc::Slice slice(bytes);
      grpc::ByteBuffer request(&slice, 1);
      grpc::ByteBuffer response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                     [&done](grpc::Status status) { done.set_value(std::move(status)); });
      return done.get_future().get();
    });
  }
};

// A stream read on a thread of its own; the test reads its progress between executor turns.
struct StreamReader {
  grpc::ClientContext context;
  std::atomic<int> received{0};
  std::atomic<bool> in_order{true};
  std::atomic<bool> ended{false};
  grpc::Status status;
  std::thread thread;

  StreamReader(std::shared_ptr<grpc::Channel> channel, std::int64_t count, std::string mode) {
    thread = std::thread([this, channel, count, mode] {
      auto stub = v1::StreamingService::NewStub(channel);
      v1::StreamUpdatesRequest request;
      request.set_since_seq(count);
      request.set_chat_id(mode);
      auto reader = stub->StreamUpdates(&context, request);
      v1::UserUpdate update;
      while (reader->Read(&update)) {
        if (update.seq() != received + 1) in_order = false;
        ++received;
      }
      status = reader->Finish();
      ended = true;
    });
  }
  ~StreamReader() {
    context.TryCancel();
    thread.join();
  }
};

TEST(GrpcRpcServer, UnaryCallsReachTheHandlerOnTheExecutorWithMetadataAndPeer) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  auto [status, chat] = loop.create_chat("hello", "alice");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(chat.title(), "hello");
  EXPECT_EQ(chat.id(), "alice");
  EXPECT_TRUE(chat.workflow_run_id().starts_with("127.0.0.1:")) << chat.workflow_run_id();
  EXPECT_EQ(loop.handler.off_loop_calls, 0);
  EXPECT_EQ(loop.handler.unary_started, 1);
  // Ten at once: all answered.
  std::vector<std::future<grpc::Status>> calls;
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    calls.push_back(std::async(std::launch::async, [&loop, &done, i] {
      auto stub = v1::ChatService::NewStub(loop.channel());
      grpc::ClientContext context;
      v1::GetChatRequest request;
      request.set_chat_id("chat-" + std::to_string(i));
      v1::GetChatResponse response;
      grpc::Status status = stub->GetChat(&context, request, &response);
      if (response.chat().id() != request.chat_id())
        status = grpc::Status(grpc::StatusCode::DATA_LOSS, "?");
      ++done;
      return status;
    }));
  }
  ASSERT_TRUE(loop.run_until([&] { return done == 10; }));
  for (auto& call : calls) EXPECT_TRUE(call.get().ok());
}

// The message a client may see: an internal failure's detail (and a thrown exception's) is for
// the server's log, so the caller gets a sentence for its code instead.
TEST(GrpcRpcServer, ErrorsBecomeTheMatchingStatusWithTheirMessage) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  for (ErrorCode code : ScriptedHandler::kCodes) {
    const std::string name(to_string(code));
    grpc::Status status = loop.get_chat(name);
    EXPECT_EQ(status.error_code(), expected_status(code)) << name;
    if (code == ErrorCode::internal) {
      EXPECT_EQ(status.error_message(), client_message(Error{code, ""}));
    } else {
      EXPECT_EQ(status.error_message(), "because " + name);
    }
  }
  grpc::Status thrown = loop.get_chat("throw");
  EXPECT_EQ(thrown.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(thrown.error_message().find("boom"), std::string::npos) << thrown.error_message();
  EXPECT_TRUE(loop.get_chat("still-serving").ok());
}

TEST(GrpcRpcServer, UnknownMethodsAreUnimplemented) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  EXPECT_EQ(loop.generic_call("/reliant.api.v1.ChatService/ListChats", "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(loop.generic_call("/no.such.Service/Method", "xyz").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(loop.handler.unary_started, 0);
}

TEST(GrpcRpcServer, MessagesOverTheLimitAreResourceExhaustedEitherWay) {
  Loop loop;  // 64 KiB
  ASSERT_TRUE(loop.server);
  auto [status, chat] = loop.create_chat(std::string(100 * 1024, 't'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(loop.handler.unary_started, 0);
  grpc::Status big = loop.get_chat("big");
  EXPECT_EQ(big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << big.error_message();
  EXPECT_TRUE(loop.create_chat(std::string(60 * 1024, 't')).first.ok());
}

// A compressed message is refused before it is inflated: gRPC inflates before it checks the
// receive limit, so a megabyte of gzip, sent without a credential, held a gigabyte.
TEST(GrpcRpcServer, ACompressedMessageIsRefusedUninflated) {
  Loop loop;  // 64 KiB
  ASSERT_TRUE(loop.server);
  for (const auto compression : {GRPC_COMPRESS_GZIP, GRPC_COMPRESS_DEFLATE}) {
    // Well over the limit once inflated, a few hundred bytes on the wire.
    auto [status, chat] = loop.create_chat(std::string(1024 * 1024, 't'), "", compression);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  }
  EXPECT_EQ(loop.handler.unary_started, 0);
  EXPECT_TRUE(loop.create_chat("plain").first.ok());
}

TEST(GrpcRpcServer, StreamsArriveInOrderAndEndWithTheHandlersStatus) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  {
    StreamReader reader(loop.channel(), 200, "");
    ASSERT_TRUE(loop.run_until([&] { return reader.ended.load(); }));
    EXPECT_EQ(reader.received, 200);
    EXPECT_TRUE(reader.in_order);
    EXPECT_TRUE(reader.status.ok()) << reader.status.error_message();
  }
  {
    StreamReader reader(loop.channel(), 3, "fail");
    ASSERT_TRUE(loop.run_until([&] { return reader.ended.load(); }));
    EXPECT_EQ(reader.received, 3);
    EXPECT_EQ(reader.status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(reader.status.error_message(), "the chat is gone");
  }
  EXPECT_EQ(loop.handler.off_loop_calls, 0);
  EXPECT_TRUE(loop.run_until([&] { return loop.server->live_calls() == 0; }));
}

TEST(GrpcRpcServer, AClientCancellingAStreamEndsItsTaskEvenWhileItWaits) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  // A stream that waits for something to write: only destroying its task ends it.
  auto waiting = std::make_unique<StreamReader>(loop.channel(), 1, "forever");
  ASSERT_TRUE(loop.run_until([&] { return waiting->received == 1; }));
  EXPECT_EQ(loop.handler.streams_open, 1);
  waiting->context.TryCancel();
  ASSERT_TRUE(loop.run_until([&] { return waiting->ended.load(); }));
  EXPECT_EQ(waiting->status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(loop.run_until([&] { return loop.handler.streams_open == 0; }));
  EXPECT_TRUE(loop.run_until([&] { return loop.server->live_calls() == 0; }));

  // A stream that keeps writing: it ends (its task destroyed, or a write refused).
  auto writing = std::make_unique<StreamReader>(loop.channel(), 0, "until-gone");
  ASSERT_TRUE(loop.run_until([&] { return writing->received > 20; }));
  writing->context.TryCancel();
  ASSERT_TRUE(loop.run_until([&] { return writing->ended.load(); }));
  EXPECT_TRUE(loop.run_until([&] { return loop.handler.streams_open == 0; }));
  EXPECT_TRUE(loop.run_until([&] { return loop.server->live_calls() == 0; }));
}

// The client cancels once the server runs the call (not on a short deadline: on a loaded
// machine that expired before the call reached the server, which then had nothing to run).
TEST(GrpcRpcServer, AUnaryCallCancelledByItsClientStillRunsToTheEnd) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  grpc::ClientContext context;
  std::atomic<bool> done{false};
  grpc::Status status;
  std::thread caller([&] {
    auto stub = v1::ChatService::NewStub(loop.channel());
    v1::GetChatRequest request;
    request.set_chat_id("slow");
    v1::GetChatResponse response;
    status = stub->GetChat(&context, request, &response);
    done = true;
  });
  ASSERT_TRUE(loop.run_until([&] { return loop.handler.unary_started == 1; }));
  context.TryCancel();
  EXPECT_TRUE(loop.run_until([&] { return done.load(); }));
  caller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(loop.run_until([&] { return loop.handler.unary_finished == 1; }));
  EXPECT_TRUE(loop.run_until([&] { return loop.server->live_calls() == 0; }));
}

TEST(GrpcRpcServer, ShuttingDownEndsOpenCallsAndDestroysTheirTasks) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  StreamReader reader(loop.channel(), 1, "forever");
  ASSERT_TRUE(loop.run_until([&] { return reader.received == 1; }));
  std::atomic<bool> unary_done{false};
  grpc::Status unary_status;
  std::thread slow([&] {
    auto stub = v1::ChatService::NewStub(loop.channel());
    grpc::ClientContext context;
    v1::GetChatRequest request;
    request.set_chat_id("slow");
    v1::GetChatResponse response;
    unary_status = stub->GetChat(&context, request, &response);
    unary_done = true;
  });
  ASSERT_TRUE(loop.run_until([&] { return loop.handler.unary_started == 1; }));
  loop.server.reset();  // the executor is not running: the destructor must not need it
  EXPECT_EQ(loop.handler.streams_open, 0);
  slow.join();
  EXPECT_NE(unary_status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(loop.handler.unary_finished, 0);
  while (!reader.ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_NE(reader.status.error_code(), grpc::StatusCode::OK);
  loop.run_for(std::chrono::milliseconds(20));  // posts left behind find nothing to touch
}

TEST(GrpcRpcServer, ATakenPortOrABadAddressFailsToStart) {
  Loop loop;
  ASSERT_TRUE(loop.server);
  GrpcRpcServerOptions taken;
  taken.port = loop.server->port();
  auto second = GrpcRpcServer::start(loop.executor, taken, loop.handler);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::already_exists) << second.error().describe();
  GrpcRpcServerOptions bad;
  bad.bind_address = "";
  EXPECT_EQ(GrpcRpcServer::start(loop.executor, bad, loop.handler).error().code,
            ErrorCode::invalid_argument);
  GrpcRpcServerOptions half;
  half.port = 0;
  half.tls_cert_file = "/nonexistent";
  EXPECT_EQ(GrpcRpcServer::start(loop.executor, half, loop.handler).error().code,
            ErrorCode::invalid_argument);
}

// A plain TCP connection to the server that sends nothing (an idle, unauthenticated client).
struct RawConnection {
  explicit RawConnection(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawConnection() { ::close(fd); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  // Whether the server has closed it (a read sees the end or a reset), without waiting. What
  // the server sent first (gRPC's SETTINGS frame) is read away.
  bool closed_by_server() const {
    char bytes[4096];
    for (;;) {
      const ssize_t n = ::recv(fd, bytes, sizeof bytes, MSG_DONTWAIT);
      if (n > 0) continue;
      return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
  }
  int fd = -1;
  bool connected = false;
};

TEST(GrpcRpcServer, AnUnauthenticatedConnectionIsClosedAtItsDeadline) {
  GrpcRpcServerOptions options = Loop::small_limits();
  options.limits.unauthenticated_timeout = milliseconds(300);
  Loop loop(options);
  ASSERT_TRUE(loop.server);
  RawConnection silent(loop.server->port());
  ASSERT_TRUE(silent.connected);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_until([&] { return silent.closed_by_server(); }, std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_TRUE(loop.run_until([&] { return loop.server->open_connections() == 0; }));
}

// Idle unauthenticated connections share a small pool, oldest closed first; a connection whose
// call carried a credential is never closed for them, and new clients keep being served.
TEST(GrpcRpcServer, AFloodOfIdleConnectionsTakesOnlyThePoolNeverAnAuthenticatedConnection) {
  GrpcRpcServerOptions options = Loop::small_limits();
  options.limits.unauthenticated_connections_max = 4;
  Loop loop(options);
  ASSERT_TRUE(loop.server);
  auto channel = loop.channel();
  const grpc::Status first = loop.call([&channel] {
    auto stub = v1::ChatService::NewStub(channel);
    grpc::ClientContext context;
    context.AddMetadata("x-auth", "yes");
    v1::Chat chat;
    return stub->CreateChat(&context, v1::CreateChatRequest(), &chat);
  });
  ASSERT_TRUE(first.ok()) << first.error_message();

  std::vector<std::unique_ptr<RawConnection>> flood;
  for (int i = 0; i < 40; ++i) {
    flood.push_back(std::make_unique<RawConnection>(loop.server->port()));
    ASSERT_TRUE(flood.back()->connected);
  }
  const auto closed = [&] {
    int n = 0;
    for (const auto& c : flood) n += c->closed_by_server() ? 1 : 0;
    return n;
  };
  EXPECT_TRUE(loop.run_until([&] { return closed() == 36; })) << closed();
  EXPECT_EQ(loop.server->open_connections(), 5u);  // the pool and the authenticated one
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(flood[36 + i]->closed_by_server()) << "the newest";
  // The authenticated connection is still the channel's: the next call needs no new one.
  EXPECT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  const grpc::Status again = loop.call([&channel] {
    auto stub = v1::ChatService::NewStub(channel);
    grpc::ClientContext context;
    v1::Chat chat;
    return stub->CreateChat(&context, v1::CreateChatRequest(), &chat);
  });
  EXPECT_TRUE(again.ok()) << again.error_message();
  // A new client is served: it takes the oldest idle connection's place.
  EXPECT_TRUE(loop.create_chat("new").first.ok());
}

// An authenticated call made on `channel` (it then holds an authenticated connection).
grpc::Status authenticated_call(Loop& loop, const std::shared_ptr<grpc::Channel>& channel) {
  return loop.call([&channel] {
    auto stub = v1::ChatService::NewStub(channel);
    grpc::ClientContext context;
    context.AddMetadata("x-auth", "yes");
    v1::Chat chat;
    return stub->CreateChat(&context, v1::CreateChatRequest(), &chat);
  });
}

// An authenticated connection is never closed to make room; gRPC's idle timeout is what ends
// it once it has no call (GRPC_ARG_MAX_CONNECTION_IDLE_MS), so it cannot be held for nothing.
TEST(GrpcRpcServer, AConnectionWithoutCallsIsClosedAtTheIdleTimeout) {
  GrpcRpcServerOptions options = Loop::small_limits();
  options.limits.idle_timeout = milliseconds(300);
  Loop loop(options);
  ASSERT_TRUE(loop.server);
  auto channel = loop.channel();
  ASSERT_TRUE(authenticated_call(loop, channel).ok());
  EXPECT_EQ(loop.server->open_connections(), 1u);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_until([&] { return loop.server->open_connections() == 0; },
                             std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

// Keepalive: a peer that stops answering (gone without a FIN, or hostile) gets a ping after
// keepalive_time of silence and is closed when it leaves it unanswered for keepalive_timeout —
// long before its unauthenticated deadline (gRPC's default would ping after two hours).
TEST(GrpcRpcServer, APeerThatLeavesAPingUnansweredIsClosed) {
  GrpcRpcServerOptions options = Loop::small_limits();
  options.limits.unauthenticated_timeout = seconds(60);
  options.limits.handshake_timeout = seconds(60);
  options.limits.keepalive_time = milliseconds(200);
  options.limits.keepalive_timeout = milliseconds(200);
  Loop loop(options);
  ASSERT_TRUE(loop.server);
  RawConnection peer(loop.server->port());
  ASSERT_TRUE(peer.connected);
  // The HTTP/2 preface, an empty SETTINGS frame and the acknowledgement of the server's; then
  // nothing, pings included, is answered.
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                              std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9) +
                              std::string("\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9);
  ASSERT_EQ(::send(peer.fd, preface.data(), preface.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(preface.size()));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_until([&] { return peer.closed_by_server(); }, std::chrono::seconds(5)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_TRUE(loop.run_until([&] { return loop.server->open_connections() == 0; }));
}

using Certificate = testing::SelfSignedCertificate;

TEST(GrpcRpcServer, ServesTlsWhenGivenACertificateAndKey) {
  Certificate certificate;
  GrpcRpcServerOptions options = Loop::small_limits();
  options.tls_cert_file = certificate.cert.string();
  options.tls_key_file = certificate.key.string();
  Loop loop(options);
  ASSERT_TRUE(loop.server);
  std::ifstream in(certificate.cert);
  std::stringstream pem;
  pem << in.rdbuf();
  auto [status, chat] = loop.call([&loop, roots = pem.str()] {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = roots;
    auto channel = grpc::CreateChannel(loop.address(), grpc::SslCredentials(tls));
    auto stub = v1::ChatService::NewStub(channel);
    grpc::ClientContext context;
    v1::CreateChatRequest request;
    request.set_title("secure");
    v1::Chat chat;
    grpc::Status status = stub->CreateChat(&context, request, &chat);
    return std::make_pair(status, chat);
  });
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(chat.title(), "secure");
  // Plaintext against it fails.
  auto plaintext = loop.call([&loop] {
    auto stub = v1::ChatService::NewStub(loop.channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::Chat chat;
    return stub->CreateChat(&context, v1::CreateChatRequest(), &chat);
  });
  EXPECT_FALSE(plaintext.ok());
}

}  // namespace
}  // namespace reliant
