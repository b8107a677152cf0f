// A managed Daemon dialled by two gateways at once (hand-written gateways in a simulated world):
// the daemon keeps one session — the newest stream — whatever order the acknowledgements come
// in and whichever stream ends first, and its answers always go down a live stream. A daemon
// started for one user (--user-id) refuses a registration for another. A daemon with a dial key
// serves only streams that show it. A daemon whose frames its gateway no longer hears ends the
// session. A command id runs once.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "core/managed_dial_key.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/daemon/daemon.h"
#include "services/daemon/daemon_methods.h"
#include "sim/sim_host.h"
#include "sim/sim_transport.h"
#include "unit/support/test_tasks.h"

namespace reliant::daemon {
namespace {

namespace sim = reliant::sim;

Task<void> dial_into(Transport* transport, Metadata metadata,
                     std::optional<Result<StreamPtr>>* out) {
  Task<Result<StreamPtr>> dialing = transport->dial("pod:9290", std::move(metadata), seconds(5));
  *out = co_await dialing;
}

// A call of the echo tool for the pod's user.
v1::GatewayFrame echo_request(const std::string& request_id) {
  v1::GatewayFrame request;
  request.mutable_tool_request()->set_request_id(request_id);
  request.mutable_tool_request()->set_tool_name("echo");
  request.mutable_tool_request()->set_input_json(R"({"text":"hi"})");
  request.mutable_tool_request()->set_user_id("user-erin");
  request.mutable_tool_request()->set_daemon_id("pod-daemon");
  return request;
}

class NoCredentials final : public CredentialStore {
 public:
  std::optional<std::string> token() const override { return std::nullopt; }
  void discard_token() override {}
  Task<Result<std::string>> reregister() override {
    co_return fail(ErrorCode::failed_precondition, "a managed daemon has no credentials");
  }
  std::string daemon_id() const override { return "pod-daemon"; }
  void save_daemon_id(const std::string&) override {}
  std::uint64_t next_registration_seq(Instant) override { return ++seq_; }

 private:
  std::uint64_t seq_ = 0;
};

struct World {
  sim::World world{11};
  sim::Network network{milliseconds(1), milliseconds(2)};
  sim::SimStreams streams{world, network};
  sim::NodeId pod_node = world.add_node("pod");
  sim::NodeId gw1_node = world.add_node("gw-1");
  sim::NodeId gw2_node = world.add_node("gw-2");
  sim::SimExecutor pod_exec{world, pod_node};
  sim::SimExecutor gw_exec{world, gw1_node};
  sim::SimExecutor gw2_exec{world, gw2_node};
  sim::SimTransport pod_transport{streams, pod_exec};
  sim::SimTransport gw_transport{streams, gw_exec};
  sim::SimTransport gw2_transport{streams, gw2_exec};
  sim::SimHost host{pod_exec, "/home/pod"};
  Random random{7};
  Env pod_env{pod_exec, random, nullptr, &pod_transport, nullptr, &host};
  NoCredentials credentials;
  MemoryRequestJournal journal;
  ToolSet tools = make_builtin_tools();
  std::unique_ptr<Daemon> daemon;
  Scope scope{gw_exec};

  Metadata gateway_metadata;  // what gateways dial with

  explicit World(std::string expected_user_id = "", bool read_only = false,
                 std::string dial_key = "", Duration stale_after = seconds(30)) {
    DaemonConfig config;
    config.stale_after = stale_after;
    config.dial_key = dial_key;
    if (!dial_key.empty()) gateway_metadata[std::string(kDialKeyMetadata)] = dial_key;
    config.expected_user_id = std::move(expected_user_id);
    config.read_only = read_only;
    config.listen_address = "pod:9290";
    config.identity.name = "pod";
    config.identity.type = DaemonType::cloud;
    config.identity.working_dir = "/home/pod";
    daemon = std::make_unique<Daemon>(pod_env, config, credentials, journal, tools);
    EXPECT_TRUE(daemon->listen().has_value());
  }

  template <class Done>
  void run_until(Done done) {
    while (!done() && world.step()) {
    }
  }
  // Gateway 1 or 2 dials the pod and reads its registration (into `hello`, when given).
  StreamPtr dial_and_read_register(int gateway, v1::Register* hello = nullptr) {
    std::optional<Result<StreamPtr>> out;
    scope.spawn(dial_into(gateway == 1 ? &gw_transport : &gw2_transport, gateway_metadata, &out));
    run_until([&] { return out.has_value(); });
    EXPECT_TRUE(out && out->has_value());
    StreamPtr stream = std::move(**out);
    auto frame = next_frame(*stream);
    EXPECT_TRUE(frame && frame->has_register_());
    if (hello != nullptr && frame) *hello = frame->register_();
    return stream;
  }
  // The next frame other than a heartbeat; none when the stream ends or `within` passes.
  std::optional<v1::DaemonFrame> next_frame(Stream& stream, Duration within = seconds(5)) {
    const Instant deadline = world.now() + within;
    for (;;) {
      std::optional<Result<std::string>> out;
      scope.spawn(receive_into(&stream, &out));
      run_until([&] { return out.has_value() || world.now() > deadline; });
      if (!out || !*out) return std::nullopt;
      auto frame = protocol::decode<v1::DaemonFrame>(**out);
      EXPECT_TRUE(frame.has_value());
      if (frame && frame->has_heartbeat()) continue;
      return frame ? std::optional<v1::DaemonFrame>(*frame) : std::nullopt;
    }
  }
  // `must_send`: false for a stream the daemon may already have closed.
  static void acknowledge(Stream& stream, bool must_send = true) {
    v1::GatewayFrame ack;
    ack.mutable_register_ack()->set_daemon_id("pod-daemon");
    ack.mutable_register_ack()->set_user_id("user-erin");
    ack.mutable_register_ack()->set_heartbeat_interval_ms(15'000);
    const bool sent = stream.send(protocol::encode(ack)).has_value();
    if (must_send) {
      EXPECT_TRUE(sent);
    }
  }
  void settle() { world.run_until(world.now() + milliseconds(50)); }
};

// The race behind defect 2 of issue 15: gateway A dials, gateway B dials before A's
// acknowledgement arrives, B's acknowledgement arrives first, then A's; then A's stream ends
// (A was evicted). The daemon must still answer on B.
TEST(DaemonSessions, TheNewestStreamServesWhateverOrderAcknowledgementsComeIn) {
  World w;
  StreamPtr a = w.dial_and_read_register(1);
  StreamPtr b = w.dial_and_read_register(2);
  World::acknowledge(*b);
  w.settle();
  World::acknowledge(*a, false);  // a stream the daemon must not take over from B (it closed it)
  w.settle();
  a->close();
  w.settle();
  ASSERT_TRUE(w.daemon->registered()) << "B is alive: the daemon is connected";

  const v1::GatewayFrame request = echo_request("req-1");
  ASSERT_TRUE(b->send(protocol::encode(request)).has_value());
  auto answer = w.next_frame(*b);
  ASSERT_TRUE(answer.has_value()) << "the answer went down no stream";
  ASSERT_TRUE(answer->has_tool_response());
  EXPECT_EQ(answer->tool_response().request_id(), "req-1");
}

// A newer stream closes the older session even before that one is acknowledged.
TEST(DaemonSessions, AcceptingAStreamClosesTheOlderOneStillRegistering) {
  World w;
  StreamPtr a = w.dial_and_read_register(1);
  StreamPtr b = w.dial_and_read_register(2);
  // Closed at once (well before the daemon's own 10 s registration deadline).
  std::optional<Result<std::string>> ended;
  w.scope.spawn(receive_into(a.get(), &ended));
  w.run_until([&] { return ended.has_value() || w.world.now() > sim::kSimEpoch + seconds(1); });
  ASSERT_TRUE(ended.has_value()) << "A is still open";
  EXPECT_FALSE(ended->has_value()) << "A was closed by the daemon";
  World::acknowledge(*b);
  w.settle();
  EXPECT_TRUE(w.daemon->registered());
}

// `--user-id`: a daemon that must serve one user refuses a registration for another (its token
// is someone else's) and serves nothing on that stream; the right user's registration is served.
TEST(DaemonSessions, ADaemonForOneUserRefusesARegistrationForAnother) {
  World w("user-frank");
  StreamPtr wrong = w.dial_and_read_register(1);
  World::acknowledge(*wrong);  // for user-erin
  w.settle();
  EXPECT_FALSE(w.next_frame(*wrong, seconds(1)).has_value()) << "the stream stays open";
  EXPECT_TRUE(w.daemon->user_id().empty());

  World right("user-erin");
  StreamPtr stream = right.dial_and_read_register(2);
  World::acknowledge(*stream);
  right.settle();
  EXPECT_EQ(right.daemon->user_id(), "user-erin");
}

// The read-only permission profile of a managed daemon: it announces the typed calls that only
// read, answers them, and refuses the others (a gateway that sent one anyway is told why).
TEST(DaemonSessions, AReadOnlyDaemonAnnouncesAndAnswersOnlyCallsThatRead) {
  World w("", /*read_only=*/true);
  v1::Register hello;
  StreamPtr stream = w.dial_and_read_register(1, &hello);
  ASSERT_GT(hello.methods_size(), 0);
  for (const auto& method : hello.methods()) {
    EXPECT_TRUE(method_only_reads(method)) << method << " is announced";
  }
  const auto announced = [&](std::string_view name) {
    return std::any_of(hello.methods().begin(), hello.methods().end(),
                       [&](const std::string& m) { return m.ends_with(name); });
  };
  EXPECT_TRUE(announced("/GetFileContent"));
  EXPECT_FALSE(announced("/SaveFileContent"));
  EXPECT_FALSE(announced("/OpenTerminal"));
  World::acknowledge(*stream);
  w.settle();
  v1::GatewayFrame write;
  write.mutable_command()->set_command_id("c1");
  write.mutable_command()->set_method("/reliant.api.v1.FileSystemService/SaveFileContent");
  ASSERT_TRUE(stream->send(protocol::encode(write)).has_value());
  auto answer = w.next_frame(*stream);
  ASSERT_TRUE(answer && answer->has_command_result());
  EXPECT_FALSE(answer->command_result().ok());
  EXPECT_EQ(answer->command_result().error_code(), "permission_denied");
  EXPECT_NE(answer->command_result().error_message().find("read-only"), std::string::npos);
}

// The dial key: a stream that does not show it (none, or another daemon's) is closed before a
// frame is sent on it, and the gateway's session goes on as if nothing had come.
TEST(DaemonSessions, AStreamWithoutTheDialKeyIsClosedUnservedAndTheGatewaysSessionLives) {
  World w("", false, "key-of-pod");
  StreamPtr gateway = w.dial_and_read_register(1);
  World::acknowledge(*gateway);
  w.settle();
  ASSERT_TRUE(w.daemon->registered());

  const Metadata strangers[] = {
      {},
      {{std::string(kDialKeyMetadata), "key-of-another-pod"}},
      {{std::string(kDialKeyMetadata), ""}},
      {{"authorization", "Bearer key-of-pod"}},  // the key, but not where a gateway puts it
  };
  std::uint64_t refused = 0;
  for (const Metadata& metadata : strangers) {
    std::optional<Result<StreamPtr>> out;
    w.scope.spawn(dial_into(&w.gw2_transport, metadata, &out));
    w.run_until([&] { return out.has_value(); });
    ASSERT_TRUE(out && out->has_value());
    StreamPtr stranger = std::move(**out);
    EXPECT_FALSE(w.next_frame(*stranger, seconds(1)).has_value()) << "it was sent a frame";
    EXPECT_EQ(w.daemon->strangers_refused(), ++refused);
  }
  EXPECT_TRUE(w.daemon->registered()) << "a stranger closed the gateway's session";
  const v1::GatewayFrame request = echo_request("req-after");
  ASSERT_TRUE(gateway->send(protocol::encode(request)).has_value());
  auto answer = w.next_frame(*gateway);
  ASSERT_TRUE(answer && answer->has_tool_response());
  EXPECT_EQ(answer->tool_response().request_id(), "req-after");
}

// A bus may deliver a command twice, the copy late: the daemon runs a command_id once. A copy
// that comes after the answer gets the first answer again when it was small enough to keep, and
// is told the command ran otherwise; it never runs again (a late copy of a write would put back
// what the writes after it replaced).
TEST(DaemonSessions, ACommandIdRunsOnceAndALateCopyGetsTheFirstAnswerOrIsRefused) {
  World w;
  StreamPtr stream = w.dial_and_read_register(1);
  World::acknowledge(*stream);
  w.settle();
  auto call = [&](const std::string& command_id, const std::string& method,
                  const google::protobuf::Message& request) {
    v1::GatewayFrame frame;
    frame.mutable_command()->set_command_id(command_id);
    frame.mutable_command()->set_method(method);
    frame.mutable_command()->set_request(protocol::encode(request));
    EXPECT_TRUE(stream->send(protocol::encode(frame)).has_value());
    auto answer = w.next_frame(*stream);
    EXPECT_TRUE(answer && answer->has_command_result());
    return answer ? answer->command_result() : v1::DaemonCommandResult();
  };
  const std::string save = "/reliant.api.v1.FileSystemService/SaveFileContent";
  const std::string get = "/reliant.api.v1.FileSystemService/GetFileContent";
  ::reliant::api::v1::SaveFileContentRequest small;
  small.set_path("/home/pod/notes.txt");
  small.set_content("first");
  const v1::DaemonCommandResult first = call("save-1", save, small);
  ASSERT_TRUE(first.ok()) << first.error_message();
  small.set_content("second");
  ASSERT_TRUE(call("save-2", save, small).ok());
  small.set_content("first");
  const v1::DaemonCommandResult copy = call("save-1", save, small);
  EXPECT_EQ(copy.SerializeAsString(), first.SerializeAsString()) << "the first answer again";
  ::reliant::api::v1::GetFileContentRequest read;
  read.set_path("/home/pod/notes.txt");
  const v1::DaemonCommandResult content = call("get-1", get, read);
  ASSERT_TRUE(content.ok());
  ::reliant::api::v1::GetFileContentResponse file;
  ASSERT_TRUE(file.ParseFromString(content.response()));
  EXPECT_EQ(file.content(), "second") << "the copy did not write again";

  ::reliant::api::v1::SaveFileContentRequest big;
  big.set_path("/home/pod/big.txt");
  big.set_content(std::string(100 * 1024, 'x'));
  ASSERT_TRUE(call("save-big", save, big).ok());
  read.set_path("/home/pod/big.txt");
  ASSERT_TRUE(call("get-big", get, read).ok());
  const v1::DaemonCommandResult refused = call("get-big", get, read);
  EXPECT_FALSE(refused.ok()) << "an answer too big to keep";
  EXPECT_EQ(refused.command_id(), "get-big");
  EXPECT_EQ(refused.error_code(), "already_exists");
}

// The gateway's side of a registered stream: it counts the daemon's frames and notes whether
// the stream ended (GatewaySide::receive), and sends a heartbeat every `period` saying it heard
// `percent` of them (100: all; fewer: a slow stream, whose count grows ever further behind what
// was sent; 0: none).
struct GatewaySide {
  std::uint64_t heard = 0;
  bool ended = false;

  Task<void> receive(Stream* stream) {
    for (;;) {
      Task<Result<std::string>> next = stream->receive();
      Result<std::string> bytes = co_await next;
      if (!bytes) break;
      if (protocol::decode<v1::DaemonFrame>(*bytes)) ++heard;
    }
    ended = true;
  }
  Task<void> beat(Executor* executor, Stream* stream, Duration period, std::uint64_t percent) {
    while (!ended) {
      co_await sleep(*executor, period);
      v1::GatewayFrame frame;
      frame.mutable_heartbeat()->set_frames_heard(heard * percent / 100);
      (void)stream->send(protocol::encode(frame));
    }
  }
};

// A stream can stall in the daemon's direction only (a one-way partition) while the gateway's
// frames still arrive: the daemon then hears no silence, and only the gateway's disconnect
// timeout would end it. A gateway that says how many frames it heard (RegisterAck.
// acks_heartbeats) lets the daemon see it: a count that stands still for stale_after and an
// interval while frames are outstanding ends the session, so that the daemon dials again. One
// that hears them keeps its session, late as it may hear them (a slow stream, whose oldest
// unheard frame grows ever older: 15 s at the end here), and so does an older gateway, which
// says nothing and never said it would.
TEST(DaemonSessions, FramesTheGatewayNoLongerHearsEndTheSession) {
  struct Case {
    const char* what;
    bool gateway_acks;
    std::uint64_t percent_heard;
    bool session_ends;
  };
  for (const Case c : {Case{"a gateway that hears nothing", true, 0, true},
                       Case{"a gateway that hears every frame", true, 100, false},
                       Case{"a gateway that hears half of them, ever later", true, 50, false},
                       Case{"an older gateway", false, 0, false}}) {
    SCOPED_TRACE(c.what);
    World w("", false, "", seconds(3));
    StreamPtr stream = w.dial_and_read_register(1);
    v1::GatewayFrame ack;
    ack.mutable_register_ack()->set_daemon_id("pod-daemon");
    ack.mutable_register_ack()->set_user_id("user-erin");
    ack.mutable_register_ack()->set_heartbeat_interval_ms(1'000);
    ack.mutable_register_ack()->set_acks_heartbeats(c.gateway_acks);
    ASSERT_TRUE(stream->send(protocol::encode(ack)).has_value());
    GatewaySide gateway;
    w.scope.spawn(gateway.receive(stream.get()));
    w.scope.spawn(gateway.beat(&w.gw_exec, stream.get(), milliseconds(500), c.percent_heard));
    const Instant start = w.world.now();
    w.run_until([&] { return gateway.ended || w.world.now() > start + seconds(30); });
    EXPECT_GE(gateway.heard, 3u) << "the daemon heartbeats every second";
    EXPECT_EQ(gateway.ended, c.session_ends);
    if (c.session_ends) {
      // The first frame unheard, then stale_after and an interval, checked at the next
      // heartbeat.
      EXPECT_LE(w.world.now() - start, seconds(6));
      EXPECT_FALSE(w.daemon->registered());
    } else {
      EXPECT_TRUE(w.daemon->registered());
    }
  }
}

}  // namespace
}  // namespace reliant::daemon
