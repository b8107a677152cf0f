// `reliant server api`: the stateless API server of the distributed deployment (seed 001).
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_api_command(CLI::App& server, int& exit_code);

}  // namespace reliant
