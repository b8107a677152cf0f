// The percentile the benchmarks report: the sample at rank p·n (0-based, the last for p = 1), so
// that a figure and the floor it is compared with are read the same way in every benchmark.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace reliant::bench {

// 0 for no samples.
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(samples.size()));
  return samples[std::min(samples.size() - 1, rank)];
}

}  // namespace reliant::bench
