// Subject syntax and the subscription table's fan-out and queue-group routing.
#include <gtest/gtest.h>

#include "runtime/subject.h"
#include "runtime/subscription_table.h"

namespace reliant {
namespace {

TEST(Subject, ValidatesSubjectsAndPatterns) {
  EXPECT_TRUE(validate_subject("tools.request.u1"));
  EXPECT_FALSE(validate_subject(""));
  EXPECT_FALSE(validate_subject("a..b"));
  EXPECT_FALSE(validate_subject("a."));
  EXPECT_FALSE(validate_subject(".a"));
  EXPECT_FALSE(validate_subject("a.*"));
  EXPECT_FALSE(validate_subject("a b"));
  EXPECT_TRUE(validate_pattern("a.*.c"));
  EXPECT_TRUE(validate_pattern("a.>"));
  EXPECT_TRUE(validate_pattern(">"));
  EXPECT_FALSE(validate_pattern("a.>.c"));
  EXPECT_FALSE(validate_pattern("a..>"));
  EXPECT_EQ(validate_pattern("a.>.c").error().code, ErrorCode::invalid_argument);
}

TEST(Subject, MatchesWildcardsLikeNats) {
  EXPECT_TRUE(subject_matches("tools.request.*", "tools.request.u1"));
  EXPECT_FALSE(subject_matches("tools.request.*", "tools.request.sync.u1"));
  EXPECT_TRUE(subject_matches("tools.request.>", "tools.request.sync.u1"));
  EXPECT_FALSE(subject_matches("tools.request.>", "tools.request"));
  EXPECT_TRUE(subject_matches(">", "a"));
  EXPECT_TRUE(subject_matches("*.b", "a.b"));
  EXPECT_FALSE(subject_matches("a", "a.b"));
  EXPECT_FALSE(subject_matches("a.b", "a"));
  EXPECT_FALSE(subject_matches("ab", "a"));
}

TEST(SubscriptionTable, FansOutToPlainAndOnePerGroup) {
  SubscriptionTable table;
  const auto plain = table.add("tools.>", "", 1);
  const auto g1 = table.add("tools.request.*", "gateways", 2);
  const auto g2 = table.add("tools.request.u1", "gateways", 3);  // same group, other pattern
  const auto other = table.add("tools.request.*", "auditors", 4);
  std::size_t picks = 0;
  const auto routed = table.route("tools.request.u1", [&](std::size_t n) {
    ++picks;
    return n - 1;  // last member
  });
  EXPECT_EQ(picks, 2u);  // one pick per group name, across patterns
  EXPECT_EQ(routed, (std::vector<SubscriptionTable::Id>{plain, g2, other}));
  (void)g1;
  table.remove(plain);
  EXPECT_FALSE(table.contains(plain));
  EXPECT_EQ(table.route_to_connection("tools.request.u1", 4),
            (std::vector<SubscriptionTable::Id>{other}));
  EXPECT_TRUE(table.route_to_connection("daemon.command.u1", 4).empty());
}

// Patterns without a wildcard token are compared whole: one that only looks wild ("a*b") is
// literal, and a literal matches neither a shorter nor a longer subject.
TEST(SubscriptionTable, LiteralPatternsMatchTheirOwnSubjectOnly) {
  SubscriptionTable table;
  const auto exact = table.add("tools.request.u1", "", 1);
  const auto starry = table.add("tools.a*b", "", 1);
  const auto wild = table.add("tools.*.u1", "", 2);
  const auto pick_first = [](std::size_t) { return std::size_t{0}; };
  EXPECT_EQ(table.route("tools.request.u1", pick_first),
            (std::vector<SubscriptionTable::Id>{exact, wild}));
  EXPECT_EQ(table.route("tools.request.u1.x", pick_first), std::vector<SubscriptionTable::Id>{});
  EXPECT_EQ(table.route("tools.request", pick_first), std::vector<SubscriptionTable::Id>{});
  EXPECT_EQ(table.route("tools.a*b", pick_first), std::vector<SubscriptionTable::Id>{starry});
  EXPECT_EQ(table.route("tools.axb", pick_first), std::vector<SubscriptionTable::Id>{});
  EXPECT_EQ(table.route_to_connection("tools.request.u1", 1),
            std::vector<SubscriptionTable::Id>{exact});
}

}  // namespace
}  // namespace reliant
