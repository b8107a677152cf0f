// The per-start tag of daemon ids: milliseconds in base 36.
#include "services/daemon/instance_tag.h"

#include <algorithm>
#include <cstdint>

namespace reliant::daemon {

std::string instance_tag(Instant now) {
  std::uint64_t ms = static_cast<std::uint64_t>(std::max<std::int64_t>(to_ms(now), 0));
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[ms % 36]);
    ms /= 36;
  } while (ms != 0);
  return out;
}

}  // namespace reliant::daemon
