// Simulated streams: dial/accept, ordered frames, close, refused, partition, reset, half-open.
#include "sim/sim_transport.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "runtime/scope.h"

namespace reliant::sim {
namespace {

struct Net {
  World world{1};
  Network network{milliseconds(1), milliseconds(5)};
  SimStreams streams{world, network};
  NodeId server_node = world.add_node("server");
  NodeId client_node = world.add_node("client");
  SimExecutor server_exec{world, server_node};
  SimExecutor client_exec{world, client_node};
  SimTransport server{streams, server_exec};
  SimTransport client{streams, client_exec};
  void settle() { world.run_until(world.now() + seconds(30)); }
};

Task<void> dial_into(Transport& t, std::string address, std::optional<Result<StreamPtr>>* out) {
  Metadata metadata{{"authorization", "Bearer t"}};
  Result<StreamPtr> stream = co_await t.dial(std::move(address), std::move(metadata), seconds(2));
  *out = std::move(stream);
}

Task<void> read_all(Stream& stream, std::vector<std::string>* frames, std::optional<Error>* end) {
  for (;;) {
    Result<std::string> frame = co_await stream.receive();
    if (!frame) {
      *end = frame.error();
      co_return;
    }
    frames->push_back(*frame);
  }
}

// A connected pair: `accepted` on the server, `dialed` on the client.
struct Pair {
  StreamPtr accepted;
  StreamPtr dialed;
  ListenerPtr listener;
};

Pair connect(Net& net, Scope& client_scope) {
  Pair pair;
  auto listener =
      net.server.listen("server:7000", [&pair](StreamPtr s) { pair.accepted = std::move(s); });
  EXPECT_TRUE(listener.has_value());
  pair.listener = std::move(*listener);
  std::optional<Result<StreamPtr>> dialed;
  client_scope.spawn(dial_into(net.client, "server:7000", &dialed));
  net.settle();
  EXPECT_TRUE(dialed.has_value() && dialed->has_value());
  if (dialed && *dialed) pair.dialed = std::move(**dialed);
  EXPECT_TRUE(pair.accepted);
  return pair;
}

TEST(SimStreams, FramesArriveInOrderAndMetadataTravels) {
  Net net;
  Scope client_scope(net.client_exec);
  Scope server_scope(net.server_exec);
  Pair pair = connect(net, client_scope);
  EXPECT_EQ(pair.accepted->metadata().at("authorization"), "Bearer t");
  EXPECT_EQ(pair.accepted->peer(), "client");
  std::vector<std::string> frames;
  std::optional<Error> end;
  server_scope.spawn(read_all(*pair.accepted, &frames, &end));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pair.dialed->send(std::to_string(i)));
  pair.dialed->close();
  net.settle();
  ASSERT_EQ(frames.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(frames[static_cast<std::size_t>(i)], std::to_string(i));
  ASSERT_TRUE(end.has_value()) << "the close arrives after every frame sent before it";
  EXPECT_EQ(end->code, ErrorCode::closed);
  EXPECT_FALSE(pair.dialed->send("after close"));
}

TEST(SimStreams, DialWithNobodyListeningIsRefused) {
  Net net;
  Scope scope(net.client_exec);
  std::optional<Result<StreamPtr>> dialed;
  scope.spawn(dial_into(net.client, "server:7000", &dialed));
  net.settle();
  ASSERT_TRUE(dialed.has_value());
  ASSERT_FALSE(dialed->has_value());
  EXPECT_EQ(dialed->error().code, ErrorCode::unavailable);
}

TEST(SimStreams, DialAcrossAPartitionTimesOut) {
  Net net;
  Scope scope(net.client_exec);
  auto listener = net.server.listen("server:7000", [](StreamPtr) {});
  net.network.block(net.client_node, net.server_node);
  std::optional<Result<StreamPtr>> dialed;
  scope.spawn(dial_into(net.client, "server:7000", &dialed));
  net.settle();
  ASSERT_TRUE(dialed.has_value());
  ASSERT_FALSE(dialed->has_value());
  EXPECT_EQ(dialed->error().code, ErrorCode::timeout);
}

TEST(SimStreams, ListenRejectsTakenAndMalformedAddresses) {
  Net net;
  auto first = net.server.listen("server:7000", [](StreamPtr) {});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(net.server.listen("server:7000", [](StreamPtr) {}).error().code,
            ErrorCode::already_exists);
  EXPECT_EQ(net.server.listen("no-port", [](StreamPtr) {}).error().code,
            ErrorCode::invalid_argument);
  first->reset();
  EXPECT_TRUE(net.server.listen("server:7000", [](StreamPtr) {}).has_value())
      << "freed when the listener goes";
}

TEST(SimStreams, ResetEndsBothSidesAndFiresOnClose) {
  Net net;
  Scope client_scope(net.client_exec);
  Pair pair = connect(net, client_scope);
  int closes = 0;
  pair.accepted->on_close([&](const Error&) { ++closes; });
  pair.dialed->on_close([&](const Error&) { ++closes; });
  ASSERT_TRUE(net.streams.reset_random_link());
  net.settle();
  EXPECT_EQ(closes, 2);
  EXPECT_EQ(pair.dialed->send("x").error().code, ErrorCode::closed);
}

TEST(SimStreams, HalfOpenLosesFramesSilently) {
  Net net;
  Scope client_scope(net.client_exec);
  Scope server_scope(net.server_exec);
  Pair pair = connect(net, client_scope);
  int closes = 0;
  pair.accepted->on_close([&](const Error&) { ++closes; });
  std::vector<std::string> frames;
  std::optional<Error> end;
  server_scope.spawn(read_all(*pair.accepted, &frames, &end));
  ASSERT_TRUE(net.streams.break_random_link());
  EXPECT_TRUE(pair.dialed->send("lost")) << "the sender cannot tell";
  pair.dialed->close();
  net.settle();
  EXPECT_TRUE(frames.empty());
  EXPECT_FALSE(end.has_value()) << "nobody tells the receiver: only heartbeats can";
  EXPECT_EQ(closes, 0);
}

TEST(SimStreams, APartitionStallsTheStreamForGood) {
  Net net;
  Scope client_scope(net.client_exec);
  Scope server_scope(net.server_exec);
  Pair pair = connect(net, client_scope);
  std::vector<std::string> frames;
  std::optional<Error> end;
  server_scope.spawn(read_all(*pair.accepted, &frames, &end));
  ASSERT_TRUE(pair.dialed->send("before"));
  net.settle();
  net.network.block(net.client_node, net.server_node);
  ASSERT_TRUE(pair.dialed->send("during"));
  net.network.heal_partitions();
  ASSERT_TRUE(pair.dialed->send("after"));
  net.settle();
  // Never a gap: once a frame is lost, no later frame of that direction arrives.
  EXPECT_EQ(frames, (std::vector<std::string>{"before"}));
}

TEST(SimStreams, DestroyingAnEndpointClosesThePeer) {
  Net net;
  Scope client_scope(net.client_exec);
  Scope server_scope(net.server_exec);
  Pair pair = connect(net, client_scope);
  std::vector<std::string> frames;
  std::optional<Error> end;
  server_scope.spawn(read_all(*pair.accepted, &frames, &end));
  pair.dialed.reset();
  net.settle();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, ErrorCode::closed);
}

// Protocol faults: a malformed frame goes ahead of each real one, which still arrives, in order.
// A cut-off copy never ends at a top-level protobuf field boundary: no decoder takes it whole.
TEST(SimStreams, MalformedFramesGoAheadOfRealOnesAndCutOffCopiesNeverParse) {
  Net net;
  net.network.stream_faults() = StreamFaults{0, 1, 0};  // truncated only, every frame
  Scope client_scope(net.client_exec);
  Scope server_scope(net.server_exec);
  Pair pair = connect(net, client_scope);
  std::vector<std::string> frames;
  std::optional<Error> end;
  server_scope.spawn(read_all(*pair.accepted, &frames, &end));
  // Field 1 (varint 150), then field 2 (length-delimited "hello"): boundaries at 0, 3 and 10.
  const std::string message = std::string("\x08\x96\x01\x12\x05hello", 10);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(pair.dialed->send(message));
  net.settle();
  ASSERT_EQ(frames.size(), 80u);
  EXPECT_EQ(net.streams.stats().truncated, 40u);
  for (std::size_t i = 0; i < frames.size(); i += 2) {
    EXPECT_EQ(frames[i + 1], message);
    EXPECT_EQ(message.rfind(frames[i], 0), 0u) << "a prefix of the frame";
    EXPECT_NE(frames[i].size(), 3u) << "never cut at a field boundary";
    EXPECT_GT(frames[i].size(), 0u);
    EXPECT_LT(frames[i].size(), message.size());
  }

  net.network.stream_faults() = StreamFaults{1, 0, 1};  // garbage and unknown frames
  frames.clear();
  ASSERT_TRUE(pair.dialed->send(message));
  net.settle();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[2], message);
  // The unknown frame: field 15001, length-delimited (tag varint 0xca 0xa9 0x07).
  EXPECT_EQ(frames[1].substr(0, 3), std::string("\xca\xa9\x07", 3));
  EXPECT_EQ(static_cast<std::size_t>(frames[1][3]), frames[1].size() - 4);
}

}  // namespace
}  // namespace reliant::sim
