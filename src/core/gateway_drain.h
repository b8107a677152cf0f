// GatewayDrain: how a gateway asked to stop (a rolling update) hands its daemons over before it
// exits (docs/architecture.md §6, "Draining a gateway"):
//
//   serving ──begin──→ DRAINING ──(nothing held, nothing being written)──→ FINISHED
//                         │                                                   ↑
//                         └──────────────(the drain timeout passes)───────────┘
//
// While draining, the gateway takes no new work; each daemon it holds is told to go elsewhere
// as soon as nothing is in flight for it (a tool call, a command), and every one still held when
// the timeout passes is told at once. Sans-I/O: the owner feeds it what it holds and the time,
// and acts on the step it returns.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/time.h"

namespace reliant {

// A daemon a draining gateway still holds, and what it still waits on for it.
struct HeldDaemon {
  std::string daemon_id;
  std::size_t in_flight = 0;  // tool calls and commands sent down its stream, unanswered
};

struct DrainStep {
  std::vector<std::string> release;  // tell these daemons to go to another gateway now
  // Nothing left to wait for (or no more time): the gateway releases what rows still name it
  // and exits.
  bool finished = false;
  bool timed_out = false;      // finished because the timeout passed, not because all was done
  SteadyInstant look_again{};  // the latest the owner must step again (the deadline)
};

class GatewayDrain {
 public:
  // Draining from `started`; whatever is in flight gets `timeout` (> 0) to finish.
  GatewayDrain(SteadyInstant started, Duration timeout);

  // What to do now. `held`: the daemons still held (one told to go stays held until its stream
  // ends); `writes_pending`: results and statuses this gateway is still storing. A daemon is
  // told once; the owner calls this again on every change and by look_again.
  DrainStep step(SteadyInstant now, const std::vector<HeldDaemon>& held,
                 std::size_t writes_pending);

  SteadyInstant deadline() const { return deadline_; }
  // How many daemons it has told to go so far.
  std::size_t released() const { return told_.size(); }

 private:
  bool told(const std::string& daemon_id) const;

  SteadyInstant deadline_;
  std::vector<std::string> told_;  // sorted; at most one entry per daemon the gateway held
};

}  // namespace reliant
