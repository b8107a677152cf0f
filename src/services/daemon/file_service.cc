// The FileSystemService's daemon commands (file_service.h), on the Host's confined file calls.
#include "services/daemon/file_service.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/base64url.h"
#include "base/json_parse.h"
#include "base/utf8.h"
#include "services/daemon/command_answers.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {
namespace {

using Json = nlohmann::json;

constexpr int kTreeDepthDefault = 3;
constexpr int kTreeDepthMax = 8;

Json entry_json(const ToolContext& context, const FileEntry& entry) {
  return {{"path", shown_path(context, entry.path)},
          {"name", entry.path.substr(entry.path.find_last_of('/') + 1)},
          {"is_directory", entry.is_directory},
          {"is_symlink", entry.is_symlink},
          {"size_bytes", entry.size_bytes}};
}

// Breadth-first down to `depth`, within the entry budget.
Task<Result<Json>> tree(ToolContext& context, std::string root, int depth) {
  Json entries = Json::array();
  std::vector<std::pair<std::string, int>> pending = {{root, 0}};
  bool truncated = false;
  for (std::size_t next = 0; next < pending.size(); ++next) {
    // Plain locals, not a structured binding, across the suspension (docs/architecture.md §10).
    const std::string directory = pending[next].first;
    const int level = pending[next].second;
    Task<Result<std::vector<FileEntry>>> listing =
        context.host.list_directory(directory, kFileTreeEntriesMax);
    Result<std::vector<FileEntry>> listed = co_await listing;
    if (!listed) {
      if (next == 0) co_return fail(listed.error());
      continue;  // a subdirectory that went away or cannot be read: the rest still shows
    }
    for (const auto& entry : *listed) {
      if (entries.size() >= kFileTreeEntriesMax) {
        truncated = true;
        break;
      }
      entries.push_back(entry_json(context, entry));
      if (entry.is_directory && !entry.is_symlink && level + 1 < depth)
        pending.emplace_back(entry.path, level + 1);
    }
    if (truncated) break;
  }
  co_return Json{
      {"root", shown_path(context, root)}, {"entries", entries}, {"truncated", truncated}};
}

// fs_search: the agent's grep tool, so a search from the browser is bounded, skips what it
// skips and is confined exactly as the model's; its path:line:text lines become entries.
Task<v1::DaemonCommandResult> search(const v1::DaemonCommand& command, ToolContext& context,
                                     const Json& args) {
  if (!args.value("query", Json()).is_string()) {
    co_return command_refused(
        command, {ErrorCode::invalid_argument, "fs_search needs {\"query\": REGEX, \"path\"}"});
  }
  Json input{{"pattern", args["query"]}, {"path", args["path"]}};
  if (args.value("glob", Json()).is_string()) input["glob"] = args["glob"];
  if (args.value("ignore_case", Json()).is_boolean()) input["-i"] = args["ignore_case"];
  const std::unique_ptr<Tool> grep = make_grep_tool();
  Task<ToolResult> running = grep->run(context, std::move(input));
  const ToolResult result = co_await running;
  if (result.is_error) {
    // The tool's codes, back to the ones every file command refuses with.
    ErrorCode code = ErrorCode::failed_precondition;
    if (result.error_code == tool_error::invalid_input) code = ErrorCode::invalid_argument;
    if (result.error_code == tool_error::not_found) code = ErrorCode::not_found;
    if (result.error_code == tool_error::timeout) code = ErrorCode::timeout;
    if (result.content.find(std::string(to_string(ErrorCode::permission_denied))) !=
        std::string::npos)
      code = ErrorCode::permission_denied;
    co_return command_refused(command, {code, result.content});
  }
  Json matches = Json::array();
  std::string notes;
  std::string_view rest = result.content;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    // path:line:text — the path may hold ':', the line number never does.
    std::size_t at = line.find(':');
    bool parsed = false;
    while (at != std::string_view::npos && !parsed) {
      const std::size_t number_end = line.find(':', at + 1);
      if (number_end == std::string_view::npos) break;
      const std::string_view number = line.substr(at + 1, number_end - at - 1);
      if (!number.empty() && number.find_first_not_of("0123456789") == std::string_view::npos) {
        matches.push_back({{"path", std::string(line.substr(0, at))},
                           {"line", std::stoull(std::string(number))},
                           {"text", std::string(line.substr(number_end + 1))}});
        parsed = true;
      }
      at = line.find(':', at + 1);
    }
    if (!parsed && !line.empty()) notes += std::string(line) + "\n";
  }
  co_return command_answered(command, {{"matches", matches}, {"notes", notes}});
}

// fs_create, fs_delete, fs_move and fs_copy: one Host call each, answered with where things are.
Task<v1::DaemonCommandResult> change(const v1::DaemonCommand& command, ToolContext& context,
                                     const Json& args, std::string path) {
  const std::string& verb = command.command();
  const std::string shown = shown_path(context, path);
  if (verb == "fs_create") {
    const std::string type = args.value("type", Json("file")).is_string()
                                 ? args.value("type", std::string("file"))
                                 : std::string();
    if (type == "directory") {
      Task<Result<void>> making = context.host.create_directory(path);
      Result<void> made = co_await making;
      if (!made) co_return command_refused(command, made.error());
      co_return command_answered(command, {{"path", shown}, {"type", "directory"}});
    }
    const Json content_arg = args.value("content", Json(""));
    if (type != "file" || !content_arg.is_string()) {
      co_return command_refused(command,
                                {ErrorCode::invalid_argument,
                                 "fs_create needs {\"path\", \"type\": \"file\" | \"directory\", "
                                 "\"content\"?: TEXT}"});
    }
    std::string content = content_arg.get<std::string>();
    if (content.size() > kFileWriteBytesMax) {
      co_return command_refused(
          command, {ErrorCode::resource_exhausted,
                    "the content has " + std::to_string(content.size()) +
                        " bytes; files are written up to " + std::to_string(kFileWriteBytesMax)});
    }
    Task<Result<FileEntry>> stating = context.host.stat(path);
    Result<FileEntry> existing = co_await stating;
    if (existing)
      co_return command_refused(command, {ErrorCode::already_exists, shown + " exists"});
    if (existing.error().code != ErrorCode::not_found) {
      co_return command_refused(command, existing.error());
    }
    const std::size_t size = content.size();
    Task<Result<void>> writing = context.host.write_file(path, std::move(content));
    Result<void> written = co_await writing;
    if (!written) co_return command_refused(command, written.error());
    co_return command_answered(command, {{"path", shown}, {"type", "file"}, {"size_bytes", size}});
  }
  if (verb == "fs_delete") {
    const Json recursive = args.value("recursive", Json(false));
    if (!recursive.is_boolean()) {
      co_return command_refused(command,
                                {ErrorCode::invalid_argument, "recursive must be true or false"});
    }
    Task<Result<void>> removing = context.host.remove_path(path, recursive.get<bool>());
    Result<void> removed = co_await removing;
    if (!removed) co_return command_refused(command, removed.error());
    co_return command_answered(command, {{"path", shown}, {"deleted", true}});
  }
  if (!args.value("to", Json()).is_string()) {
    co_return command_refused(command,
                              {ErrorCode::invalid_argument, verb + " needs {\"path\", \"to\"}"});
  }
  const std::string to = resolve_input_path(context, args["to"].get<std::string>());
  Task<Result<void>> moving =
      verb == "fs_move" ? context.host.move_path(path, to) : context.host.copy_path(path, to);
  Result<void> moved = co_await moving;
  if (!moved) co_return command_refused(command, moved.error());
  co_return command_answered(command, {{"path", shown}, {"to", shown_path(context, to)}});
}

}  // namespace

bool is_file_command(const std::string& command) {
  return command == "fs_list" || command == "fs_tree" || command == "fs_stat" ||
         command == "fs_read" || command == "fs_write" || command == "fs_search" ||
         command == "fs_create" || command == "fs_delete" || command == "fs_move" ||
         command == "fs_copy";
}

Task<v1::DaemonCommandResult> answer_file_command(v1::DaemonCommand command, ToolContext& context) {
  const Json args = parse_json_or_discarded(command.args_json());
  if (!args.is_object() || !args.value("path", Json()).is_string()) {
    co_return command_refused(
        command, {ErrorCode::invalid_argument, command.command() + " needs {\"path\": TEXT}"});
  }
  const std::string path = resolve_input_path(context, args["path"].get<std::string>());
  const std::string& verb = command.command();
  if (verb == "fs_search") {
    Task<v1::DaemonCommandResult> searching = search(command, context, args);
    co_return co_await searching;
  }
  if (verb == "fs_create" || verb == "fs_delete" || verb == "fs_move" || verb == "fs_copy") {
    Task<v1::DaemonCommandResult> changing = change(command, context, args, path);
    co_return co_await changing;
  }
  if (verb == "fs_list") {
    Task<Result<std::vector<FileEntry>>> listing =
        context.host.list_directory(path, kFileTreeEntriesMax);
    Result<std::vector<FileEntry>> listed = co_await listing;
    if (!listed) co_return command_refused(command, listed.error());
    Json entries = Json::array();
    for (const auto& entry : *listed) entries.push_back(entry_json(context, entry));
    co_return command_answered(command,
                               {{"path", shown_path(context, path)}, {"entries", entries}});
  }
  if (verb == "fs_tree") {
    const Json depth_arg = args.value("depth", Json(kTreeDepthDefault));
    if (!depth_arg.is_number_integer() || depth_arg.get<int>() < 1 ||
        depth_arg.get<int>() > kTreeDepthMax) {
      co_return command_refused(command, {ErrorCode::invalid_argument,
                                          "depth must be 1 to " + std::to_string(kTreeDepthMax)});
    }
    Task<Result<Json>> walking = tree(context, path, depth_arg.get<int>());
    Result<Json> walked = co_await walking;
    if (!walked) co_return command_refused(command, walked.error());
    co_return command_answered(command, *walked);
  }
  if (verb == "fs_stat") {
    Task<Result<FileEntry>> stating = context.host.stat(path);
    Result<FileEntry> entry = co_await stating;
    if (!entry) co_return command_refused(command, entry.error());
    co_return command_answered(command, entry_json(context, *entry));
  }
  if (verb == "fs_read") {
    Task<Result<FileEntry>> stating = context.host.stat(path);
    Result<FileEntry> entry = co_await stating;
    if (!entry) co_return command_refused(command, entry.error());
    if (entry->size_bytes > kFileReadBytesMax) {
      co_return command_refused(
          command, {ErrorCode::resource_exhausted,
                    shown_path(context, path) + " has " + std::to_string(entry->size_bytes) +
                        " bytes; files are read up to " + std::to_string(kFileReadBytesMax)});
    }
    Task<Result<std::string>> reading = context.host.read_file(path, kFileReadBytesMax);
    Result<std::string> content = co_await reading;
    if (!content) co_return command_refused(command, content.error());
    const bool text = is_valid_utf8(*content);
    co_return command_answered(command, {{"path", shown_path(context, path)},
                                         {"encoding", text ? "utf-8" : "base64url"},
                                         {"content", text ? *content : base64url_encode(*content)},
                                         {"size_bytes", content->size()}});
  }
  // fs_write
  if (!args.value("content", Json()).is_string()) {
    co_return command_refused(command,
                              {ErrorCode::invalid_argument, "fs_write needs {\"content\": TEXT}"});
  }
  std::string content = args["content"].get<std::string>();
  if (content.size() > kFileWriteBytesMax) {
    co_return command_refused(
        command, {ErrorCode::resource_exhausted,
                  "the content has " + std::to_string(content.size()) +
                      " bytes; files are written up to " + std::to_string(kFileWriteBytesMax)});
  }
  const std::size_t size = content.size();
  Task<Result<void>> writing = context.host.write_file(path, std::move(content));
  Result<void> written = co_await writing;
  if (!written) co_return command_refused(command, written.error());
  co_return command_answered(command, {{"path", shown_path(context, path)}, {"size_bytes", size}});
}

}  // namespace reliant::daemon
