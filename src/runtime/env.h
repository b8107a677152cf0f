// Env: everything a component may use of the outside world, handed in once
// (docs/architecture.md §2).
//
// The real binaries fill it with adapters, the simulator with simulated ports. Ports a process
// role does not use are null (a gateway has no Host, a daemon no Store); without a Log nothing
// is logged.
#pragma once

#include "runtime/buggify.h"
#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/host.h"
#include "runtime/log.h"
#include "runtime/random.h"
#include "runtime/store.h"
#include "runtime/transport.h"

namespace reliant {

struct Env {
  Executor& executor;
  Random& random;
  Bus* bus = nullptr;
  Transport* transport = nullptr;
  Store* store = nullptr;
  Host* host = nullptr;
  Log* log = nullptr;
  Buggify* buggify = nullptr;  // the simulator's; null in the real binaries
};

// Whether the simulator takes the rare path at `site` now (never outside the simulator). A site
// names a path port faults cannot reach: a lost dispatch, a truncated batch, an early eviction.
inline bool buggify(const Env& env, std::string_view site) {
  return env.buggify != nullptr && env.buggify->fire(site);
}
// Marks that a rare-but-expected situation happened (counted by the simulator's sweeps).
inline void sometimes(const Env& env, std::string_view marker) {
  if (env.buggify != nullptr) env.buggify->reached(marker);
}

// Writes a line to env.log, if there is one and it keeps this level. `message` is built only
// then: log_line(env, LogLevel::info, [&] { return "admitted " + id; }).
template <class MakeMessage>
void log_line(Env& env, LogLevel level, MakeMessage&& message) {
  if (env.log != nullptr && env.log->enabled(level)) env.log->write(level, message());
}

}  // namespace reliant
