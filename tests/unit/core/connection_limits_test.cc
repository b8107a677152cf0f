// The connection caps' admission and eviction rules: a client that keeps reconnecting displaces
// only its own address's unauthenticated connections, a flood over many addresses leaves a new
// address its place, authenticated connections are never closed while busy, and a refusal
// closes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/connection_limits.h"

namespace reliant {
namespace {

using Id = ConnectionLimits::Id;

ConnectionLimitsConfig caps(std::size_t total, std::size_t pool, std::size_t per_address) {
  return ConnectionLimitsConfig{total, pool, per_address};
}

// Admits and checks that it was admitted.
Id admitted(ConnectionLimits& limits, const std::string& address,
            std::vector<Id>* evicted = nullptr) {
  ConnectionLimits::Admission admission = limits.admit(address);
  EXPECT_NE(admission.id, 0u) << address;
  if (evicted != nullptr) *evicted = admission.evicted;
  return admission.id;
}

TEST(ConnectionLimits, AReconnectingClientAtThePerAddressCapDisplacesOnlyItsOwnOldest) {
  ConnectionLimits limits(caps(4096, 128, 4));
  std::vector<Id> flood;
  for (int i = 0; i < 4; ++i) flood.push_back(admitted(limits, "127.0.0.1"));
  // Another client of the same address gets in; the oldest idle connection goes.
  std::vector<Id> evicted;
  const Id legit = admitted(limits, "127.0.0.1", &evicted);
  EXPECT_EQ(evicted, std::vector<Id>{flood[0]});
  // It authenticates and is answered (busy): the flood reconnecting many times over displaces
  // only the flood's connections.
  limits.authenticate(legit);
  limits.set_busy(legit, true);
  for (int i = 0; i < 1000; ++i) {
    const ConnectionLimits::Admission again = limits.admit("127.0.0.1");
    ASSERT_NE(again.id, 0u);
    ASSERT_EQ(again.evicted.size(), 1u);
    ASSERT_NE(again.evicted[0], legit);
  }
  EXPECT_TRUE(limits.contains(legit));
  EXPECT_EQ(limits.open_from("127.0.0.1"), 4u);
  // Even idle between two requests, it is not taken while unauthenticated ones remain.
  limits.set_busy(legit, false);
  std::vector<Id> next;
  admitted(limits, "127.0.0.1", &next);
  EXPECT_NE(next[0], legit);
}

TEST(ConnectionLimits, AnUnauthenticatedNewcomerOfTheFloodedAddressOutlivesOlderFloodConnections) {
  ConnectionLimits limits(caps(4096, 128, 256));
  for (int i = 0; i < 256; ++i) admitted(limits, "127.0.0.1");
  const Id legit = admitted(limits, "127.0.0.1");
  // The pool (128) is full of the flood's connections: each reconnect closes the oldest, so the
  // newcomer has 127 reconnects' time to send its credential.
  for (int i = 0; i < 127; ++i) admitted(limits, "127.0.0.1");
  EXPECT_TRUE(limits.contains(legit));
  admitted(limits, "127.0.0.1");
  EXPECT_FALSE(limits.contains(legit));
}

// A client sends its request at once; an idle flood never does. Once it spoke, the newcomer
// outlasts the flood's silent connections of its own address however long the flood goes on;
// before, and against a flood that speaks too, it gets the pool's turn like any other.
TEST(ConnectionLimits, AClientThatSpokeOutlastsAnIdleFloodOfItsOwnAddress) {
  ConnectionLimits limits(caps(4096, 64, 0));
  for (int i = 0; i < 200; ++i) admitted(limits, "127.0.0.1");
  const Id spoke = admitted(limits, "127.0.0.1");
  const Id silent = admitted(limits, "127.0.0.1");
  limits.mark_spoken(spoke);
  for (int i = 0; i < 10000; ++i) admitted(limits, "127.0.0.1");
  EXPECT_TRUE(limits.contains(spoke));
  EXPECT_FALSE(limits.contains(silent));

  // A flood that speaks: the newcomer, silent for a moment, has half the pool's admissions to
  // speak before it counts as idle.
  ConnectionLimits talking(caps(4096, 64, 0));
  for (int i = 0; i < 200; ++i) talking.mark_spoken(admitted(talking, "127.0.0.1"));
  const Id newcomer = admitted(talking, "127.0.0.1");
  for (int i = 0; i < 31; ++i) talking.mark_spoken(admitted(talking, "127.0.0.1"));
  EXPECT_TRUE(talking.contains(newcomer)) << "31 admissions after it";
  talking.mark_spoken(newcomer);
  for (int i = 0; i < 31; ++i) talking.mark_spoken(admitted(talking, "127.0.0.1"));
  EXPECT_TRUE(talking.contains(newcomer)) << "then it goes in its turn, the oldest first";
}

TEST(ConnectionLimits, AFloodOverTwentyAddressesLeavesAnotherAddressItsPlace) {
  ConnectionLimits limits(caps(4096, 128, 256));
  for (int i = 0; i < 4096; ++i) {
    ConnectionLimits::Admission a = limits.admit("127.0.0." + std::to_string(1 + i % 20));
    ASSERT_NE(a.id, 0u) << i;
  }
  EXPECT_EQ(limits.open(), 128u);
  const Id other = admitted(limits, "127.0.0.21");
  // The flood goes on: its own addresses, holding the most, give up their connections.
  for (int i = 0; i < 10000; ++i) admitted(limits, "127.0.0." + std::to_string(1 + i % 20));
  EXPECT_TRUE(limits.contains(other));
  EXPECT_FALSE(limits.is_authenticated(other));
}

TEST(ConnectionLimits, BusyAuthenticatedConnectionsAreNeverClosedAndTheNewOneIsRefused) {
  ConnectionLimits limits(caps(3, 2, 0));
  std::vector<Id> streams;
  for (int i = 0; i < 3; ++i) {
    const Id id = admitted(limits, "10.0.0." + std::to_string(i));
    limits.authenticate(id);
    limits.set_busy(id, true);
    streams.push_back(id);
  }
  const ConnectionLimits::Admission refused = limits.admit("10.0.0.9");
  EXPECT_EQ(refused.id, 0u);
  EXPECT_TRUE(refused.evicted.empty());
  // One goes idle between two requests: it makes room, oldest idle first.
  limits.set_busy(streams[1], false);
  std::vector<Id> evicted;
  admitted(limits, "10.0.0.9", &evicted);
  EXPECT_EQ(evicted, std::vector<Id>{streams[1]});
  EXPECT_EQ(limits.open(), 3u);
}

TEST(ConnectionLimits, BusyUnauthenticatedConnectionsAreKeptAndAFullPoolOfThemRefuses) {
  ConnectionLimits limits(caps(100, 2, 0));
  const Id a = admitted(limits, "10.0.0.1");
  const Id b = admitted(limits, "10.0.0.2");
  limits.set_busy(a, true);  // being answered (a sign-in, /health)
  limits.set_busy(b, true);
  EXPECT_EQ(limits.admit("10.0.0.3").id, 0u);
  limits.set_busy(b, false);
  std::vector<Id> evicted;
  admitted(limits, "10.0.0.3", &evicted);
  EXPECT_EQ(evicted, std::vector<Id>{b});
  EXPECT_TRUE(limits.contains(a));
}

TEST(ConnectionLimits, AuthenticatedConnectionsLeaveThePool) {
  ConnectionLimits limits(caps(100, 2, 0));
  for (int i = 0; i < 50; ++i) {
    const Id id = admitted(limits, "10.0.0.1");
    limits.authenticate(id);
    limits.set_busy(id, true);
  }
  EXPECT_EQ(limits.unauthenticated(), 0u);
  admitted(limits, "10.0.0.2");
  admitted(limits, "10.0.0.2");
  EXPECT_EQ(limits.unauthenticated(), 2u);
  EXPECT_EQ(limits.open(), 52u);
}

TEST(ConnectionLimits, ARefusalAtThePoolClosesNothingEvenWhenTheTotalCouldMakeRoom) {
  // Total full with one idle authenticated connection, the pool full of busy ones: closing the
  // authenticated one would not make room in the pool, so nothing is closed.
  ConnectionLimits limits(caps(3, 2, 0));
  const Id idle = admitted(limits, "10.0.0.1");
  limits.authenticate(idle);
  const Id a = admitted(limits, "10.0.0.2");
  const Id b = admitted(limits, "10.0.0.3");
  limits.set_busy(a, true);
  limits.set_busy(b, true);
  const ConnectionLimits::Admission refused = limits.admit("10.0.0.4");
  EXPECT_EQ(refused.id, 0u);
  EXPECT_TRUE(refused.evicted.empty());
  EXPECT_TRUE(limits.contains(idle));
}

TEST(ConnectionLimits, ForgettingCountsDownAndIgnoresEvictedIds) {
  ConnectionLimits limits(caps(1, 1, 0));
  const Id first = admitted(limits, "10.0.0.1");
  std::vector<Id> evicted;
  const Id second = admitted(limits, "10.0.0.1", &evicted);
  EXPECT_EQ(evicted, std::vector<Id>{first});
  limits.forget(first);  // the evicted connection's close arrives later: nothing changes
  EXPECT_EQ(limits.open(), 1u);
  limits.forget(second);
  EXPECT_EQ(limits.open(), 0u);
  EXPECT_EQ(limits.open_from("10.0.0.1"), 0u);
  limits.authenticate(second);  // unknown ids are ignored
  limits.set_busy(second, true);
  EXPECT_EQ(limits.unauthenticated(), 0u);
}

}  // namespace
}  // namespace reliant
