// The tool-path workload's strangers: a `stranger` tool client dials managed daemons' addresses
// as anyone who reaches them could (another process on the machine, another pod in the
// cluster), showing no dial key, a wrong one, or another daemon's key, and the invariant
// stranger_refused holds that none of these streams is ever sent a frame: a managed daemon
// serves only the gateways its control plane sent.
#pragma once

#include <memory>

#include "sim/workload/tool_path_state.h"

namespace reliant::sim {

// A `stranger` tool client.
std::shared_ptr<void> start_stranger_client(Env& env, ClientShared shared);

}  // namespace reliant::sim
