// Coverage: counts survive the child-to-parent line, a sweep names the declared faults that never
// fired, and BUGGIFY's choices depend on the seed and the site alone.
#include "sim/coverage.h"

#include <gtest/gtest.h>

#include "sim/fault_mix.h"
#include "sim/sim_buggify.h"

namespace reliant::sim {
namespace {

TEST(Coverage, CountsSurviveTheirOneLineEncoding) {
  Coverage run;
  run.hit("fault.bus.drop", 3);
  run.hit("fault.bus.drop");
  run.hit("buggify.gateway.dispatch_lost");
  run.hit("fault.store.slow", 0);  // nothing fired: not a name in the table
  const Coverage back = Coverage::decode(run.encode());
  EXPECT_EQ(back.count("fault.bus.drop"), 4u);
  EXPECT_EQ(back.count("buggify.gateway.dispatch_lost"), 1u);
  EXPECT_EQ(back.counts().size(), 2u);
  EXPECT_TRUE(Coverage::decode("").counts().empty());
  EXPECT_TRUE(Coverage::decode("=3 noequals").counts().empty());
}

TEST(Coverage, ASweepNamesTheDeclaredFaultsNoSeedFired) {
  auto scenario = parse_scenario(R"(name: t
duration: 60s
topology:
  - {name: server, role: echo_server, count: 2}
  - {name: client, role: echo_client}
faults:
  bus: {drop: [0, 0.1], duplicate: [0, 0]}
  crashes: [0, 2]
  plan:
    - {at: 10s, pause: server-1, length: 2s}
)",
                                 "t.yaml");
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  const auto declared = declared_faults(*scenario);
  EXPECT_EQ(declared, (std::set<std::string>{"fault.bus.drop", "fault.process.crash",
                                             "fault.process.pause"}));
  SweepCoverage sweep;
  Coverage one;
  one.hit("fault.bus.drop", 2);
  one.hit("fault.process.pause");
  sweep.add(one);
  sweep.add(one);
  sweep.add(Coverage{});
  EXPECT_EQ(sweep.runs, 3u);
  EXPECT_EQ(sweep.total["fault.bus.drop"], 4u);
  EXPECT_EQ(sweep.seeds["fault.bus.drop"], 2u);
  EXPECT_EQ(sweep.never_fired(declared), (std::set<std::string>{"fault.process.crash"}));
  const std::string table = sweep.table(declared);
  EXPECT_NE(table.find("fault.process.crash"), std::string::npos);
  EXPECT_NE(table.find("never fired"), std::string::npos);
}

// The same seed switches on the same sites whatever order they are first asked in; a run
// without BUGGIFY never fires; every firing is counted and traced.
TEST(SimBuggify, SitesAreChosenBySeedAndNameAndFiringsAreCounted) {
  auto active_sites = [](std::uint64_t seed, bool reversed) {
    World world(seed);
    SimBuggify buggify(world, true);
    std::set<std::string> fired;
    std::vector<std::string> sites;
    for (int i = 0; i < 40; ++i) sites.push_back("site." + std::to_string(i));
    if (reversed) std::reverse(sites.begin(), sites.end());
    for (int round = 0; round < 50; ++round) {
      for (const auto& site : sites) {
        if (buggify.fire(1, site)) fired.insert(site);
      }
    }
    return fired;
  };
  const auto forward = active_sites(7, false);
  EXPECT_EQ(forward, active_sites(7, true));
  EXPECT_NE(forward, active_sites(8, false));
  EXPECT_GT(forward.size(), 2u);  // about a quarter of 40 sites
  EXPECT_LT(forward.size(), 25u);

  World world(7);
  SimBuggify off(world, false);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(off.fire(1, "site.1"));
  off.reached(1, "worker.retry");
  EXPECT_EQ(world.coverage().count("sometimes.worker.retry"), 1u);

  World counted(7);
  SimBuggify on(counted, true);
  std::uint64_t fires = 0;
  for (int i = 0; i < 400; ++i) fires += on.fire(1, *forward.begin()) ? 1 : 0;
  EXPECT_EQ(counted.coverage().count("buggify." + *forward.begin()), fires);
  EXPECT_GT(fires, 50u);  // a quarter of 400, give or take
  EXPECT_EQ(counted.trace().events(), fires);
}

}  // namespace
}  // namespace reliant::sim
