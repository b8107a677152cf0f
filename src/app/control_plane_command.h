// `reliant server controlplane`: the control plane role — it provisions, restarts, suspends,
// resumes and removes managed daemons (services/control_plane) and asks the gateways to dial
// them.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace reliant {

void add_control_plane_command(CLI::App& server, int& exit_code);

// The flags of a control plane, `reliant server controlplane`'s and the monolith's embedded one:
// where local managed daemons keep their folders, and in seconds the time between rounds
// (`interval_flag`) and the idle time before a daemon is suspended.
struct ControlPlaneFlags {
  std::string daemons_dir;  // empty: DATA_DIR/managed
  double interval_s = 2;
  double suspend_after_s = 30 * 60;
};

// `reliant server controlplane`'s: where daemons with commands enabled poll for them.
struct CommandsFlags {
  std::string url;      // an api's URL as the daemons reach it
  std::string ca_file;  // the roots they check its certificate with
};
void add_control_plane_flags(CLI::App& command, ControlPlaneFlags& flags,
                             const std::string& interval_flag);

// --managed-daemons-per-user, of the servers that create managed daemons (`reliant server api`
// and the monolith): how many a user may have at most.
void add_managed_daemons_per_user_option(CLI::App& command, std::int64_t& per_user_max);

}  // namespace reliant
