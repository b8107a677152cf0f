// The tool registry: lookup, and execute() — the one entry point that turns any request, however
// malformed, into a ToolResult.
#include "services/daemon/tools/tool.h"

#include <exception>

#include "base/assert.h"
#include "base/json_parse.h"
#include "base/utf8.h"
#include "core/path.h"
#include "services/daemon/mcp/mcp_servers.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {

ToolResult tool_success(std::string content, Json metadata) {
  ToolResult result;
  result.content = std::move(content);
  result.metadata = std::move(metadata);
  return result;
}

ToolResult tool_failure(std::string_view error_code, std::string message, Json metadata) {
  RELIANT_ASSERT(!error_code.empty());
  ToolResult result;
  result.is_error = true;
  result.content = std::move(message);
  result.metadata = std::move(metadata);
  result.error_code = std::string(error_code);
  return result;
}

void ToolSet::add(std::unique_ptr<Tool> tool) {
  RELIANT_ASSERT(tool != nullptr);
  std::string name(tool->name());
  RELIANT_ASSERT_MSG(!name.empty(), "a tool needs a name");
  RELIANT_ASSERT_MSG(tools_.count(name) == 0, "tool registered twice");
  tools_.emplace(std::move(name), std::move(tool));
}

const Tool* ToolSet::find(std::string_view name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ToolSet::names() const {
  std::vector<std::string> out;
  out.reserve(tools_.size());
  for (const auto& [name, tool] : tools_) out.push_back(name);
  return out;
}

namespace {

std::string available(const ToolSet& tools) {
  std::string out;
  for (const auto& name : tools.names()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out.empty() ? "none" : out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ": the model needs the rest.
std::string without_exception_tag(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const std::size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

ToolResult finish(ToolResult result) {
  // Checked first: nearly all output is valid, and keeps its string.
  if (!is_valid_utf8(result.content)) result.content = repair_utf8(result.content);
  return result;
}

}  // namespace

Task<ToolResult> ToolSet::execute(ToolContext& ctx, std::string tool_name, std::string input_json) {
  auto it = tools_.find(tool_name);
  const bool on_mcp = it == tools_.end() && mcp_ != nullptr &&
                      std::string_view(tool_name).starts_with(mcp::kMcpToolPrefix);
  if (it == tools_.end() && !on_mcp) {
    co_return tool_failure(
        tool_error::unknown_tool,
        "unknown tool \"" + repair_utf8(tool_name) + "\"; available tools: " + available(*this));
  }
  if (!is_absolute_path(ctx.working_dir)) {
    co_return tool_failure(tool_error::failed,
                           "the daemon's working directory is not an absolute path: \"" +
                               repair_utf8(ctx.working_dir) + "\"");
  }
  // A model wrote this input; tools copy and print it, which recurses once per level.
  Result<Json> parsed = input_json.empty() ? Result<Json>(Json::object()) : parse_json(input_json);
  if (!parsed) {
    co_return tool_failure(
        tool_error::invalid_input,
        "input for " + tool_name + " is not valid JSON: " + parsed.error().message);
  }
  Json input = std::move(*parsed);
  if (!input.is_object()) {
    co_return tool_failure(
        tool_error::invalid_input,
        "input for " + tool_name + " must be a JSON object, got " + std::string(input.type_name()));
  }
  if (on_mcp) {
    // The runner bounds the call (it destroys this task at the request's timeout); the server's
    // own timeout, if configured, is shorter.
    Task<mcp::McpCallOutcome> calling = mcp_->call(tool_name, std::move(input), hours(24));
    mcp::McpCallOutcome outcome = co_await calling;
    const auto parts = mcp::split_exposed_name(tool_name);
    Json metadata{{"mcp_server", parts ? parts->first : ""},
                  {"mcp_tool", parts ? parts->second : ""}};
    if (!outcome.is_error)
      co_return finish(tool_success(std::move(outcome.text), std::move(metadata)));
    co_return finish(tool_failure(
        outcome.error_code.empty() ? tool_error::failed : std::string_view(outcome.error_code),
        std::move(outcome.text), std::move(metadata)));
  }
  ToolResult result;
  std::string thrown;
  try {
    Task<ToolResult> run = it->second->run(ctx, std::move(input));
    result = co_await run;
  } catch (const std::exception& e) {
    thrown = e.what();
    if (thrown.empty()) thrown = "unknown error";
  }
  if (!thrown.empty()) {
    // A tool bug must not take the daemon down: report it as this call's failure.
    co_return finish(tool_failure(
        tool_error::failed, tool_name + " failed unexpectedly: " + without_exception_tag(thrown)));
  }
  co_return finish(std::move(result));
}

void register_builtin_tools(ToolSet& tools) {
  tools.add(make_bash_tool());
  tools.add(make_bash_output_tool());
  tools.add(make_bash_kill_tool());
  tools.add(make_bash_list_tool());
  tools.add(make_view_tool());
  tools.add(make_write_tool());
  tools.add(make_edit_tool());
  tools.add(make_ls_tool());
  tools.add(make_glob_tool());
  tools.add(make_grep_tool());
  tools.add(make_echo_tool());
  tools.add(make_calculate_tool());
}

void ToolSet::keep_read_only() {
  std::erase_if(tools_, [](const auto& entry) { return !entry.second->tags().read_only; });
}

ToolSet make_builtin_tools() {
  ToolSet tools;
  register_builtin_tools(tools);
  return tools;
}

}  // namespace reliant::daemon
