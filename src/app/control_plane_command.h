// `reliant server controlplane`: the control plane role — it provisions, restarts, suspends,
// resumes and removes managed daemons (services/control_plane) and asks the gateways to dial
// them.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_control_plane_command(CLI::App& server, int& exit_code);

}  // namespace reliant
