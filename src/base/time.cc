// Human-readable durations for logs and summaries.
#include "base/time.h"

#include <cstdio>

namespace reliant {

std::string format_duration(Duration d) {
  const auto ns = d.count();
  const auto abs_ns = ns < 0 ? -ns : ns;
  char buf[48];
  if (abs_ns >= 60'000'000'000LL) {
    std::snprintf(buf, sizeof buf, "%.1fmin", static_cast<double>(ns) / 60e9);
  } else if (abs_ns >= 1'000'000'000LL) {
    std::snprintf(buf, sizeof buf, "%.3gs", static_cast<double>(ns) / 1e9);
  } else if (abs_ns >= 1'000'000LL) {
    std::snprintf(buf, sizeof buf, "%.3gms", static_cast<double>(ns) / 1e6);
  } else if (abs_ns >= 1'000LL) {
    std::snprintf(buf, sizeof buf, "%.3gus", static_cast<double>(ns) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  }
  return buf;
}

}  // namespace reliant
