// `reliant tool call`: one tool call through the bus to a user's daemon.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_tool_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
