// Helpers the built-in tools share: typed input fields with precise errors, output caps with a
// visible notice, UTF-8 repair, path resolution and the mapping of Host errors to tool errors.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/utf8.h"  // utf8_prefix_length, repair_utf8: what the tools cut and mend with
#include "services/daemon/tools/tool.h"

namespace reliant::daemon {

// Input fields. Each failure is `invalid_argument` naming the field and what was expected.
Result<std::string> required_string(const Json& input, std::string_view field);
Result<std::optional<std::string>> optional_string(const Json& input, std::string_view field);
Result<std::optional<std::int64_t>> optional_integer(const Json& input, std::string_view field);
Result<bool> optional_bool(const Json& input, std::string_view field, bool fallback);

// An is_error result with error_code invalid_input carrying the message of `error`.
ToolResult invalid_input(const Error& error);
// A Host failure as a tool result: not_found stays not_found, invalid_argument becomes
// invalid_input, the rest failed. `what` prefixes the message ("view /a/b.txt").
ToolResult host_failure(const Error& error, std::string_view what);

// "[output truncated: 300 bytes over the limit of 100]"
std::string truncation_notice(std::uint64_t over_bytes, std::size_t limit_bytes);
// Cuts `text` to at most `limit_bytes` (never inside a UTF-8 sequence) and appends the notice
// for everything cut, counting `extra_bytes` already cut elsewhere. Unchanged when it fits.
std::string cap_output(std::string text, std::size_t limit_bytes, std::uint64_t extra_bytes = 0);
// Appends `line` on a line of its own.
void append_line(std::string& text, std::string_view line);

// An input path resolved against the working directory, normalized.
std::string resolve_input_path(const ToolContext& ctx, std::string_view path);
// How a path appears in output: relative to the working directory when inside it.
std::string shown_path(const ToolContext& ctx, std::string_view absolute);

// The built-in tools, one factory each.
std::unique_ptr<Tool> make_bash_tool();
std::unique_ptr<Tool> make_bash_output_tool();
std::unique_ptr<Tool> make_bash_kill_tool();
std::unique_ptr<Tool> make_bash_list_tool();
std::unique_ptr<Tool> make_view_tool();
std::unique_ptr<Tool> make_write_tool();
std::unique_ptr<Tool> make_edit_tool();
std::unique_ptr<Tool> make_ls_tool();
std::unique_ptr<Tool> make_echo_tool();
std::unique_ptr<Tool> make_calculate_tool();
std::unique_ptr<Tool> make_glob_tool();
std::unique_ptr<Tool> make_grep_tool();

}  // namespace reliant::daemon
