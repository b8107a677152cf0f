// MCP server configuration as users write it: `mcp.json` files with an "mcpServers" map, layered
// user (~/.reliant/mcp.json) < project (<project>/.reliant/mcp.json) < project-local
// (<project>/.reliant.local/mcp.json). A later layer overrides the fields it gives of a server of
// the same name (its env merged key by key), so a local file can add a secret or switch a
// server off without repeating it. `${VAR}` and `${VAR:-default}` are expanded in commands,
// arguments, env values, URLs and headers once the layers are merged.
//
// Trust (issue 38): the two workspace layers lie in the repository, which anyone may have
// written — a cloned project, or a tool the model ran (`.reliant.local` is git-ignored by
// convention only: a repository can commit one, and the file tools can write one). So a
// workspace file counts only once the user approved its exact content (its SHA-256), and its
// `${VAR}` never reads the daemon's environment, except the variables the user's own file lists
// in "workspaceVariables". Until then its servers are listed as awaiting approval and do not
// start; the servers of the trusted layers run as before.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant::mcp {

struct McpServerConfig {
  std::string name;
  std::string type = "stdio";  // stdio, http (Streamable HTTP) or sse (the older HTTP+SSE)
  std::string command;         // stdio
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::string cwd;  // stdio; empty: the daemon's working directory
  std::string url;  // http, sse
  std::map<std::string, std::string> headers;
  bool enabled = true;
  std::vector<std::string> tags;  // tool filters select the server's tools by these (and "mcp")
  double timeout_seconds = 0;     // per call; 0: the daemon's default (2 minutes)
  std::string source;             // the file that last set it, for messages
  std::string error;              // what is wrong with it (it cannot start), empty when valid
  // Only a workspace file that is not approved defines it: it does not start, and `error` says
  // which file to approve and how.
  bool untrusted = false;

  bool operator==(const McpServerConfig&) const = default;
};

// Where a file lies, which decides what it may do.
enum class McpLayer {
  user,     // ~/.reliant/mcp.json: the user's own, outside every workspace: trusted
  project,  // <project>/.reliant/mcp.json: committed with the repository
  local,    // <project>/.reliant.local/mcp.json: inside the workspace all the same
};
std::string_view to_string(McpLayer layer);  // "user", "project", "local"

// One layer: a file's name and its text (a missing file is no layer at all).
struct McpConfigLayer {
  std::string file;
  std::string text;
  McpLayer layer = McpLayer::user;
};

// The user approved this content of this workspace file: its path as the daemon reads it, and
// the SHA-256 of its bytes in lower-case hex. The path is part of it: the same text in another
// repository starts that repository's programs (`"command": "./server"`).
struct McpApproval {
  std::string file;
  std::string sha256;
  auto operator<=>(const McpApproval&) const = default;
};
using McpApprovals = std::set<McpApproval>;

// A configuration file as the trust check saw it.
struct McpConfigFile {
  std::string file;
  McpLayer layer = McpLayer::user;
  std::string sha256;
  bool trusted = false;  // the user's own, or approved
  // A workspace file's "mcpServers" as written (what an approval covers; null past
  // kShownServersBytesMax); null for the user's own file, which may hold secrets in the clear.
  nlohmann::json servers;
  std::string error;  // not valid JSON or not shaped like an mcp.json (an untrusted file only)
};

inline constexpr std::size_t kShownServersBytesMax = 64 * 1024;

struct McpConfig {
  std::map<std::string, McpServerConfig> servers;
  std::vector<McpConfigFile> files;  // in layer order
};

using Environment = std::function<std::optional<std::string>(std::string_view name)>;

// The servers the layers define, by name, and the files as the trust check saw them. A trusted
// file that is not valid JSON or not shaped as {"mcpServers": {NAME: {...}}} fails the whole
// configuration with file:line:column and the reason (an untrusted one only has its `error`
// set); a server whose own fields are wrong (a missing command, an unset variable) is kept with
// its `error` set, so the others still run and the status says why this one does not.
//
// A workspace file counts only when `approvals` holds its path and content hash. A server that
// only unapproved files define is kept `untrusted`; what they say of other servers is ignored.
// In workspace files `${VAR}` reads only the variables the user's file lists in
// "workspaceVariables" (its top level: ["GITHUB_TOKEN", …]); other variables are unset there. A
// workspace file that changes how a server of the user's file starts (type, command, args, cwd,
// url) drops the env and headers that server had from the user's file, so that a repository
// cannot point the user's secrets at a program of its own.
Result<McpConfig> load_mcp_config(const std::vector<McpConfigLayer>& layers,
                                  const Environment& environment,
                                  const McpApprovals& approvals = {});

// A file as JSON (`reliant mcp files`; the protocol-0 `mcp_files` verb): {file, layer, sha256,
// status (TRUSTED: the user's own; APPROVED; UNTRUSTED), servers, error}.
nlohmann::json to_json(const McpConfigFile& file);

// The reason an untrusted file's servers do not start, with the command that approves it.
std::string approval_needed(const std::string& file, const std::string& sha256);

// `${VAR}` and `${VAR:-default}` in `text`; `$$` is a dollar sign. Fails naming the variable
// when one is unset and has no default, or when a `${` is not closed.
Result<std::string> expand_variables(std::string_view text, const Environment& environment);

// Server names become part of tool names (mcp__<server>__<tool>): letters, digits, '-' and '_'.
bool valid_server_name(std::string_view name);

}  // namespace reliant::mcp
