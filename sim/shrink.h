// Shrinking: from a seed whose run breaks an invariant to the smallest scenario that still breaks
// it. The seed's drawn faults become a scripted plan and fixed rates (the same run, now written
// down); then faults, nodes and time are taken away one at a time, each kept out only if the
// same invariant still fails under the same seed and no invariant fails that the seed did not
// break to begin with (a run cut too short must not pass for the bug). `reliant-sim shrink`
// writes the result.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace reliant::sim {

struct ShrinkOptions {
  int runs_max = 300;  // simulation runs, all steps together
  std::function<void(const std::string& line)> progress;
};

struct ShrinkResult {
  std::string invariant;           // the one the seed breaks, and the minimal scenario too
  std::string yaml;                // the minimal scenario
  std::vector<std::string> steps;  // what was taken away, in order
  int runs = 0;
  bool exhausted = false;  // stopped at runs_max, not at a fixed point
};

// `yaml` is the scenario file's text, `file` its name (for messages). Fails when the file is
// invalid, the seed breaks no invariant, or the written-down faults no longer break it.
Result<ShrinkResult> shrink_scenario(const std::string& yaml, const std::string& file,
                                     std::uint64_t seed, const ShrinkOptions& options = {});

}  // namespace reliant::sim
