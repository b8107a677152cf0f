// `reliant mcp`: this daemon's MCP client from the command line — list a server's tools or call
// one, the server started as the daemon starts it (stdio), or named from the mcp.json layers.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_mcp_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
