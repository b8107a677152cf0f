// The Transport contract (runtime/transport.h), one typed suite for every Transport: the
// simulator's streams and gRPC must agree on what a stream does — order, metadata, how it ends,
// what each side sees of an end — or a scenario proves things about a transport nobody ships.
//
// A harness type N provides:
//   N()                                         two endpoints: one that listens, one that dials
//   Transport& listening(), Transport& dialing()
//   std::string listen_address()                an address `listening()` may listen on
//   std::string dial_address(const Listener&)   how the dialer reaches that listener
//   std::string nobody_address()                an address nobody listens on
//   std::string dialer_frame(std::uint64_t n)   a frame the dialer may send, carrying n
//   std::string acceptor_frame(std::uint64_t n) the same for the acceptor
//   std::uint64_t number_in(const std::string&) n back from either kind of frame
//   Scope& scope()                              where the suite's tasks run
//   bool run_until(std::function<bool()>, Duration limit)   runs the endpoints until it holds
//   void run_for(Duration)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/scope.h"
#include "runtime/transport.h"
#include "unit/support/await_into.h"

namespace reliant::contract {

namespace transport_detail {

// Reads until the stream ends or `count` frames came.
inline Task<void> read_frames(Stream& stream, std::size_t count, std::vector<std::string>* frames,
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

}  // namespace transport_detail

template <class N>
class TransportContract : public ::testing::Test {
 protected:
  N net;

  // A listener and one stream dialed into it.
  struct Pair {
    ListenerPtr listener;
    StreamPtr accepted;
    StreamPtr dialed;
    // Streams accepted later (the handler outlives connect()).
    std::shared_ptr<std::vector<StreamPtr>> later = std::make_shared<std::vector<StreamPtr>>();
  };

  Result<StreamPtr> dial(std::string address, Metadata metadata = {},
                         Duration timeout = seconds(3)) {
    std::optional<Result<StreamPtr>> out;
    net.scope().spawn(
        await_into(net.dialing().dial(std::move(address), std::move(metadata), timeout), &out));
    EXPECT_TRUE(net.run_until([&] { return out.has_value(); }, seconds(20)));
    if (!out) return fail(ErrorCode::internal, "the dial never completed");
    return std::move(*out);
  }

  Result<std::string> receive(Stream& stream) {
    std::optional<Result<std::string>> out;
    net.scope().spawn(await_into(stream.receive(), &out));
    EXPECT_TRUE(net.run_until([&] { return out.has_value(); }, seconds(10)));
    if (!out) return fail(ErrorCode::internal, "the receive never completed");
    return std::move(*out);
  }

  Pair connect(Metadata metadata = {}) {
    Pair pair;
    auto listener = net.listening().listen(
        net.listen_address(),
        [later = pair.later](StreamPtr stream) { later->push_back(std::move(stream)); });
    EXPECT_TRUE(listener.has_value()) << listener.error().describe();
    if (!listener) return pair;
    pair.listener = std::move(*listener);
    auto dialed = dial(net.dial_address(*pair.listener), std::move(metadata));
    EXPECT_TRUE(dialed.has_value()) << dialed.error().describe();
    if (!dialed) return pair;
    pair.dialed = std::move(*dialed);
    EXPECT_TRUE(net.run_until([&] { return !pair.later->empty(); }, seconds(10)))
        << "the listener never saw the dialed stream";
    if (!pair.later->empty()) {
      pair.accepted = std::move(pair.later->front());
      pair.later->clear();
    }
    return pair;
  }

  // Counts on_close calls and keeps their errors.
  struct Ends {
    std::vector<Error> errors;
    std::function<void(const Error&)> callback() {
      return [this](const Error& e) { errors.push_back(e); };
    }
  };
};

TYPED_TEST_SUITE_P(TransportContract);

TYPED_TEST_P(TransportContract, TheDialersMetadataReachesBothSides) {
  auto pair = this->connect({{"authorization", "Bearer rlnt_pat_abc"}, {"x-daemon-name", "lap"}});
  ASSERT_TRUE(pair.accepted && pair.dialed);
  EXPECT_EQ(pair.accepted->metadata().at("authorization"), "Bearer rlnt_pat_abc");
  EXPECT_EQ(pair.accepted->metadata().at("x-daemon-name"), "lap");
  EXPECT_EQ(pair.dialed->metadata().at("authorization"), "Bearer rlnt_pat_abc");
  EXPECT_FALSE(pair.accepted->peer().empty());
  EXPECT_FALSE(pair.dialed->peer().empty());
}

TYPED_TEST_P(TransportContract, FramesArriveInOrderBothWays) {
  auto pair = this->connect();
  ASSERT_TRUE(pair.accepted && pair.dialed);
  constexpr std::size_t kFrames = 300;
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_TRUE(pair.dialed->send(this->net.dialer_frame(i)).has_value());
    ASSERT_TRUE(pair.accepted->send(this->net.acceptor_frame(i)).has_value());
  }
  std::vector<std::string> up, down;
  std::optional<Error> up_end, down_end;
  this->net.scope().spawn(transport_detail::read_frames(*pair.accepted, kFrames, &up, &up_end));
  this->net.scope().spawn(transport_detail::read_frames(*pair.dialed, kFrames, &down, &down_end));
  ASSERT_TRUE(this->net.run_until([&] { return up.size() == kFrames && down.size() == kFrames; },
                                  seconds(20)));
  for (std::size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(this->net.number_in(up[i]), i);
    ASSERT_EQ(this->net.number_in(down[i]), i);
  }
  EXPECT_FALSE(up_end || down_end);
}

// The dialer closes with frames queued: the acceptor reads every one, then `closed`; both sides'
// on_close fire once; neither side can send any more.
TYPED_TEST_P(TransportContract, ADialersCloseDeliversItsQueuedFramesFirstAtBothEnds) {
  auto pair = this->connect();
  ASSERT_TRUE(pair.accepted && pair.dialed);
  typename TestFixture::Ends accepted_ends, dialed_ends;
  pair.accepted->on_close(accepted_ends.callback());
  pair.dialed->on_close(dialed_ends.callback());
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(pair.dialed->send(this->net.dialer_frame(i)).has_value());
  }
  pair.dialed->close();
  pair.dialed->close();  // idempotent
  auto after = pair.dialed->send(this->net.dialer_frame(9));
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::closed);
  std::vector<std::string> frames;
  std::optional<Error> end;
  this->net.scope().spawn(transport_detail::read_frames(*pair.accepted, 100, &frames, &end));
  ASSERT_TRUE(this->net.run_until([&] { return end.has_value(); }, seconds(10)));
  ASSERT_EQ(frames.size(), 5u) << "frames sent before the close are delivered before the end";
  for (std::uint64_t i = 0; i < 5; ++i) EXPECT_EQ(this->net.number_in(frames[i]), i);
  EXPECT_EQ(end->code, ErrorCode::closed);
  auto dialed_end = this->receive(*pair.dialed);
  ASSERT_FALSE(dialed_end.has_value());
  EXPECT_EQ(dialed_end.error().code, ErrorCode::closed);
  ASSERT_TRUE(this->net.run_until(
      [&] { return !accepted_ends.errors.empty() && !dialed_ends.errors.empty(); }, seconds(10)));
  auto late = pair.accepted->send(this->net.acceptor_frame(1));
  ASSERT_FALSE(late.has_value()) << "the acceptor knows its peer closed";
  EXPECT_EQ(late.error().code, ErrorCode::closed);
  pair.accepted->close();
  this->net.run_for(milliseconds(50));
  EXPECT_EQ(accepted_ends.errors.size(), 1u);
  EXPECT_EQ(dialed_ends.errors.size(), 1u);
}

// The same from the other end: what the acceptor queued before closing reaches the dialer first.
TYPED_TEST_P(TransportContract, AnAcceptorsCloseDeliversItsQueuedFramesFirstAtBothEnds) {
  auto pair = this->connect();
  ASSERT_TRUE(pair.accepted && pair.dialed);
  typename TestFixture::Ends accepted_ends, dialed_ends;
  pair.accepted->on_close(accepted_ends.callback());
  pair.dialed->on_close(dialed_ends.callback());
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(pair.accepted->send(this->net.acceptor_frame(i)).has_value());
  }
  pair.accepted->close();
  auto after = pair.accepted->send(this->net.acceptor_frame(9));
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, ErrorCode::closed);
  std::vector<std::string> frames;
  std::optional<Error> end;
  this->net.scope().spawn(transport_detail::read_frames(*pair.dialed, 100, &frames, &end));
  ASSERT_TRUE(this->net.run_until([&] { return end.has_value(); }, seconds(10)));
  ASSERT_EQ(frames.size(), 5u) << "frames sent before the close are delivered before the end";
  for (std::uint64_t i = 0; i < 5; ++i) EXPECT_EQ(this->net.number_in(frames[i]), i);
  EXPECT_EQ(end->code, ErrorCode::closed);
  auto accepted_end = this->receive(*pair.accepted);
  ASSERT_FALSE(accepted_end.has_value());
  EXPECT_EQ(accepted_end.error().code, ErrorCode::closed);
  ASSERT_TRUE(this->net.run_until(
      [&] { return !accepted_ends.errors.empty() && !dialed_ends.errors.empty(); }, seconds(10)));
  this->net.run_for(milliseconds(50));
  EXPECT_EQ(accepted_ends.errors.size(), 1u);
  EXPECT_EQ(dialed_ends.errors.size(), 1u);
}

TYPED_TEST_P(TransportContract, DestroyingAStreamEndsThePeers) {
  auto pair = this->connect();
  ASSERT_TRUE(pair.accepted && pair.dialed);
  typename TestFixture::Ends accepted_ends;
  pair.accepted->on_close(accepted_ends.callback());
  pair.dialed.reset();
  auto end = this->receive(*pair.accepted);
  ASSERT_FALSE(end.has_value());
  EXPECT_EQ(end.error().code, ErrorCode::closed);
  ASSERT_TRUE(this->net.run_until([&] { return !accepted_ends.errors.empty(); }, seconds(10)));
  this->net.run_for(milliseconds(50));
  EXPECT_EQ(accepted_ends.errors.size(), 1u);
}

TYPED_TEST_P(TransportContract, DialingWhereNobodyListensIsUnavailable) {
  auto dialed = this->dial(this->net.nobody_address(), {}, seconds(3));
  ASSERT_FALSE(dialed.has_value());
  EXPECT_EQ(dialed.error().code, ErrorCode::unavailable) << dialed.error().describe();
}

TYPED_TEST_P(TransportContract, ListeningOnATakenAddressIsRefused) {
  auto first = this->net.listening().listen(this->net.listen_address(), [](StreamPtr) {});
  ASSERT_TRUE(first.has_value()) << first.error().describe();
  auto taken = this->net.listening().listen((*first)->address(), [](StreamPtr) {});
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::already_exists);
}

// A listener's end stops new streams, not the ones it accepted.
TYPED_TEST_P(TransportContract, StreamsOutliveTheirListener) {
  auto pair = this->connect();
  ASSERT_TRUE(pair.accepted && pair.dialed);
  const std::string address = this->net.dial_address(*pair.listener);
  pair.listener.reset();
  ASSERT_TRUE(pair.dialed->send(this->net.dialer_frame(3)).has_value());
  auto up = this->receive(*pair.accepted);
  ASSERT_TRUE(up.has_value()) << up.error().describe();
  EXPECT_EQ(this->net.number_in(*up), 3u);
  ASSERT_TRUE(pair.accepted->send(this->net.acceptor_frame(4)).has_value());
  auto down = this->receive(*pair.dialed);
  ASSERT_TRUE(down.has_value()) << down.error().describe();
  EXPECT_EQ(this->net.number_in(*down), 4u);
  auto refused = this->dial(address, {}, seconds(2));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable) << refused.error().describe();
}

REGISTER_TYPED_TEST_SUITE_P(TransportContract, TheDialersMetadataReachesBothSides,
                            FramesArriveInOrderBothWays,
                            ADialersCloseDeliversItsQueuedFramesFirstAtBothEnds,
                            AnAcceptorsCloseDeliversItsQueuedFramesFirstAtBothEnds,
                            DestroyingAStreamEndsThePeers, DialingWhereNobodyListensIsUnavailable,
                            ListeningOnATakenAddressIsRefused, StreamsOutliveTheirListener);

}  // namespace reliant::contract
