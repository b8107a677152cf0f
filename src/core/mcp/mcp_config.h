// MCP server configuration as users write it: `mcp.json` files with an "mcpServers" map, layered
// user (~/.reliant/mcp.json) < project (<project>/.reliant/mcp.json) < project-local
// (<project>/.reliant.local/mcp.json). A later layer overrides the fields it gives of a server of
// the same name (its env merged key by key), so a local file can add a secret or switch a
// server off without repeating it. `${VAR}` and `${VAR:-default}` are expanded in commands,
// arguments, env values, URLs and headers once the layers are merged.
#pragma once

#include <functional>
#include <map>
#include <optional>
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
  double timeout_seconds = 0;     // per call; 0: the caller's
  std::string source;             // the file that last set it, for messages
  std::string error;              // what is wrong with it (it cannot start), empty when valid

  bool operator==(const McpServerConfig&) const = default;
};

// One layer: a file's name and its text (a missing file is no layer at all).
struct McpConfigLayer {
  std::string file;
  std::string text;
};

using Environment = std::function<std::optional<std::string>(std::string_view name)>;

// The servers the layers define, by name. A file that is not valid JSON or not shaped as
// {"mcpServers": {NAME: {...}}} fails the whole configuration with file:line:column and the
// reason; a server whose own fields are wrong (a missing command, an unset variable) is kept with
// its `error` set, so the others still run and the status says why this one does not.
Result<std::map<std::string, McpServerConfig>> load_mcp_config(
    const std::vector<McpConfigLayer>& layers, const Environment& environment);

// `${VAR}` and `${VAR:-default}` in `text`; `$$` is a dollar sign. Fails naming the variable
// when one is unset and has no default, or when a `${` is not closed.
Result<std::string> expand_variables(std::string_view text, const Environment& environment);

// Server names become part of tool names (mcp__<server>__<tool>): letters, digits, '-' and '_'.
bool valid_server_name(std::string_view name);

}  // namespace reliant::mcp
