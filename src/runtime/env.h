// Env: everything a component may use of the outside world, handed in once
// (docs/architecture.md §2).
//
// The real binaries fill it with adapters, the simulator with simulated ports. Ports a process
// role does not use are null (a gateway has no Host, a daemon no Store).
#pragma once

#include "runtime/bus.h"
#include "runtime/executor.h"
#include "runtime/host.h"
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
};

}  // namespace reliant
