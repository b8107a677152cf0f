// SendProgress: a stream stalls when the gateway hears no more of what was sent, not when what
// it hears is old — through counts that come late, repeat, or run past what was sent.
#include "services/daemon/send_progress.h"

#include <gtest/gtest.h>

namespace reliant::daemon {
namespace {

SteadyInstant at_s(int s) { return SteadyInstant{} + seconds(s); }

TEST(SendProgress, OutstandingFramesWaitFromTheLastProgress) {
  SendProgress progress;
  EXPECT_FALSE(progress.stalled_since()) << "nothing sent";
  progress.sent(at_s(1));
  progress.sent(at_s(2));
  EXPECT_EQ(progress.stalled_since(), at_s(1));
  progress.heard(0, at_s(3));  // a gateway that heard nothing yet
  EXPECT_EQ(progress.stalled_since(), at_s(1));
  progress.heard(1, at_s(4));  // one more heard: progress, one still outstanding
  EXPECT_EQ(progress.stalled_since(), at_s(4));
  progress.heard(1, at_s(9));  // the same count again: no progress
  EXPECT_EQ(progress.stalled_since(), at_s(4));
  progress.heard(2, at_s(10));
  EXPECT_FALSE(progress.stalled_since()) << "all heard";
  progress.sent(at_s(20));  // outstanding again, from when it was sent
  EXPECT_EQ(progress.stalled_since(), at_s(20));
}

TEST(SendProgress, ASlowStreamThatKeepsMovingNeverWaitsLong) {
  // A long output ahead of everything: the gateway hears each frame seconds after it was sent,
  // but hears one more every second.
  SendProgress progress;
  for (int s = 0; s < 100; ++s) {
    progress.sent(at_s(s));
    if (s >= 30) progress.heard(static_cast<std::uint64_t>(s - 30), at_s(s));
    if (s >= 31) {
      EXPECT_EQ(progress.stalled_since(), at_s(s));
    }
  }
}

TEST(SendProgress, ACountPastWhatWasSentIsAllOfIt) {
  SendProgress progress;
  progress.sent(at_s(1));
  progress.heard(5, at_s(2));
  EXPECT_FALSE(progress.stalled_since());
  progress.sent(at_s(3));
  EXPECT_EQ(progress.stalled_since(), at_s(3));
  progress.heard(5, at_s(4));  // five is still past the two sent: the second is heard
  EXPECT_FALSE(progress.stalled_since());
}

}  // namespace
}  // namespace reliant::daemon
