// Presence: the status machine a gateway keeps for each daemon stream it holds (spec S0.20, S5.1):
//
//   connect ──→ ACTIVE ──(no heartbeat for stale_after)──→ IDLE ──(heartbeat)──→ ACTIVE
//                 │                                          │
//                 └──────────── disconnect ──────────────────┴──→ DISCONNECTED
//
// A stream silent for disconnect_after is presumed dead (half-open: the peer vanished without
// the connection saying so) and the gateway closes it, which is a disconnect. Sans-I/O: the
// owner feeds it events and time and acts on the changes it returns.
#pragma once

#include <optional>
#include <string_view>

#include "base/time.h"
#include "core/daemon_status.h"

namespace reliant {

struct PresencePolicy {
  Duration stale_after = seconds(30);
  Duration disconnect_after = minutes(2);
};

class Presence {
 public:
  Presence(PresencePolicy policy, SteadyInstant connected_at);

  DaemonStatus status() const { return status_; }
  SteadyInstant last_heard() const { return last_heard_; }

  // Any frame from the daemon counts as a sign of life. Returns the new status on a change.
  std::optional<DaemonStatus> on_heard(SteadyInstant now);
  // Time passed. Returns the new status on a change (active → idle).
  std::optional<DaemonStatus> on_tick(SteadyInstant now);
  // Silent for disconnect_after: the owner should close the stream.
  bool presumed_dead(SteadyInstant now) const;
  // The stream ended. Returns the new status on a change.
  std::optional<DaemonStatus> on_disconnect();
  // The next instant at which on_tick or presumed_dead can change its answer.
  SteadyInstant next_deadline() const;

 private:
  PresencePolicy policy_;
  DaemonStatus status_ = DaemonStatus::active;
  SteadyInstant last_heard_;
};

}  // namespace reliant
