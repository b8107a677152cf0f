// `reliant server api`: the stateless API server of the distributed deployment (spec S1.2–S1.5).
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_api_command(CLI::App& server, int& exit_code);

}  // namespace reliant
