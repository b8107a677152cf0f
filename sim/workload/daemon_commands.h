// The tool-path workload's Commands protocol: managed daemons with `commands: true` poll the
// real CommandQueue (through their process's store connection, standing for the api's feed:
// the simulator has no HTTP) with BUGGIFY losing answers on the way, `commands` clients send
// them commands, and the invariant command_once holds the result — no command's handler runs
// twice, no run_tool's shell command runs twice, and once the faults heal every command ends.
#pragma once

#include <memory>

#include "services/daemon/command_poller.h"
#include "sim/workload/tool_path_state.h"

namespace reliant::sim {

// The daemon side's source of commands for `machine`, on its process's Env.
std::unique_ptr<daemon::CommandSource> make_sim_command_source(Env& env,
                                                               ToolPathWorkload::Machine& machine);
// What a commands daemon's config gets: the poller's timings, the handler-run counter, and a
// restart that crashes the daemon's process and starts it again at once (as exec would).
void configure_sim_commands(ToolPathWorkload::Impl& impl, ToolPathWorkload::Machine& machine,
                            daemon::DaemonConfig& config);
// A `commands` tool client.
std::shared_ptr<void> start_command_client(Env& env, ClientShared shared);
// command_once at the end: each command sent long enough before `end` has ended, and no
// run_tool's command ran twice (or, when it succeeded, not at all).
void check_commands(ToolPathWorkload::Impl& impl, Instant end);
// The report's line on them (empty when no command was sent).
std::string commands_summary(const ToolPathWorkload::Impl& impl);

}  // namespace reliant::sim
