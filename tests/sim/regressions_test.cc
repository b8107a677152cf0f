// Pinned regressions: each file in tests/sim/regressions is a scenario that once broke an
// invariant (usually shrunk by `reliant-sim shrink`), with the seed that broke it on a line
// "# seed: N". Each must now hold every invariant under that seed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "sim/scenario.h"

namespace reliant::sim {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> regression_files() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(RELIANT_SOURCE_DIR "/tests/sim/regressions")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string regression_name_of(const testing::TestParamInfo<fs::path>& info) {
  return info.param.stem().string();
}

class Regression : public testing::TestWithParam<fs::path> {};

TEST_P(Regression, HoldsEveryInvariantUnderItsSeed) {
  std::ifstream in(GetParam(), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::smatch seed;
  const std::string yaml = text.str();
  ASSERT_TRUE(std::regex_search(yaml, seed, std::regex("# seed: ([0-9]+)")))
      << GetParam() << " names no seed (a line \"# seed: N\")";
  auto scenario = parse_scenario(yaml, GetParam().string());
  ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
  const RunReport report = run_scenario(*scenario, std::stoull(seed[1].str()));
  for (const auto& v : report.violations) {
    ADD_FAILURE() << v.invariant << ": " << v.detail << "\n  " << report.reproduce_command();
  }
}

INSTANTIATE_TEST_SUITE_P(Pinned, Regression, testing::ValuesIn(regression_files()),
                         regression_name_of);

}  // namespace
}  // namespace reliant::sim
