// Tools: what the tools daemon runs on the user's machine for the model — the Tool interface,
// the context each run gets, and the ToolSet registry that turns a (name, JSON input) request
// into a ToolResult without ever throwing or crashing on bad input.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/executor.h"
#include "runtime/host.h"
#include "runtime/task.h"

namespace reliant::mcp {
class McpServers;
}  // namespace reliant::mcp

namespace reliant::daemon {

using Json = nlohmann::json;

class BackgroundProcesses;
class TerminalSessions;

// The error_code values a ToolResult carries (empty when the tool succeeded).
namespace tool_error {
inline constexpr std::string_view unknown_tool = "unknown_tool";
inline constexpr std::string_view invalid_input = "invalid_input";  // bad JSON, field, regex...
inline constexpr std::string_view timeout = "timeout";              // the command was killed
inline constexpr std::string_view cancelled = "cancelled";
inline constexpr std::string_view not_found = "not_found";    // file, directory, string, id
inline constexpr std::string_view not_unique = "not_unique";  // edit: old_string occurs > 1 time
inline constexpr std::string_view failed = "failed";          // anything else (incl. exit != 0)
}  // namespace tool_error

struct ToolResult {
  bool is_error = false;
  std::string content;  // what the model reads; always valid UTF-8 after ToolSet::execute
  Json metadata = Json::object();
  std::string error_code;  // one of tool_error, empty on success
};

// Everything a tool may use. `working_dir` is absolute; relative paths in inputs resolve
// against it. Tools cap what they return at `output_limit_bytes` and say so when they cut.
struct ToolContext {
  Executor& executor;
  Host& host;
  std::string working_dir;
  std::size_t output_limit_bytes = 1 << 20;
  BackgroundProcesses& background;
  // The daemon's terminals (the TerminalService's commands); null where there are none.
  TerminalSessions* terminals = nullptr;
  // A running command's output as it comes, for clients to watch (unset: nobody watches). What
  // the tool returns is unchanged by it.
  std::function<void(std::string_view)> on_output = {};
};

// What a tool does, as tool filters name it (tag:readonly, tag:edit, tag:shell): declared by
// each tool beside its name, never kept as a list of names elsewhere.
struct ToolTags {
  bool read_only = false;  // reads and never changes anything: plan mode may offer it
  bool edits = false;      // changes files
  bool shell = false;      // runs commands or watches them
  bool search = false;     // finds files or text (tag:search)
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view description() const = 0;
  virtual ToolTags tags() const { return {}; }
  // JSON Schema of the input object, as sent to the model.
  virtual Json input_schema() const = 0;
  // `input` is a JSON object (ToolSet::execute checks). Invalid fields are an is_error result
  // with error_code invalid_input. Destroying the returned task cancels the run (a running
  // process is killed).
  virtual Task<ToolResult> run(ToolContext& ctx, Json input) = 0;
};

class ToolSet {
 public:
  // Names are unique: adding a second tool of the same name is a bug.
  void add(std::unique_ptr<Tool> tool);
  const Tool* find(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted
  // Drops every tool not tagged read_only (the read-only permission profile).
  void keep_read_only();

  // Parses `input_json` (empty means {}), checks it is an object, finds the tool and runs it.
  // Unknown tool, bad JSON or a tool that throws give an is_error result with a precise
  // message — never an exception. The content is made valid UTF-8 (process output is bytes).
  // Tools named mcp__<server>__<tool> run on `servers`.
  Task<ToolResult> execute(ToolContext& ctx, std::string tool_name, std::string input_json);

  // The MCP servers whose tools this set also runs; null: none. They outlive the set's calls.
  void attach_mcp(mcp::McpServers* servers) { mcp_ = servers; }
  mcp::McpServers* mcp() const { return mcp_; }

 private:
  std::map<std::string, std::unique_ptr<Tool>, std::less<>> tools_;
  mcp::McpServers* mcp_ = nullptr;
};

// bash, bash_output, bash_kill, bash_list, view, write, edit, glob, grep, ls.
ToolSet make_builtin_tools();
void register_builtin_tools(ToolSet& tools);

// Results, for tools and the daemon alike.
ToolResult tool_success(std::string content, Json metadata = Json::object());
ToolResult tool_failure(std::string_view error_code, std::string message,
                        Json metadata = Json::object());

}  // namespace reliant::daemon
