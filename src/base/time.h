// Duration and Instant: the only time types logic sees. Time enters as values, never from a clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace reliant {

using Duration = std::chrono::nanoseconds;

// Tag for Instant: nanoseconds since the Unix epoch on the process's (real or virtual) clock.
// It deliberately has no now(): only an Executor may say what time it is.
struct EpochTag {
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  static constexpr bool is_steady = false;
};
using Instant = std::chrono::time_point<EpochTag, Duration>;

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

inline constexpr std::int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}
inline constexpr std::int64_t to_ms(Instant t) { return to_ms(t.time_since_epoch()); }

// "1.5s", "250ms", "12µs": compact, for logs and summaries.
std::string format_duration(Duration d);

}  // namespace reliant
