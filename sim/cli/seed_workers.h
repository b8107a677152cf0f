// A sweep's worker processes: each runs seed after seed, as the parent hands them out, so a
// seed starts in a warm process (its heap mapped, its libraries' pages and lazy tables loaded)
// instead of a fresh fork. A seed that crashes its worker is reported as crashed, and a new
// worker takes the seeds that remain.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace reliant::sim {

// In a worker: runs `seed` and writes its report to `fd` (lines without a line of its own that
// reads "end", which the worker adds after each seed).
using RunSeed = std::function<void(std::uint64_t seed, int fd)>;

// In the parent, as each seed ends: its report, and how its worker died when the seed ended it
// (a waitpid status; none when the seed finished).
using SeedEnded = std::function<void(std::uint64_t seed, const std::string& report,
                                     std::optional<int> died_with_status)>;

// Runs seeds first..last on up to `workers` processes, each forked from this one, and calls
// `ended` for each seed in the order they end. Returns false when a pipe or process could not be
// made (said on stderr).
bool run_seeds_in_workers(std::uint64_t first, std::uint64_t last, int workers,
                          const RunSeed& run_seed, const SeedEnded& ended);

}  // namespace reliant::sim
