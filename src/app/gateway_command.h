// `reliant server gateway`: the daemon gateway of the distributed deployment.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_gateway_command(CLI::App& server, int& exit_code);

}  // namespace reliant
