// reliant-sim shrink: a failing seed becomes the smallest scenario that still fails the same way.
#include "sim/shrink.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "sim/fault_mix.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace reliant::sim {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kShrinkable = RELIANT_SOURCE_DIR "/tests/sim/scenarios/shrinkable.yaml";

// The stuck clients fail only when a half-open break hits one of their streams: the shrunk
// scenario keeps one such break and one stuck client, and loses every other fault and node.
TEST(Shrink, KeepsTheFaultTheFailureNeedsAndTakesTheRestAway) {
  const std::string original_text = read(kShrinkable);
  auto original = parse_scenario(original_text, kShrinkable);
  ASSERT_TRUE(original.has_value()) << original.error().message;
  const RunReport failing = run_scenario(*original, 1);
  ASSERT_FALSE(failing.passed());
  ASSERT_GT(failing.drawn_faults.events.size(), 3u);

  auto shrunk = shrink_scenario(original_text, kShrinkable, 1);
  ASSERT_TRUE(shrunk.has_value()) << shrunk.error().message;
  EXPECT_EQ(shrunk->invariant, "liveness");
  EXPECT_FALSE(shrunk->exhausted);
  auto minimal = parse_scenario(shrunk->yaml, "shrunk.yaml");
  ASSERT_TRUE(minimal.has_value()) << minimal.error().message << "\n" << shrunk->yaml;
  ASSERT_EQ(minimal->plan.size(), 1u) << shrunk->yaml;
  EXPECT_EQ(minimal->plan[0].kind, ScriptedFault::Kind::half_open_stream);
  EXPECT_EQ(minimal->node_names(), (std::vector<std::string>{"server-1", "stuck-1"}));
  EXPECT_LT(minimal->duration, original->duration);
  EXPECT_EQ(minimal->faults.bus_drop.max, 0);
  EXPECT_EQ(minimal->faults.crashes.max, 0);
  Random random(1);
  EXPECT_EQ(draw_fault_mix(*minimal, random).events.size(), 1u);  // nothing else is drawn

  // Its repro line holds: the same seed breaks the same invariant.
  const RunReport again = run_scenario(*minimal, 1);
  ASSERT_FALSE(again.passed());
  EXPECT_EQ(again.violations.front().invariant, "liveness");
}

TEST(Shrink, ASeedThatHoldsOrABrokenFileIsRefusedWithItsReason) {
  const std::string text = read(kShrinkable);
  auto held = shrink_scenario(text, kShrinkable, 2);
  ASSERT_FALSE(held.has_value());
  EXPECT_EQ(held.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(held.error().message,
            "seed 2 holds every invariant of " + kShrinkable + ": nothing to shrink");
  auto broken = shrink_scenario("name: x\nduration: 1s\n", "x.yaml", 1);
  ASSERT_FALSE(broken.has_value());
  EXPECT_EQ(broken.error().message, "x.yaml:1:1: missing required key 'topology'");
}

}  // namespace
}  // namespace reliant::sim
