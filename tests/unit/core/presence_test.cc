// Presence: the gateway's status machine for one daemon stream (active ⇄ idle → disconnected).
#include "core/presence.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

const SteadyInstant kStart = SteadyInstant(seconds(1'000));
const PresencePolicy policy{seconds(30), minutes(2)};

TEST(Presence, StartsActiveAndStaysActiveWhileHeard) {
  Presence p(policy, kStart);
  EXPECT_EQ(p.status(), DaemonStatus::active);
  for (int i = 1; i <= 10; ++i) {
    const SteadyInstant now = kStart + seconds(15) * i;
    EXPECT_EQ(p.on_heard(now), std::nullopt);
    EXPECT_EQ(p.on_tick(now), std::nullopt);
    EXPECT_EQ(p.last_heard(), now);
  }
  EXPECT_EQ(p.status(), DaemonStatus::active);
}

TEST(Presence, SilentForStaleAfterBecomesIdleOnceThenActiveWhenHeard) {
  Presence p(policy, kStart);
  EXPECT_EQ(p.on_tick(kStart + seconds(29)), std::nullopt);
  EXPECT_EQ(p.on_tick(kStart + seconds(30)), DaemonStatus::idle);
  EXPECT_EQ(p.on_tick(kStart + seconds(31)), std::nullopt);  // a change is reported once
  EXPECT_EQ(p.status(), DaemonStatus::idle);
  EXPECT_EQ(p.on_heard(kStart + seconds(40)), DaemonStatus::active);
  EXPECT_EQ(p.on_heard(kStart + seconds(41)), std::nullopt);
  // Stale is measured from the last sign of life, not from the connection.
  EXPECT_EQ(p.on_tick(kStart + seconds(70)), std::nullopt);
  EXPECT_EQ(p.on_tick(kStart + seconds(71)), DaemonStatus::idle);
}

TEST(Presence, PresumedDeadAfterDisconnectAfterOfSilence) {
  Presence p(policy, kStart);
  EXPECT_FALSE(p.presumed_dead(kStart + seconds(119)));
  EXPECT_TRUE(p.presumed_dead(kStart + minutes(2)));
  (void)p.on_heard(kStart + minutes(2));
  EXPECT_FALSE(p.presumed_dead(kStart + minutes(3)));
}

TEST(Presence, DisconnectIsFinal) {
  Presence p(policy, kStart);
  EXPECT_EQ(p.on_disconnect(), DaemonStatus::disconnected);
  EXPECT_EQ(p.on_disconnect(), std::nullopt);
  // A late frame or tick changes nothing, and a closed stream is not "presumed dead" again.
  EXPECT_EQ(p.on_heard(kStart + seconds(1)), std::nullopt);
  EXPECT_EQ(p.on_tick(kStart + minutes(5)), std::nullopt);
  EXPECT_FALSE(p.presumed_dead(kStart + minutes(5)));
  EXPECT_EQ(p.status(), DaemonStatus::disconnected);
}

TEST(Presence, IdleThenDisconnect) {
  Presence p(policy, kStart);
  EXPECT_EQ(p.on_tick(kStart + seconds(45)), DaemonStatus::idle);
  EXPECT_EQ(p.on_disconnect(), DaemonStatus::disconnected);
}

TEST(Presence, NextDeadlineIsWhenTheAnswerCanChange) {
  Presence p(policy, kStart);
  EXPECT_EQ(p.next_deadline(), kStart + seconds(30));  // active: the stale deadline
  (void)p.on_heard(kStart + seconds(10));
  EXPECT_EQ(p.next_deadline(), kStart + seconds(40));
  (void)p.on_tick(kStart + seconds(40));
  EXPECT_EQ(p.status(), DaemonStatus::idle);
  EXPECT_EQ(p.next_deadline(), kStart + seconds(10) + minutes(2));  // idle: the presumed-dead one
}

TEST(Presence, AnOlderFrameDoesNotMoveLastHeardBack) {
  Presence p(policy, kStart + seconds(5));
  (void)p.on_heard(kStart);
  EXPECT_EQ(p.last_heard(), kStart + seconds(5));
}

TEST(PresenceDeathTest, PolicyMustIdleBeforeItGivesUp) {
  EXPECT_DEATH({ Presence p(PresencePolicy{seconds(30), seconds(30)}, kStart); }, "");
  EXPECT_DEATH({ Presence p(PresencePolicy{Duration::zero(), seconds(30)}, kStart); }, "");
}

TEST(Presence, StatusNames) {
  EXPECT_EQ(to_string(DaemonStatus::active), "active");
  EXPECT_EQ(to_string(DaemonStatus::idle), "idle");
  EXPECT_EQ(to_string(DaemonStatus::disconnected), "disconnected");
}

}  // namespace
}  // namespace reliant
