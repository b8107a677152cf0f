// The MCP configuration files a daemon reads, in layer order: ~/.reliant/mcp.json, then
// <project>/.reliant/mcp.json, then <project>/.reliant.local/mcp.json (missing files are no
// layer), with this process's environment for ${VAR} in the first, and the approvals of workspace
// files kept in ~/.reliant/mcp-approvals.json (core/mcp/mcp_config.h says what they allow).
//
// The approvals lie in the user's own ~/.reliant, beside the one trusted layer, for every process
// of this user on this machine: `reliant daemon start`, the monolith's embedded daemon and the
// `reliant mcp` commands read the same file. Not in a data dir, which the README's own layout
// once put inside the workspace (issue 38, finding 12), where a tool could write an approval.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "core/mcp/mcp_config.h"

namespace reliant {

namespace mcp {
class McpServers;
}  // namespace mcp

// This process's environment, for ${VAR}.
std::optional<std::string> process_environment(std::string_view name);

// At most this many files are approved at a time: approving one more drops the oldest.
inline constexpr std::size_t kMcpApprovalsMax = 1024;

// `home` empty: $HOME. `project_dir` is made absolute and canonical first, so that an approval
// names the file as every process here reads it. `environment` (default: this process's) is what
// ${VAR} in the user's file reads.
Result<mcp::McpConfig> load_mcp_files(const std::string& project_dir, std::string home = "",
                                      const mcp::Environment& environment = process_environment);

// ~/.reliant/mcp-approvals.json under `home` ($HOME when empty); fails when there is no home.
Result<std::string> mcp_approvals_path(std::string home = "");
// The approvals in `path`: none when it is missing; an error naming it when it is unreadable or
// not what this program writes.
Result<mcp::McpApprovals> load_mcp_approvals(const std::string& path);
// Adds `approval` to `path`, replacing the file's earlier approval (one content per file).
Result<void> save_mcp_approval(const std::string& path, const mcp::McpApproval& approval);

// Loads the layers for the project in `project_dir` into `servers`, logging what is wrong with
// the files or with a server (a broken file leaves no server configured), and gives `servers`
// its source for reloads and where its approvals are kept. Reloads read the environment as it is
// now: the monolith scrubs its secrets from its environment once it has read them
// (secret_environment.h), and a reload (an approval makes one) must not restart the user's own
// servers with "****" for their ${OPENAI_API_KEY}.
void configure_mcp_servers(mcp::McpServers& servers, const std::string& project_dir);

}  // namespace reliant
