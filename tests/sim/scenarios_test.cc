// Every scenario under many seeds: the invariants hold, and the same seed gives the same trace.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim/allocator.h"
#include "sim/coverage.h"
#include "sim/fault_mix.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace reliant::sim {
namespace {

namespace fs = std::filesystem;

Scenario load(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto scenario = parse_scenario(text.str(), path.string());
  EXPECT_TRUE(scenario.has_value()) << (scenario ? "" : scenario.error().message);
  return scenario ? *scenario : Scenario{};
}

std::vector<fs::path> scenario_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(RELIANT_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A scenario file's stem as a test name: letters and digits only.
std::string test_name_of(const fs::path& scenario) {
  std::string name = scenario.stem().string();
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); },
      '_');
  return name;
}

std::string name_of(const testing::TestParamInfo<fs::path>& info) {
  return test_name_of(info.param);
}

// 100 seeds per scenario: two shards of fifty, in each of which every fault the scenario declares
// must fire. The long sweep (500 seeds and more, with coverage tables) is tools/sim_campaign.sh;
// 500 seeds cost about 1,500 CPU seconds here, a third of the suite on two cores. Fewer when
// RELIANT_SIM_SEEDS says so (the sanitizer builds, whose point is memory and UB checks, run 8).
constexpr std::uint64_t kSeedsPerScenario = 100;

std::uint64_t seeds_to_run() {
  const char* text = std::getenv("RELIANT_SIM_SEEDS");
  if (text == nullptr) return kSeedsPerScenario;
  const std::uint64_t seeds = std::strtoull(text, nullptr, 10);
  return seeds > 0 ? seeds : kSeedsPerScenario;
}

class EveryScenario : public testing::TestWithParam<fs::path> {};

// The same seed twice gives the same trace hash; different seeds explore different runs.
TEST_P(EveryScenario, IsDeterministicUnderTwentySeeds) {
  const Scenario scenario = load(GetParam());
  std::vector<std::string> hashes;
  const std::uint64_t seeds = std::min<std::uint64_t>(20, seeds_to_run());
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const auto first = run_scenario(scenario, seed);
    const auto second = run_scenario(scenario, seed);
    EXPECT_EQ(first.trace_hash, second.trace_hash)
        << "nondeterminism: " << first.reproduce_command();
    EXPECT_EQ(first.trace_events, second.trace_events) << first.reproduce_command();
    hashes.push_back(first.trace_hash);
  }
  std::sort(hashes.begin(), hashes.end());
  EXPECT_EQ(std::unique(hashes.begin(), hashes.end()), hashes.end())
      << "two seeds gave the same run";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, EveryScenario, testing::ValuesIn(scenario_files()), name_of);

// Invariants (safety throughout, liveness after healing) hold for every seed. The seeds run in
// kSeedShards tests of fifty per scenario, so that CTest can spread the slowest scenario over both
// cores instead of finishing with one test that runs alone for minutes.
constexpr std::uint64_t kSeedShards = 2;

struct SeedShard {
  fs::path scenario;
  std::uint64_t shard = 0;  // 0 .. kSeedShards - 1

  std::uint64_t first_seed() const { return shard * seeds_to_run() / kSeedShards + 1; }
  std::uint64_t last_seed() const { return (shard + 1) * seeds_to_run() / kSeedShards; }
};

// How gtest (and so CTest's test list) shows a shard.
void PrintTo(const SeedShard& shard, std::ostream* out) {
  *out << shard.scenario.filename().string() << " shard " << shard.shard + 1;
}

std::vector<SeedShard> seed_shards() {
  std::vector<SeedShard> shards;
  for (const auto& file : scenario_files()) {
    for (std::uint64_t shard = 0; shard < kSeedShards; ++shard) shards.push_back({file, shard});
  }
  return shards;
}

class EveryScenarioShard : public testing::TestWithParam<SeedShard> {};

TEST_P(EveryScenarioShard, HoldsItsInvariants) {
  const SeedShard& shard = GetParam();
  const Scenario scenario = load(shard.scenario);
  SweepCoverage coverage;
  for (std::uint64_t seed = shard.first_seed(); seed <= shard.last_seed(); ++seed) {
    const auto report = run_scenario(scenario, seed);
    EXPECT_TRUE(report.passed()) << format_report(report);
    coverage.add(report.coverage);
  }
  // Every fault the scenario declares fires in a full shard (fifty seeds); the sanitized builds'
  // few seeds are not enough to say.
  if (coverage.runs >= 50) {
    const auto declared = declared_faults(scenario);
    EXPECT_TRUE(coverage.never_fired(declared).empty()) << coverage.table(declared);
  }
}

// Test names carry the shard, not its seeds: RELIANT_SIM_SEEDS changes the seeds, and CTest's
// discovery must see the same names at build and at run time.
INSTANTIATE_TEST_SUITE_P(Scenarios, EveryScenarioShard, testing::ValuesIn(seed_shards()),
                         [](const testing::TestParamInfo<SeedShard>& info) {
                           return test_name_of(info.param.scenario) + "_shard_" +
                                  std::to_string(info.param.shard + 1) + "_of_" +
                                  std::to_string(kSeedShards);
                         });

// Sweeps allocate on glibc here (reliant-sim on jemalloc): keep its heap mapped (sim/allocator.h).
const bool heap_tuned = [] {
  keep_heap_mapped();
  return true;
}();

// The checker can fail: a client that never notices a half-open stream (stale_after longer than
// the run) breaks liveness, and the report says so and how to reproduce it.
TEST(Checker, CatchesAClientStuckOnAHalfOpenStream) {
  const Scenario scenario =
      load(fs::path(RELIANT_SOURCE_DIR) / "tests/sim/scenarios/stuck_half_open.yaml");
  const auto report = run_scenario(scenario, 1);
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.violations.front().invariant, "liveness");
  EXPECT_NE(report.violations.front().detail.find("client-1 received no stream echo"),
            std::string::npos)
      << report.violations.front().detail;
  const std::string text = format_report(report);
  EXPECT_NE(text.find("reproduce: reliant-sim run "), std::string::npos) << text;
  EXPECT_NE(text.find("stuck_half_open.yaml --seed 1"), std::string::npos) << text;
}

// The engine's checks can fail too: runs that cannot end in time break runs_end_once and leave
// their tasks in the queue.
TEST(Checker, CatchesRunsThatNeverEnd) {
  const Scenario scenario =
      load(fs::path(RELIANT_SOURCE_DIR) / "tests/sim/scenarios/engine_unfinished.yaml");
  const auto report = run_scenario(scenario, 1);
  ASSERT_FALSE(report.passed());
  std::set<std::string> failed;
  for (const auto& v : report.violations) failed.insert(v.invariant);
  EXPECT_EQ(failed, (std::set<std::string>{"runs_end_once", "queues_drain"}))
      << format_report(report);
  EXPECT_EQ(report.engine.running, 2) << format_report(report);
}

}  // namespace
}  // namespace reliant::sim

namespace reliant::sim {
namespace {

// Pinned: BUGGIFY's gateway.in_flight_full took this seed down the gateway's over-bounds path,
// whose "too many calls" answer named no daemon (tool_isolation failed). The answer is stamped now.
TEST(Buggify, TheGatewaysBusyAnswerNamesItsDaemon) {
  const Scenario scenario =
      load(fs::path(RELIANT_SOURCE_DIR) / "scenarios/tools_daemon_crash.yaml");
  const auto report = run_scenario(scenario, 3);
  EXPECT_TRUE(report.passed()) << format_report(report);
  EXPECT_GT(report.coverage.count("buggify.gateway.in_flight_full"), 0u)
      << "the seed no longer reaches the path: pin another";
}

}  // namespace
}  // namespace reliant::sim
