// The drain of a gateway: which daemons to let go, and when it is over.
#include "core/gateway_drain.h"

#include <algorithm>

#include "base/assert.h"

namespace reliant {

GatewayDrain::GatewayDrain(SteadyInstant started, Duration timeout) : deadline_(started + timeout) {
  RELIANT_ASSERT_MSG(timeout > Duration::zero(), "a drain needs time to drain");
}

bool GatewayDrain::told(const std::string& daemon_id) const {
  return std::binary_search(told_.begin(), told_.end(), daemon_id);
}

DrainStep GatewayDrain::step(SteadyInstant now, const std::vector<HeldDaemon>& held,
                             std::size_t writes_pending) {
  DrainStep out;
  out.look_again = deadline_;
  out.timed_out = now >= deadline_;
  for (const HeldDaemon& daemon : held) {
    RELIANT_ASSERT(!daemon.daemon_id.empty());
    // Its calls answered, a daemon goes at once: its user's next call waits for it elsewhere
    // rather than for the slowest call of another daemon here.
    if ((daemon.in_flight == 0 || out.timed_out) && !told(daemon.daemon_id)) {
      out.release.push_back(daemon.daemon_id);
      told_.insert(std::upper_bound(told_.begin(), told_.end(), daemon.daemon_id),
                   daemon.daemon_id);
    }
  }
  // The results of the last calls are stored and published before the gateway goes, and the
  // statuses of its daemons written, so the next gateway starts from the truth.
  out.finished = out.timed_out || (held.empty() && writes_pending == 0);
  RELIANT_ASSERT(out.release.size() <= held.size());
  return out;
}

}  // namespace reliant
