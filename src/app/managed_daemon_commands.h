// `reliant daemon create|list|suspend|resume|delete`: the user's managed daemons, through the
// API server (the control plane carries the wish out).
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_managed_daemon_commands(CLI::App& daemon, int& exit_code);

}  // namespace reliant
