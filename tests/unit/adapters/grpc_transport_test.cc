// GrpcTransport on loopback: accept/dial, metadata, ordered frames both ways (many, and 1 MiB),
// close and reset seen on both sides, refused and silent addresses, malformed and oversized
// frames, streams destroyed mid-flight, both call directions, h2c and TLS, unary handlers.
#include "adapters/grpc/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "unit/support/real_loop.h"
#include "unit/support/self_signed_certificate.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "reliant/daemon/v1/daemon.grpc.pb.h"
#include "runtime/scope.h"
#include "unit/support/await_into.h"

namespace reliant {
namespace {

namespace fs = std::filesystem;
namespace daemon_v1 = daemon::v1;

// ---- frames ----

std::string daemon_frame(std::uint64_t sequence, std::size_t padding = 0) {
  daemon_v1::DaemonFrame frame;
  if (padding == 0) {
    frame.mutable_heartbeat()->set_sequence(sequence);
  } else {
    frame.mutable_output_chunk()->set_offset(sequence);
    frame.mutable_output_chunk()->set_data(std::string(padding, 'd'));
  }
  return frame.SerializeAsString();
}

std::string gateway_frame(std::uint64_t sequence, std::size_t padding = 0) {
  daemon_v1::GatewayFrame frame;
  if (padding == 0) {
    frame.mutable_heartbeat()->set_sequence(sequence);
  } else {
    frame.mutable_tool_request()->set_timeout_ms(static_cast<std::int64_t>(sequence));
    frame.mutable_tool_request()->set_input_json(std::string(padding, 'g'));
  }
  return frame.SerializeAsString();
}

std::uint64_t daemon_sequence(const std::string& bytes) {
  daemon_v1::DaemonFrame frame;
  EXPECT_TRUE(frame.ParseFromString(bytes));
  return frame.has_heartbeat() ? frame.heartbeat().sequence() : frame.output_chunk().offset();
}

std::uint64_t gateway_sequence(const std::string& bytes) {
  daemon_v1::GatewayFrame frame;
  EXPECT_TRUE(frame.ParseFromString(bytes));
  return frame.has_heartbeat() ? frame.heartbeat().sequence()
                               : static_cast<std::uint64_t>(frame.tool_request().timeout_ms());
}

// Not a protobuf message: field 1, length 127, and then nothing.
const std::string kMalformed("\x0a\x7f", 2);

// ---- coroutine helpers (free functions: GCC 12 and capturing-lambda coroutines disagree) ----

Task<void> read_frames(Stream& stream, std::size_t count, std::vector<std::string>* frames,
                       std::optional<Error>* end) {
  while (frames->size() < count) {
    Task<Result<std::string>> next = stream.receive();
    Result<std::string> frame = co_await next;
    if (!frame) {
      *end = frame.error();
      co_return;
    }
    frames->push_back(std::move(*frame));
  }
}

// ---- fixture ----

struct Loopback {
  AsioExecutor executor;
  Scope scope{executor};
  std::unique_ptr<GrpcTransport> gateway = make(GrpcRole::gateway);
  std::unique_ptr<GrpcTransport> daemon = make(GrpcRole::daemon);

  ~Loopback() {
    // Transports go first (they cancel what is left), while the executor still exists.
    gateway.reset();
    daemon.reset();
    run_for(std::chrono::milliseconds(20));
  }

  std::unique_ptr<GrpcTransport> make(GrpcRole role, GrpcTransportOptions options = {}) {
    options.role = role;
    auto transport = GrpcTransport::create(executor, std::move(options));
    EXPECT_TRUE(transport.has_value()) << transport.error().describe();
    return transport ? std::move(*transport) : nullptr;
  }

  // Runs the executor until `done` holds or `limit` passes; returns `done()`.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    return testing::run_until(executor, done, limit);
  }
  void run_for(std::chrono::milliseconds duration) { testing::run_for(executor, duration); }

  Result<StreamPtr> dial(GrpcTransport& transport, std::string address, Metadata metadata = {},
                         Duration timeout = seconds(5)) {
    std::optional<Result<StreamPtr>> out;
    scope.spawn(await_into(transport.dial(std::move(address), std::move(metadata), timeout), &out));
    EXPECT_TRUE(run_until([&] { return out.has_value(); }, std::chrono::seconds(20)));
    if (!out) return fail(ErrorCode::internal, "dial never completed");
    return std::move(*out);
  }

  Result<std::string> receive(Stream& stream) {
    std::optional<Result<std::string>> out;
    scope.spawn(await_into(stream.receive(), &out));
    EXPECT_TRUE(run_until([&] { return out.has_value(); }));
    if (!out) return fail(ErrorCode::internal, "receive never completed");
    return std::move(*out);
  }
};

// A listener on an ephemeral loopback port and one stream dialed into it.
struct Connected {
  ListenerPtr listener;
  StreamPtr accepted;  // on the listening side
  StreamPtr dialed;
  // Streams the listener accepts later (its handler outlives connect()).
  std::shared_ptr<std::vector<StreamPtr>> later = std::make_shared<std::vector<StreamPtr>>();
};

Connected connect(Loopback& net, GrpcTransport& listening, GrpcTransport& dialing,
                  Metadata metadata = {}, std::string scheme = "") {
  Connected c;
  auto listener = listening.listen(
      "127.0.0.1:0", [later = c.later](StreamPtr stream) { later->push_back(std::move(stream)); });
  EXPECT_TRUE(listener.has_value()) << listener.error().describe();
  if (!listener) return c;
  c.listener = std::move(*listener);
  auto dialed = net.dial(dialing, scheme + c.listener->address(), std::move(metadata));
  EXPECT_TRUE(dialed.has_value()) << dialed.error().describe();
  if (!dialed) return c;
  c.dialed = std::move(*dialed);
  // dial() completes only once the component took the stream.
  EXPECT_EQ(c.later->size(), 1u);
  if (!c.later->empty()) {
    c.accepted = std::move(c.later->front());
    c.later->clear();
  }
  return c;
}

// A port nothing listens on: bound by a listener that is then destroyed.
std::string closed_address(Loopback& net) {
  auto listener = net.gateway->listen("127.0.0.1:0", [](StreamPtr) {});
  EXPECT_TRUE(listener.has_value());
  std::string address = (*listener)->address();
  listener->reset();
  return address;
}

// ---- addresses ----

TEST(GrpcAddress, DialUrlsInferTheTlsMode) {
  auto https = parse_dial_address("https://gw.example.com:9190", GrpcTlsMode::infer);
  ASSERT_TRUE(https);
  EXPECT_EQ(https->authority, "gw.example.com:9190");
  EXPECT_EQ(https->tls_mode, GrpcTlsMode::tls);
  auto http = parse_dial_address("http://127.0.0.1:9190/", GrpcTlsMode::infer);
  ASSERT_TRUE(http);
  EXPECT_EQ(http->authority, "127.0.0.1:9190");
  EXPECT_EQ(http->tls_mode, GrpcTlsMode::h2c);
  auto bare = parse_dial_address("localhost:9190", GrpcTlsMode::infer);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->tls_mode, GrpcTlsMode::h2c);
  auto default_port = parse_dial_address("https://gw.example.com", GrpcTlsMode::infer);
  ASSERT_TRUE(default_port);
  EXPECT_EQ(default_port->authority, "gw.example.com:443");
  auto v6 = parse_dial_address("http://[::1]:7000", GrpcTlsMode::infer);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->authority, "[::1]:7000");
  // An explicit mode wins over the scheme.
  auto forced = parse_dial_address("https://h:1", GrpcTlsMode::insecure_tls_skip_verify);
  ASSERT_TRUE(forced);
  EXPECT_EQ(forced->tls_mode, GrpcTlsMode::insecure_tls_skip_verify);
  for (const char* bad : {"", "ftp://h:1", "h", "h:", "h:99999", "h:x", "https://h:1/path",
                          "::1:80", "[::1", "dns:///h:1"}) {
    auto parsed = parse_dial_address(bad, GrpcTlsMode::infer);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument) << bad;
  }
}

TEST(GrpcAddress, TlsModesListenAddressesAndPeers) {
  EXPECT_EQ(*parse_tls_mode("insecure_tls_skip_verify"), GrpcTlsMode::insecure_tls_skip_verify);
  EXPECT_EQ(*parse_tls_mode("h2c"), GrpcTlsMode::h2c);
  EXPECT_FALSE(parse_tls_mode("ssl"));
  auto any = parse_listen_address("0.0.0.0:9190");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->with_port(any->port), "0.0.0.0:9190");
  EXPECT_FALSE(parse_listen_address("http://0.0.0.0:9190"));
  EXPECT_FALSE(parse_listen_address("0.0.0.0"));
  EXPECT_EQ(peer_address("ipv4:127.0.0.1:5000"), "127.0.0.1:5000");
  EXPECT_EQ(peer_address("ipv6:%5B::1%5D:5000"), "[::1]:5000");
  EXPECT_EQ(peer_address("ipv6:[::1]:5000"), "[::1]:5000");
}

// ---- streams ----

TEST(GrpcTransport, AcceptAndDialCarryMetadataAndPeers) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon,
                        {{"Authorization", "Bearer rlnt_pat_abc"}, {"x-daemon-name", "laptop"}});
  ASSERT_TRUE(c.accepted && c.dialed);
  EXPECT_NE(c.listener->address(), "127.0.0.1:0");
  const Metadata& seen = c.accepted->metadata();
  EXPECT_EQ(seen.at("authorization"), "Bearer rlnt_pat_abc");
  EXPECT_EQ(seen.at("x-daemon-name"), "laptop");
  for (const auto& [key, value] : seen) {
    EXPECT_FALSE(key.starts_with(":") || key.starts_with("grpc-") || key == "user-agent") << key;
  }
  EXPECT_EQ(c.dialed->metadata().at("authorization"), "Bearer rlnt_pat_abc");
  EXPECT_EQ(c.dialed->peer(), c.listener->address());
  EXPECT_TRUE(c.accepted->peer().starts_with("127.0.0.1:")) << c.accepted->peer();
  EXPECT_NE(c.accepted->peer(), c.listener->address());
}

TEST(GrpcTransport, ManyFramesArriveInOrderBothWays) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  constexpr std::size_t kFrames = 2000;  // beyond the reader's pause bound
  std::vector<std::string> up, down;
  std::optional<Error> up_end, down_end;
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(c.dialed->send(daemon_frame(i)));
    ASSERT_TRUE(c.accepted->send(gateway_frame(i)));
  }
  // Nobody reads for a while: the readers pause at their bound, nothing is lost.
  net.run_for(std::chrono::milliseconds(100));
  net.scope.spawn(read_frames(*c.accepted, kFrames, &up, &up_end));
  net.scope.spawn(read_frames(*c.dialed, kFrames, &down, &down_end));
  ASSERT_TRUE(net.run_until([&] { return up.size() == kFrames && down.size() == kFrames; }));
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(daemon_sequence(up[i]), i);
    ASSERT_EQ(gateway_sequence(down[i]), i);
  }
  EXPECT_FALSE(up_end || down_end);
}

TEST(GrpcTransport, OneMebibyteFramesBothWays) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  constexpr std::size_t kMiB = 1u << 20;
  for (std::uint64_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.dialed->send(daemon_frame(i, kMiB)));
    ASSERT_TRUE(c.accepted->send(gateway_frame(i, kMiB)));
  }
  for (std::uint64_t i = 0; i < 3; ++i) {
    auto up = net.receive(*c.accepted);
    ASSERT_TRUE(up) << up.error().describe();
    EXPECT_EQ(daemon_sequence(*up), i);
    EXPECT_GT(up->size(), kMiB);
    auto down = net.receive(*c.dialed);
    ASSERT_TRUE(down) << down.error().describe();
    EXPECT_EQ(gateway_sequence(*down), i);
    EXPECT_GT(down->size(), kMiB);
  }
}

TEST(GrpcTransport, FramesOverTheLimitAreRefusedAndTheStreamGoesOn) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  auto sent = c.dialed->send(daemon_frame(1, 5u << 20));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::resource_exhausted);
  ASSERT_TRUE(c.dialed->send(daemon_frame(2)));
  auto next = net.receive(*c.accepted);
  ASSERT_TRUE(next);
  EXPECT_EQ(daemon_sequence(*next), 2u);
}

// A client nobody here wrote, allowed to send anything: the listener's own limit refuses the
// frame (RESOURCE_EXHAUSTED) and the component never sees it.
TEST(GrpcTransport, AForeignClientsOversizedFrameIsRefusedByTheListener) {
  Loopback net;
  std::vector<StreamPtr> accepted;
  auto listener = net.gateway->listen(
      "127.0.0.1:0", [&accepted](StreamPtr stream) { accepted.push_back(std::move(stream)); });
  ASSERT_TRUE(listener.has_value()) << listener.error().describe();
  const std::string address = (*listener)->address();
  grpc::Status status;
  std::atomic<bool> finished{false};
  std::thread client([&] {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    // gRPC's generated client for the service (its "stub"), used directly.
    auto client = daemon_v1::ToolsDaemonService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = client->ConnectDaemon(&context);
    daemon_v1::DaemonFrame frame;
    frame.ParseFromString(daemon_frame(1, 5u << 20));
    stream->Write(frame);
    // Whatever the gateway sends before it ends the call is of no interest: read to the end,
    // where Finish() has the status.
    daemon_v1::GatewayFrame reply;
    bool reading = true;
    while (reading) reading = stream->Read(&reply);
    status = stream->Finish();
    finished = true;
  });
  // The executor serves the listener while the client waits for the end of its call.
  const bool ended = net.run_until([&] { return finished.load(); }, std::chrono::seconds(20));
  client.join();
  ASSERT_TRUE(ended);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  for (auto& stream : accepted) {
    auto frame = net.receive(*stream);
    EXPECT_FALSE(frame.has_value()) << "the oversized frame reached the component";
  }
}

struct CloseLog {
  explicit CloseLog(const AsioExecutor& executor) : executor(executor) {}
  const AsioExecutor& executor;
  std::vector<Error> errors;
  std::vector<bool> as_executor_work;  // on its thread, or a gRPC thread that took it over
  std::function<void(const Error&)> callback() {
    return [this](const Error& e) {
      errors.push_back(e);
      as_executor_work.push_back(executor.running_here());
    };
  }
};

TEST(GrpcTransport, ClientCloseDeliversQueuedFramesThenEndsBothSidesOnce) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  CloseLog server_log(net.executor), client_log(net.executor);
  c.accepted->on_close(server_log.callback());
  c.dialed->on_close(client_log.callback());
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(c.dialed->send(daemon_frame(i)));
  c.dialed->close();
  c.dialed->close();  // idempotent
  auto after = c.dialed->send(daemon_frame(9));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::closed);
  std::vector<std::string> frames;
  std::optional<Error> end;
  net.scope.spawn(read_frames(*c.accepted, 100, &frames, &end));
  ASSERT_TRUE(net.run_until([&] { return end.has_value() && !server_log.errors.empty(); }));
  ASSERT_EQ(frames.size(), 3u);
  for (std::uint64_t i = 0; i < 3; ++i) EXPECT_EQ(daemon_sequence(frames[i]), i);
  EXPECT_EQ(end->code, ErrorCode::closed);
  auto sent = c.accepted->send(gateway_frame(1));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::closed);
  auto received = net.receive(*c.dialed);
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code, ErrorCode::closed);
  net.run_for(std::chrono::milliseconds(50));
  c.accepted->close();
  net.run_for(std::chrono::milliseconds(50));
  ASSERT_EQ(server_log.errors.size(), 1u);
  ASSERT_EQ(client_log.errors.size(), 1u);
  EXPECT_EQ(server_log.errors[0].code, ErrorCode::closed);
  EXPECT_EQ(client_log.errors[0].code, ErrorCode::closed);
  EXPECT_TRUE(server_log.as_executor_work[0]);
  EXPECT_TRUE(client_log.as_executor_work[0]);
}

TEST(GrpcTransport, ServerCloseDeliversQueuedFramesThenEndsTheDialer) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  CloseLog server_log(net.executor), client_log(net.executor);
  c.accepted->on_close(server_log.callback());
  c.dialed->on_close(client_log.callback());
  // The gateway's way of refusing a daemon: an error frame, then close.
  daemon_v1::GatewayFrame refusal;
  refusal.mutable_error()->set_code("unauthenticated");
  ASSERT_TRUE(c.accepted->send(refusal.SerializeAsString()));
  c.accepted->close();
  auto first = net.receive(*c.dialed);
  ASSERT_TRUE(first) << first.error().describe();
  daemon_v1::GatewayFrame parsed;
  ASSERT_TRUE(parsed.ParseFromString(*first));
  EXPECT_EQ(parsed.error().code(), "unauthenticated");
  auto end = net.receive(*c.dialed);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ErrorCode::closed);
  ASSERT_TRUE(net.run_until([&] { return !client_log.errors.empty(); }));
  net.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(server_log.errors.size(), 1u);
  EXPECT_EQ(client_log.errors.size(), 1u);
}

TEST(GrpcTransport, DestroyingAStreamEndsThePeersStream) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  CloseLog server_log(net.executor);
  c.accepted->on_close(server_log.callback());
  c.dialed.reset();
  auto end = net.receive(*c.accepted);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ErrorCode::closed);
  ASSERT_TRUE(net.run_until([&] { return !server_log.errors.empty(); }));
  net.run_for(std::chrono::milliseconds(30));
  EXPECT_EQ(server_log.errors.size(), 1u);
}

TEST(GrpcTransport, DialingAClosedPortIsUnavailableWithinTheTimeout) {
  Loopback net;
  const std::string address = closed_address(net);
  const auto start = std::chrono::steady_clock::now();
  auto dialed = net.dial(*net.daemon, address, {}, seconds(3));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.error().code, ErrorCode::unavailable) << dialed.error().describe();
  EXPECT_NE(dialed.error().message.find(address), std::string::npos) << dialed.error().message;
  EXPECT_LT(took, std::chrono::seconds(3));
}

// A TCP listener that never speaks HTTP/2: connections open, nothing ever answers.
struct SilentServer {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  std::string address;
  SilentServer() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd, 8), 0);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  }
  ~SilentServer() { ::close(fd); }
};

TEST(GrpcTransport, DialingASilentServerTimesOut) {
  Loopback net;
  SilentServer silent;
  const auto start = std::chrono::steady_clock::now();
  auto dialed = net.dial(*net.daemon, silent.address, {}, milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(dialed);
  EXPECT_EQ(dialed.error().code, ErrorCode::timeout) << dialed.error().describe();
  EXPECT_NE(dialed.error().message.find(silent.address), std::string::npos);
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST(GrpcTransport, ADialCancelledMidwayLeavesNoCallBehind) {
  Loopback net;
  SilentServer silent;
  {
    Scope dialing(net.executor);
    std::optional<Result<StreamPtr>> out;
    dialing.spawn(await_into(net.daemon->dial(silent.address, {}, seconds(30)), &out));
    net.run_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(out.has_value());
  }  // the dialing coroutine is destroyed while it waits
  const auto start = std::chrono::steady_clock::now();
  net.daemon.reset();  // returns once gRPC let go of every call: the cancelled one included
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(GrpcTransport, MalformedFramesCloseTheStreamWithInvalidArgument) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  CloseLog client_log(net.executor), server_log(net.executor);
  c.dialed->on_close(client_log.callback());
  c.accepted->on_close(server_log.callback());
  ASSERT_TRUE(c.dialed->send(daemon_frame(1)));
  auto sent = c.dialed->send(kMalformed);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(sent.error().message.find("DaemonFrame"), std::string::npos) << sent.error().message;
  auto again = c.dialed->send(daemon_frame(2));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::closed);
  // The valid frame sent before still arrives; then the stream ends.
  auto first = net.receive(*c.accepted);
  ASSERT_TRUE(first);
  EXPECT_EQ(daemon_sequence(*first), 1u);
  auto end = net.receive(*c.accepted);
  ASSERT_FALSE(end);
  ASSERT_TRUE(net.run_until([&] { return !client_log.errors.empty(); }));
  EXPECT_EQ(client_log.errors[0].code, ErrorCode::invalid_argument);

  // The accepting side too: its peer learns why.
  Connected d = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(d.accepted && d.dialed);
  auto bad = d.accepted->send(kMalformed);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  auto ended = net.receive(*d.dialed);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, ErrorCode::closed);
  EXPECT_NE(ended.error().message.find("INVALID_ARGUMENT"), std::string::npos)
      << ended.error().message;
}

TEST(GrpcTransport, StreamsDestroyedWithFramesInFlightLeaveNothingBehind) {
  Loopback net;
  for (int round = 0; round < 5; ++round) {
    Connected c = connect(net, *net.gateway, *net.daemon);
    ASSERT_TRUE(c.accepted && c.dialed);
    for (std::uint64_t i = 0; i < 100; ++i) {
      ASSERT_TRUE(c.dialed->send(daemon_frame(i, 64u << 10)));
      ASSERT_TRUE(c.accepted->send(gateway_frame(i, 64u << 10)));
    }
    net.run_for(std::chrono::milliseconds(round * 3));
    if (round % 2 == 0) {
      c.dialed.reset();
      c.accepted.reset();
    } else {
      c.accepted.reset();
      c.dialed.reset();
    }
    net.run_for(std::chrono::milliseconds(20));
  }
  // And a transport destroyed under live streams: they end, their owners may still use them.
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  for (std::uint64_t i = 0; i < 50; ++i) ASSERT_TRUE(c.dialed->send(daemon_frame(i, 32u << 10)));
  net.daemon.reset();
  net.gateway.reset();
  net.run_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(c.dialed->send(daemon_frame(1)));
  std::vector<std::string> drained;
  std::optional<Error> end;
  net.scope.spawn(read_frames(*c.accepted, 1000, &drained, &end));
  ASSERT_TRUE(net.run_until([&] { return end.has_value(); }));
  EXPECT_EQ(end->code, ErrorCode::closed);
}

TEST(GrpcTransport, ReverseConnectionsCarryTheSameFrames) {
  Loopback net;
  // A managed daemon listens; the gateway dials it (ConnectGateway).
  Connected c = connect(net, *net.daemon, *net.gateway, {{"authorization", "Bearer cloud"}});
  ASSERT_TRUE(c.accepted && c.dialed);
  EXPECT_EQ(c.accepted->metadata().at("authorization"), "Bearer cloud");
  ASSERT_TRUE(c.dialed->send(gateway_frame(7)));   // the gateway still sends GatewayFrames
  ASSERT_TRUE(c.accepted->send(daemon_frame(8)));  // and the daemon DaemonFrames
  auto at_daemon = net.receive(*c.accepted);
  ASSERT_TRUE(at_daemon);
  EXPECT_EQ(gateway_sequence(*at_daemon), 7u);
  auto at_gateway = net.receive(*c.dialed);
  ASSERT_TRUE(at_gateway);
  EXPECT_EQ(daemon_sequence(*at_gateway), 8u);
  auto bad = c.accepted->send(kMalformed);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
}

TEST(GrpcTransport, DialingAnEndpointOfTheSameRoleIsRefused) {
  Loopback net;
  auto other_daemon = net.make(GrpcRole::daemon);
  auto listener = other_daemon->listen("127.0.0.1:0", [](StreamPtr) {});
  ASSERT_TRUE(listener);
  auto dialed = net.dial(*net.daemon, (*listener)->address());
  ASSERT_FALSE(dialed);
  // UNIMPLEMENTED: the endpoint serves the other side's method, not this one.
  EXPECT_EQ(dialed.error().code, ErrorCode::unimplemented) << dialed.error().describe();
  EXPECT_NE(dialed.error().message.find("ConnectGateway"), std::string::npos);
}

TEST(GrpcTransport, ListenErrorsAndBadMetadata) {
  Loopback net;
  auto malformed = net.gateway->listen("nonsense", [](StreamPtr) {});
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::invalid_argument);
  auto first = net.gateway->listen("127.0.0.1:0", [](StreamPtr) {});
  ASSERT_TRUE(first);
  auto taken = net.gateway->listen((*first)->address(), [](StreamPtr) {});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::already_exists);
  auto bad_key = net.dial(*net.daemon, (*first)->address(), {{"bad key", "v"}});
  ASSERT_FALSE(bad_key);
  EXPECT_EQ(bad_key.error().code, ErrorCode::invalid_argument);
  auto bad_value = net.dial(*net.daemon, (*first)->address(), {{"k", "line\nbreak"}});
  ASSERT_FALSE(bad_value);
  EXPECT_EQ(bad_value.error().code, ErrorCode::invalid_argument);
  GrpcTransportOptions half;
  half.tls_cert_file = "/nonexistent";
  auto half_tls = GrpcTransport::create(net.executor, half);
  ASSERT_FALSE(half_tls);
  EXPECT_EQ(half_tls.error().code, ErrorCode::invalid_argument);
}

TEST(GrpcTransport, AListenerGoneKeepsItsStreamsAndFreesThePortAfterThem) {
  Loopback net;
  Connected c = connect(net, *net.gateway, *net.daemon);
  ASSERT_TRUE(c.accepted && c.dialed);
  const std::string address = c.listener->address();
  c.listener.reset();
  ASSERT_TRUE(c.dialed->send(daemon_frame(3)));
  auto up = net.receive(*c.accepted);
  ASSERT_TRUE(up) << up.error().describe();
  EXPECT_EQ(daemon_sequence(*up), 3u);
  auto refused = net.dial(*net.daemon, address, {}, seconds(2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable) << refused.error().describe();
  c.dialed.reset();
  c.accepted.reset();
  ListenerPtr again;
  ASSERT_TRUE(net.run_until([&] {
    auto listener = net.gateway->listen(address, [](StreamPtr) {});
    if (listener) again = std::move(*listener);
    return again != nullptr;
  })) << "the port stayed taken after the last stream ended";
}

// ---- TLS ----

using Certificate = testing::SelfSignedCertificate;

TEST(GrpcTransport, TlsSkipVerifyAcceptsASelfSignedCertificateAndVerifiedTlsRefusesIt) {
  Certificate certificate;
  Loopback net;
  GrpcTransportOptions serving;
  serving.tls_cert_file = certificate.cert.string();
  serving.tls_key_file = certificate.key.string();
  auto server = net.make(GrpcRole::gateway, serving);
  GrpcTransportOptions insecure;
  insecure.tls_mode = GrpcTlsMode::insecure_tls_skip_verify;
  auto skip_verify = net.make(GrpcRole::daemon, insecure);
  ASSERT_TRUE(server && skip_verify);
  Connected c = connect(net, *server, *skip_verify, {{"authorization", "Bearer t"}}, "https://");
  ASSERT_TRUE(c.accepted && c.dialed);
  EXPECT_EQ(c.accepted->metadata().at("authorization"), "Bearer t");
  ASSERT_TRUE(c.dialed->send(daemon_frame(5)));
  ASSERT_TRUE(c.accepted->send(gateway_frame(6)));
  auto up = net.receive(*c.accepted);
  ASSERT_TRUE(up);
  EXPECT_EQ(daemon_sequence(*up), 5u);
  auto down = net.receive(*c.dialed);
  ASSERT_TRUE(down);
  EXPECT_EQ(gateway_sequence(*down), 6u);

  // https:// infers verified TLS: the system roots do not know this certificate.
  auto refused = net.dial(*net.daemon, "https://" + c.listener->address(), {}, seconds(5));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable) << refused.error().describe();
  // Plaintext against a TLS server fails too.
  auto plaintext = net.dial(*net.daemon, "http://" + c.listener->address(), {}, seconds(5));
  ASSERT_FALSE(plaintext);

  // Verified TLS trusting this certificate as its CA connects.
  GrpcTransportOptions verifying;
  verifying.tls_ca_file = certificate.cert.string();
  auto trusting = net.make(GrpcRole::daemon, verifying);
  ASSERT_TRUE(trusting);
  auto verified = net.dial(*trusting, "https://" + c.listener->address());
  ASSERT_TRUE(verified) << verified.error().describe();
}

// ---- unary handlers ----

Task<Result<void>> accept_report(std::vector<std::string>* seen, Metadata metadata,
                                 daemon_v1::ToolResponse response) {
  seen->push_back(metadata["authorization"] + "|" + response.request_id());
  if (response.request_id() == "refuse") co_return fail(ErrorCode::permission_denied, "no");
  co_return Result<void>{};
}

Task<Result<daemon_v1::ListDaemonsResponse>> list_two(Metadata, daemon_v1::ListDaemonsRequest) {
  daemon_v1::ListDaemonsResponse response;
  response.add_daemons();
  response.add_daemons();
  co_return response;
}

TEST(GrpcTransport, UnaryHandlersRunOnTheExecutor) {
  Loopback net;
  auto listener = net.gateway->listen("127.0.0.1:0", [](StreamPtr) {});
  ASSERT_TRUE(listener);
  auto channel = grpc::CreateChannel((*listener)->address(), grpc::InsecureChannelCredentials());
  auto tools = daemon_v1::ToolsDaemonService::NewStub(channel);
  auto daemons = daemon_v1::DaemonService::NewStub(channel);
  // Blocking calls from a thread of their own while the executor runs here.
  auto report = [&](const std::string& request_id) {
    grpc::Status status;
    daemon_v1::ReportToolResultAck ack;
    std::atomic<bool> answered{false};
    std::thread caller([&] {
      grpc::ClientContext context;
      context.AddMetadata("authorization", "Bearer p");
      daemon_v1::ToolResponse request;
      request.set_request_id(request_id);
      status = tools->ReportToolResult(&context, request, &ack);
      answered = true;
    });
    net.run_until([&] { return answered.load(); });
    caller.join();
    return std::make_pair(status, ack.accepted());
  };
  EXPECT_EQ(report("r0").first.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  std::vector<std::string> seen;
  ASSERT_TRUE(
      net.gateway->set_report_handler([&seen](Metadata metadata, daemon_v1::ToolResponse r) {
        return accept_report(&seen, std::move(metadata), std::move(r));
      }));
  auto [ok, accepted] = report("r1");
  EXPECT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_TRUE(accepted);
  EXPECT_EQ(report("refuse").first.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(seen, (std::vector<std::string>{"Bearer p|r1", "Bearer p|refuse"}));

  ASSERT_TRUE(net.gateway->set_list_daemons_handler(&list_two));
  grpc::Status status;
  daemon_v1::ListDaemonsResponse listed;
  std::atomic<bool> answered{false};
  std::thread caller([&] {
    grpc::ClientContext context;
    status = daemons->ListDaemons(&context, daemon_v1::ListDaemonsRequest(), &listed);
    answered = true;
  });
  net.run_until([&] { return answered.load(); });
  caller.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(listed.daemons_size(), 2);
}

}  // namespace
}  // namespace reliant
