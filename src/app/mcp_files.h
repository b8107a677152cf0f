// The MCP configuration files a daemon reads, in layer order: ~/.reliant/mcp.json, then
// <project>/.reliant/mcp.json, then <project>/.reliant.local/mcp.json (missing files are no
// layer), with this process's environment for ${VAR}.
#pragma once

#include <map>
#include <string>

#include "base/result.h"
#include "core/mcp/mcp_config.h"

namespace reliant {

namespace mcp {
class McpServers;
}  // namespace mcp

// `home` empty: $HOME.
Result<std::map<std::string, mcp::McpServerConfig>> load_mcp_files(const std::string& project_dir,
                                                                   std::string home = "");

// Loads the layers for the project in `project_dir` into `servers`, logging what is wrong with
// the files or with a server (a broken file leaves no server configured).
void configure_mcp_servers(mcp::McpServers& servers, const std::string& project_dir);

// This process's environment, for ${VAR}.
std::optional<std::string> process_environment(std::string_view name);

}  // namespace reliant
