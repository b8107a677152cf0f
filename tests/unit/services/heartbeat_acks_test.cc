// HeartbeatAcks: the oldest heartbeat the gateway has not acknowledged, through acknowledgements
// that cover several, arrive late or twice, and a record that fills up.
#include "services/daemon/heartbeat_acks.h"

#include <gtest/gtest.h>

namespace reliant::daemon {
namespace {

SteadyInstant at_s(int s) { return SteadyInstant{} + seconds(s); }

TEST(HeartbeatAcks, TheOldestUnacknowledgedIsTheOneAfterTheHighestAcknowledged) {
  HeartbeatAcks acks;
  EXPECT_FALSE(acks.oldest_unacked_at());
  acks.sent(1, at_s(1));
  acks.sent(2, at_s(2));
  acks.sent(4, at_s(4));  // 3 was never sent (a skipped heartbeat)
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(1));
  acks.acked(0);  // before the gateway heard any
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(1));
  acks.acked(3);  // one acknowledgement for all up to 3
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(4));
  acks.acked(2);  // late, or twice: nothing more
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(4));
  acks.acked(4);
  EXPECT_FALSE(acks.oldest_unacked_at());
}

TEST(HeartbeatAcks, AFullRecordKeepsTheOldest) {
  HeartbeatAcks acks;
  for (std::uint64_t i = 1; i <= HeartbeatAcks::kUnackedMax + 10; ++i) {
    acks.sent(i, at_s(static_cast<int>(i)));
  }
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(1));
  acks.acked(HeartbeatAcks::kUnackedMax - 1);
  EXPECT_EQ(acks.oldest_unacked_at(), at_s(static_cast<int>(HeartbeatAcks::kUnackedMax)));
}

}  // namespace
}  // namespace reliant::daemon
