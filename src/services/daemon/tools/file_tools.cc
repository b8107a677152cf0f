// The file tools: view (numbered lines), write, edit (exact string replacement) and ls.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "base/assert.h"
#include "core/path.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {

namespace {

constexpr std::int64_t kDefaultViewLines = 2000;
constexpr std::size_t kLineBytesMax = 2000;  // longer lines (minified code) are cut for the model
constexpr std::size_t kLsEntriesMax = 1000;
// view reads the whole file; beyond this the model should search or slice it with bash instead.
constexpr std::uint64_t kViewFileBytesMax = 32 << 20;
// What write and edit may leave in a file: no more than the file tools can read back. An edit
// is measured before its result is built, since replace_all multiplies a short input (a 2 KiB
// replacement of each of a million one-byte matches would be 2 GB).
constexpr std::uint64_t kWrittenFileBytesMax = kReadFileBytesMax;

std::string too_large_to_write(std::string_view verb, std::string_view shown, std::uint64_t bytes) {
  return std::string(verb) + " " + std::string(shown) + ": the file would hold " +
         std::to_string(bytes) + " bytes; the file tools write at most " +
         std::to_string(kWrittenFileBytesMax);
}

Json path_schema(std::string_view field, std::string_view what) {
  return {{field, {{"type", "string"}, {"description", what}}}};
}

class ViewTool final : public Tool {
 public:
  std::string_view name() const override { return "view"; }
  ToolTags tags() const override { return {.read_only = true}; }
  std::string_view description() const override {
    return "Reads a text file and returns its lines numbered from 1 (like cat -n). offset is "
           "the first line to show (1-based), limit how many (default 2000). Lines longer "
           "than 2000 characters are cut.";
  }
  Json input_schema() const override {
    Json properties = path_schema("file_path",
                                  "The file to read, absolute or relative to the "
                                  "working directory.");
    properties["offset"] = {
        {"type", "integer"}, {"minimum", 1}, {"description", "First line to show, 1-based."}};
    properties["limit"] = {
        {"type", "integer"}, {"minimum", 1}, {"description", "Number of lines to show."}};
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", {"file_path"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto file_path = required_string(input, "file_path");
    if (!file_path) co_return invalid_input(file_path.error());
    auto offset = optional_integer(input, "offset");
    if (!offset) co_return invalid_input(offset.error());
    auto limit = optional_integer(input, "limit");
    if (!limit) co_return invalid_input(limit.error());
    const std::int64_t first = offset->value_or(1);
    const std::int64_t count = limit->value_or(kDefaultViewLines);
    if (first < 1) {
      co_return tool_failure(
          tool_error::invalid_input,
          "field \"offset\" is a 1-based line number, got " + std::to_string(first));
    }
    if (count < 1) {
      co_return tool_failure(tool_error::invalid_input,
                             "field \"limit\" must be at least 1, got " + std::to_string(count));
    }
    const std::string path = resolve_input_path(ctx, *file_path);
    const std::string shown = shown_path(ctx, path);
    Task<Result<FileEntry>> stat_task = ctx.host.stat(path);
    Result<FileEntry> entry = co_await stat_task;
    if (!entry) co_return host_failure(entry.error(), "view " + shown);
    if (entry->is_directory) {
      co_return tool_failure(tool_error::invalid_input,
                             "view " + shown + ": is a directory (use ls to list it)");
    }
    if (entry->size_bytes > kViewFileBytesMax) {
      co_return tool_failure(tool_error::invalid_input,
                             "view " + shown + ": the file is too large to view (" +
                                 std::to_string(entry->size_bytes) +
                                 " bytes); search it with grep or slice it with bash");
    }
    Task<Result<std::string>> read_task = ctx.host.read_file(path, kViewFileBytesMax);
    Result<std::string> content = co_await read_task;
    if (!content) co_return host_failure(content.error(), "view " + shown);

    Json metadata = {{"path", path}, {"size_bytes", content->size()}};
    if (content->empty()) {
      metadata["total_lines"] = 0;
      co_return tool_success("(" + shown + " is empty)", std::move(metadata));
    }
    // Split into lines; a final newline does not start another line.
    std::vector<std::string_view> lines;
    std::string_view rest = *content;
    while (!rest.empty()) {
      const std::size_t newline = rest.find('\n');
      if (newline == std::string_view::npos) {
        lines.push_back(rest);
        break;
      }
      lines.push_back(rest.substr(0, newline));
      rest.remove_prefix(newline + 1);
    }
    const auto total = static_cast<std::int64_t>(lines.size());
    metadata["total_lines"] = total;
    if (first > total) {
      co_return tool_failure(tool_error::invalid_input,
                             "view " + shown + ": offset " + std::to_string(first) +
                                 " is past the end of the file (" + std::to_string(total) +
                                 " lines)",
                             std::move(metadata));
    }
    const std::int64_t last = std::min(total, first + count - 1);
    std::string out;
    std::size_t cut_lines = 0;
    for (std::int64_t n = first; n <= last; ++n) {
      std::string_view line = lines[static_cast<std::size_t>(n - 1)];
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      char number[32];
      std::snprintf(number, sizeof number, "%6lld\t", static_cast<long long>(n));
      out += number;
      if (line.size() > kLineBytesMax) {
        out.append(line.substr(0, utf8_prefix_length(line, kLineBytesMax)));
        out += " [line cut at 2000 bytes]";
        ++cut_lines;
      } else {
        out.append(line);
      }
      out += '\n';
    }
    if (last < total) {
      out += "[showing lines " + std::to_string(first) + "-" + std::to_string(last) + " of " +
             std::to_string(total) + "; use offset and limit to see more]\n";
    }
    metadata["first_line"] = first;
    metadata["last_line"] = last;
    metadata["cut_lines"] = cut_lines;
    co_return tool_success(cap_output(std::move(out), ctx.output_limit_bytes), std::move(metadata));
  }
};

class WriteTool final : public Tool {
 public:
  std::string_view name() const override { return "write"; }
  ToolTags tags() const override { return {.edits = true}; }
  std::string_view description() const override {
    return "Writes a file, replacing it if it exists and creating missing parent directories.";
  }
  Json input_schema() const override {
    Json properties = path_schema("file_path",
                                  "The file to write, absolute or relative to the "
                                  "working directory.");
    properties["content"] = {{"type", "string"}, {"description", "The complete new content."}};
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", {"file_path", "content"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto file_path = required_string(input, "file_path");
    if (!file_path) co_return invalid_input(file_path.error());
    auto content = required_string(input, "content");
    if (!content) co_return invalid_input(content.error());
    const std::string path = resolve_input_path(ctx, *file_path);
    const std::string shown = shown_path(ctx, path);
    if (content->size() > kWrittenFileBytesMax) {
      co_return tool_failure(tool_error::invalid_input,
                             too_large_to_write("write", shown, content->size()));
    }
    Task<Result<FileEntry>> stat_task = ctx.host.stat(path);
    Result<FileEntry> before = co_await stat_task;
    if (before && before->is_directory) {
      co_return tool_failure(tool_error::invalid_input, "write " + shown + ": is a directory");
    }
    const bool created = !before;
    const std::size_t bytes = content->size();
    Task<Result<void>> write_task = ctx.host.write_file(path, std::move(*content));
    Result<void> written = co_await write_task;
    if (!written) co_return host_failure(written.error(), "write " + shown);
    co_return tool_success(std::string(created ? "created " : "wrote ") + shown + " (" +
                               std::to_string(bytes) + " bytes)",
                           {{"path", path}, {"bytes", bytes}, {"created", created}});
  }
};

std::size_t count_occurrences(std::string_view text, std::string_view needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

class EditTool final : public Tool {
 public:
  std::string_view name() const override { return "edit"; }
  ToolTags tags() const override { return {.edits = true}; }
  std::string_view description() const override {
    return "Replaces old_string with new_string in a file. old_string must occur exactly once "
           "(include enough surrounding lines to make it unique) unless replace_all is true. "
           "An empty old_string creates a file that does not exist yet.";
  }
  Json input_schema() const override {
    Json properties = path_schema("file_path",
                                  "The file to edit, absolute or relative to the "
                                  "working directory.");
    properties["old_string"] = {{"type", "string"}, {"description", "The exact text to replace."}};
    properties["new_string"] = {{"type", "string"}, {"description", "The replacement text."}};
    properties["replace_all"] = {{"type", "boolean"},
                                 {"description", "Replace every occurrence (default false)."}};
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", {"file_path", "old_string", "new_string"}},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto file_path = required_string(input, "file_path");
    if (!file_path) co_return invalid_input(file_path.error());
    auto old_string = required_string(input, "old_string");
    if (!old_string) co_return invalid_input(old_string.error());
    auto new_string = required_string(input, "new_string");
    if (!new_string) co_return invalid_input(new_string.error());
    auto replace_all = optional_bool(input, "replace_all", false);
    if (!replace_all) co_return invalid_input(replace_all.error());
    if (*old_string == *new_string) {
      co_return tool_failure(tool_error::invalid_input,
                             "old_string and new_string are the same: nothing to change");
    }
    const std::string path = resolve_input_path(ctx, *file_path);
    const std::string shown = shown_path(ctx, path);
    Task<Result<std::string>> read_task = ctx.host.read_file(path);
    Result<std::string> content = co_await read_task;

    if (old_string->empty()) {
      // Creating a file: only where there is none, so an edit never silently wipes a file.
      if (content) {
        co_return tool_failure(tool_error::invalid_input,
                               "edit " + shown +
                                   ": old_string is empty but the file exists; give the text "
                                   "to replace (or use write to replace the whole file)");
      }
      if (content.error().code != ErrorCode::not_found) {
        co_return host_failure(content.error(), "edit " + shown);
      }
      Task<Result<void>> create_task = ctx.host.write_file(path, *new_string);
      Result<void> created = co_await create_task;
      if (!created) co_return host_failure(created.error(), "edit " + shown);
      co_return tool_success("created " + shown,
                             {{"path", path}, {"replacements", 0}, {"created", true}});
    }
    if (!content) co_return host_failure(content.error(), "edit " + shown);

    const std::size_t count = count_occurrences(*content, *old_string);
    if (count == 0) {
      co_return tool_failure(tool_error::not_found,
                             "edit " + shown +
                                 ": old_string was not found in the file (it must "
                                 "match exactly, including whitespace)",
                             {{"path", path}, {"occurrences", 0}});
    }
    if (count > 1 && !*replace_all) {
      co_return tool_failure(tool_error::not_unique,
                             "edit " + shown + ": old_string occurs " + std::to_string(count) +
                                 " times; add surrounding lines to make it unique, or set "
                                 "replace_all to replace every occurrence",
                             {{"path", path}, {"occurrences", count}});
    }
    const std::size_t replaced = *replace_all ? count : 1;
    // In 64 bits: each term is at most a few hundred MiB (the file read, the request).
    const std::uint64_t updated_bytes = std::uint64_t{content->size()} -
                                        replaced * std::uint64_t{old_string->size()} +
                                        replaced * std::uint64_t{new_string->size()};
    if (updated_bytes > kWrittenFileBytesMax) {
      co_return tool_failure(tool_error::invalid_input,
                             too_large_to_write("edit", shown, updated_bytes),
                             {{"path", path}, {"occurrences", count}});
    }
    std::string updated;
    updated.reserve(updated_bytes);
    std::size_t from = 0;
    for (std::size_t at = content->find(*old_string); at != std::string::npos;
         at = content->find(*old_string, from)) {
      updated.append(*content, from, at - from);
      updated += *new_string;
      from = at + old_string->size();
      if (!*replace_all) break;
    }
    updated.append(*content, from, std::string::npos);
    RELIANT_ASSERT(updated.size() == updated_bytes);
    Task<Result<void>> write_task = ctx.host.write_file(path, std::move(updated));
    Result<void> written = co_await write_task;
    if (!written) co_return host_failure(written.error(), "edit " + shown);
    co_return tool_success("replaced " + std::to_string(replaced) +
                               (replaced == 1 ? " occurrence in " : " occurrences in ") + shown,
                           {{"path", path}, {"replacements", replaced}, {"created", false}});
  }
};

class LsTool final : public Tool {
 public:
  std::string_view name() const override { return "ls"; }
  ToolTags tags() const override { return {.read_only = true}; }
  std::string_view description() const override {
    return "Lists a directory (default: the working directory): one entry per line, "
           "directories with a trailing '/'.";
  }
  Json input_schema() const override {
    return {{"type", "object"},
            {"properties", path_schema("path",
                                       "The directory to list, absolute or relative to "
                                       "the working directory.")},
            {"additionalProperties", false}};
  }

  Task<ToolResult> run(ToolContext& ctx, Json input) override {
    auto given = optional_string(input, "path");
    if (!given) co_return invalid_input(given.error());
    const std::string path = resolve_input_path(ctx, given->value_or(""));
    const std::string shown = shown_path(ctx, path);
    Task<Result<std::vector<FileEntry>>> list_task = ctx.host.list_directory(path);
    Result<std::vector<FileEntry>> entries = co_await list_task;
    if (!entries) co_return host_failure(entries.error(), "ls " + shown);
    std::string out;
    std::size_t shown_entries = 0;
    for (const auto& entry : *entries) {
      if (shown_entries == kLsEntriesMax) break;
      std::string line(file_name(entry.path));
      if (entry.is_directory) line += '/';
      if (entry.is_symlink) line += " (symlink)";
      append_line(out, line);
      ++shown_entries;
    }
    if (entries->size() > shown_entries) {
      append_line(
          out, "[" + std::to_string(entries->size() - shown_entries) + " more entries not shown]");
    }
    if (out.empty()) out = "(" + shown + " is empty)";
    co_return tool_success(cap_output(std::move(out), ctx.output_limit_bytes),
                           {{"path", path}, {"entries", entries->size()}});
  }
};

}  // namespace

std::unique_ptr<Tool> make_view_tool() { return std::make_unique<ViewTool>(); }
std::unique_ptr<Tool> make_write_tool() { return std::make_unique<WriteTool>(); }
std::unique_ptr<Tool> make_edit_tool() { return std::make_unique<EditTool>(); }
std::unique_ptr<Tool> make_ls_tool() { return std::make_unique<LsTool>(); }

}  // namespace reliant::daemon
