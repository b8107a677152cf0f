// Duration, Instant and SteadyInstant: the only time types logic sees. Time enters as values,
// never from a clock.
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

// Tag for SteadyInstant: time on a process's clock that never steps, for intervals, deadlines
// and staleness measured within that process. Its epoch is arbitrary: a SteadyInstant is never
// stored, sent or compared with another process's. A distinct type, so that an interval can
// not be measured on the wall clock by mistake — that clock steps in either direction.
struct SteadyTag {
  using duration = Duration;
  using rep = Duration::rep;
  using period = Duration::period;
  static constexpr bool is_steady = true;
};
using SteadyInstant = std::chrono::time_point<SteadyTag, Duration>;

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
