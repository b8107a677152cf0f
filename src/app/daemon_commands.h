// `reliant daemon register|start|status|stop|logs` and the global --server/--gateway options.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

// `argc`/`argv` let `daemon start --background` re-run the same command detached.
void add_daemon_commands(CLI::App& app, int& exit_code, int argc, char** argv);

}  // namespace reliant
