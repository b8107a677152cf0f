// `reliant daemon command send|list|show`: the Commands protocol from the CLI — commands for a
// managed daemon with commands enabled, through the API server's
// /api/v1/daemons/{daemon}/commands routes.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_daemon_command_commands(CLI::App& daemon, int& exit_code);

}  // namespace reliant
