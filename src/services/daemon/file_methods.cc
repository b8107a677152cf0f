// The FileSystemService's typed methods (file_methods.h), on the Host's confined file calls.
#include "services/daemon/file_methods.h"

#include <charconv>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "base/utf8.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::daemon {
namespace {

std::string resolved(const MethodContext& context, const std::string& path) {
  return resolve_input_path(context.tools, path.empty() ? "." : path);
}

// The paths that change or name one file: never the working directory by default.
Result<std::string> named_path(const MethodContext& context, const std::string& path) {
  if (path.empty()) return fail(ErrorCode::invalid_argument, "path is required");
  return resolve_input_path(context.tools, path);
}

void fill(const MethodContext& context, const FileEntry& entry, api::FileEntry& out) {
  out.set_path(shown_path(context.tools, entry.path));
  out.set_name(entry.path.substr(entry.path.find_last_of('/') + 1));
  out.set_is_directory(entry.is_directory);
  out.set_is_symlink(entry.is_symlink);
  out.set_size_bytes(entry.size_bytes);
}

Error too_large_to_write(std::size_t size) {
  return {ErrorCode::resource_exhausted, "the content has " + std::to_string(size) +
                                             " bytes; files are written up to " +
                                             std::to_string(kFileWriteBytesMax)};
}

// The grep tool's error codes, back to the ones every file method refuses with.
ErrorCode search_refusal(const ToolResult& result) {
  if (result.error_code == tool_error::invalid_input) return ErrorCode::invalid_argument;
  if (result.error_code == tool_error::not_found) return ErrorCode::not_found;
  if (result.error_code == tool_error::timeout) return ErrorCode::timeout;
  if (result.content.find(std::string(to_string(ErrorCode::permission_denied))) !=
      std::string::npos)
    return ErrorCode::permission_denied;
  return ErrorCode::failed_precondition;
}

// One "path:line:text" line of grep's answer as a match (the path may hold ':', the line number
// never does); false for a line that is a note.
bool parse_match(std::string_view line, api::SearchMatch& out) {
  for (std::size_t at = line.find(':'); at != std::string_view::npos; at = line.find(':', at + 1)) {
    const std::size_t number_end = line.find(':', at + 1);
    if (number_end == std::string_view::npos) return false;
    const std::string_view number = line.substr(at + 1, number_end - at - 1);
    std::uint64_t line_number = 0;
    const auto [end, problem] =
        std::from_chars(number.data(), number.data() + number.size(), line_number);
    // Not a number, or one too long to be a line's (a file name like a:123456789012345678901:b):
    // part of the path.
    if (number.empty() || problem != std::errc() || end != number.data() + number.size()) continue;
    out.set_path(std::string(line.substr(0, at)));
    out.set_line(line_number);
    out.set_text(std::string(line.substr(number_end + 1)));
    return true;
  }
  return false;
}

}  // namespace

Task<Result<api::ListDirectoryResponse>> list_directory(api::ListDirectoryRequest in,
                                                        MethodContext& context) {
  const std::string path = resolved(context, in.path());
  Task<Result<std::vector<FileEntry>>> listing =
      context.tools.host.list_directory(path, kFileTreeEntriesMax);
  Result<std::vector<FileEntry>> listed = co_await listing;
  if (!listed) co_return fail(listed.error());
  api::ListDirectoryResponse out;
  out.set_path(shown_path(context.tools, path));
  for (const auto& entry : *listed) fill(context, entry, *out.add_entries());
  RELIANT_ASSERT(static_cast<std::size_t>(out.entries_size()) <= kFileTreeEntriesMax);
  co_return out;
}

Task<Result<api::GetFileTreeResponse>> file_tree(api::GetFileTreeRequest in,
                                                 MethodContext& context) {
  const int depth = in.depth() == 0 ? kFileTreeDepthDefault : in.depth();
  if (depth < 1 || depth > kFileTreeDepthMax) {
    co_return fail(ErrorCode::invalid_argument,
                   "depth must be 1 to " + std::to_string(kFileTreeDepthMax));
  }
  const std::string root = resolved(context, in.path());
  api::GetFileTreeResponse out;
  out.set_root(shown_path(context.tools, root));
  std::vector<std::pair<std::string, int>> pending = {{root, 0}};
  for (std::size_t next = 0; next < pending.size() && !out.truncated(); ++next) {
    // Plain locals, not a structured binding, across the suspension (docs/architecture.md §10).
    const std::string directory = pending[next].first;
    const int level = pending[next].second;
    Task<Result<std::vector<FileEntry>>> listing =
        context.tools.host.list_directory(directory, kFileTreeEntriesMax);
    Result<std::vector<FileEntry>> listed = co_await listing;
    if (!listed) {
      if (next == 0) co_return fail(listed.error());
      continue;  // a subdirectory that went away or cannot be read: the rest still shows
    }
    for (const auto& entry : *listed) {
      if (static_cast<std::size_t>(out.entries_size()) >= kFileTreeEntriesMax) {
        out.set_truncated(true);
        break;
      }
      fill(context, entry, *out.add_entries());
      if (entry.is_directory && !entry.is_symlink && level + 1 < depth)
        pending.emplace_back(entry.path, level + 1);
    }
  }
  co_return out;
}

Task<Result<api::FileEntry>> file_metadata(api::GetFileMetadataRequest in, MethodContext& context) {
  Task<Result<FileEntry>> stating = context.tools.host.stat(resolved(context, in.path()));
  Result<FileEntry> entry = co_await stating;
  if (!entry) co_return fail(entry.error());
  api::FileEntry out;
  fill(context, *entry, out);
  co_return out;
}

Task<Result<api::GetFileContentResponse>> file_content(api::GetFileContentRequest in,
                                                       MethodContext& context) {
  const Result<std::string> path = named_path(context, in.path());
  if (!path) co_return fail(path.error());
  Task<Result<FileEntry>> stating = context.tools.host.stat(*path);
  Result<FileEntry> entry = co_await stating;
  if (!entry) co_return fail(entry.error());
  const std::string shown = shown_path(context.tools, *path);
  if (entry->size_bytes > kFileReadBytesMax) {
    co_return fail(ErrorCode::resource_exhausted,
                   shown + " has " + std::to_string(entry->size_bytes) +
                       " bytes; files are read up to " + std::to_string(kFileReadBytesMax));
  }
  Task<Result<std::string>> reading = context.tools.host.read_file(*path, kFileReadBytesMax);
  Result<std::string> content = co_await reading;
  if (!content) co_return fail(content.error());
  api::GetFileContentResponse out;
  out.set_path(shown);
  out.set_is_text(is_valid_utf8(*content));
  out.set_size_bytes(content->size());
  out.set_content(std::move(*content));
  co_return out;
}

Task<Result<api::SaveFileContentResponse>> save_file(api::SaveFileContentRequest in,
                                                     MethodContext& context) {
  const Result<std::string> path = named_path(context, in.path());
  if (!path) co_return fail(path.error());
  if (in.content().size() > kFileWriteBytesMax)
    co_return fail(too_large_to_write(in.content().size()));
  api::SaveFileContentResponse out;
  out.set_path(shown_path(context.tools, *path));
  out.set_size_bytes(in.content().size());
  Task<Result<void>> writing =
      context.tools.host.write_file(*path, std::move(*in.mutable_content()));
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  co_return out;
}

Task<Result<api::CreateFileOrFolderResponse>> create_file_or_folder(
    api::CreateFileOrFolderRequest in, MethodContext& context) {
  const Result<std::string> path = named_path(context, in.path());
  if (!path) co_return fail(path.error());
  api::CreateFileOrFolderResponse out;
  out.set_path(shown_path(context.tools, *path));
  if (in.kind() == api::FILE_KIND_DIRECTORY) {
    Task<Result<void>> making = context.tools.host.create_directory(*path);
    Result<void> made = co_await making;
    if (!made) co_return fail(made.error());
    co_return out;
  }
  if (in.content().size() > kFileWriteBytesMax)
    co_return fail(too_large_to_write(in.content().size()));
  Task<Result<FileEntry>> stating = context.tools.host.stat(*path);
  Result<FileEntry> existing = co_await stating;
  if (existing) co_return fail(ErrorCode::already_exists, out.path() + " exists");
  if (existing.error().code != ErrorCode::not_found) co_return fail(existing.error());
  Task<Result<void>> writing =
      context.tools.host.write_file(*path, std::move(*in.mutable_content()));
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  co_return out;
}

Task<Result<api::DeleteFileOrFolderResponse>> delete_file_or_folder(
    api::DeleteFileOrFolderRequest in, MethodContext& context) {
  const Result<std::string> path = named_path(context, in.path());
  if (!path) co_return fail(path.error());
  Task<Result<void>> removing = context.tools.host.remove_path(*path, in.recursive());
  Result<void> removed = co_await removing;
  if (!removed) co_return fail(removed.error());
  api::DeleteFileOrFolderResponse out;
  out.set_path(shown_path(context.tools, *path));
  co_return out;
}

namespace {

Task<Result<api::TransferFileResponse>> transfer(api::TransferFileRequest in,
                                                 MethodContext& context, bool move) {
  const Result<std::string> path = named_path(context, in.path());
  if (!path) co_return fail(path.error());
  if (in.to().empty()) co_return fail(ErrorCode::invalid_argument, "to is required");
  const std::string to = resolve_input_path(context.tools, in.to());
  Task<Result<void>> moving =
      move ? context.tools.host.move_path(*path, to) : context.tools.host.copy_path(*path, to);
  Result<void> moved = co_await moving;
  if (!moved) co_return fail(moved.error());
  api::TransferFileResponse out;
  out.set_path(shown_path(context.tools, *path));
  out.set_to(shown_path(context.tools, to));
  co_return out;
}

}  // namespace

Task<Result<api::TransferFileResponse>> move_file(api::TransferFileRequest in,
                                                  MethodContext& context) {
  return transfer(std::move(in), context, true);
}

Task<Result<api::TransferFileResponse>> copy_file(api::TransferFileRequest in,
                                                  MethodContext& context) {
  return transfer(std::move(in), context, false);
}

// The agent's grep tool, so a search from the browser is bounded, skips what it skips and is
// confined exactly as the model's; its path:line:text lines become matches.
Task<Result<api::SearchFilesResponse>> search_files(api::SearchFilesRequest in,
                                                    MethodContext& context) {
  if (in.query().empty()) {
    co_return fail(ErrorCode::invalid_argument, "query is required (a regular expression)");
  }
  Json input{{"pattern", in.query()}, {"path", in.path().empty() ? "." : in.path()}};
  if (!in.glob().empty()) input["glob"] = in.glob();
  if (in.ignore_case()) input["-i"] = true;
  const std::unique_ptr<Tool> grep = make_grep_tool();
  Task<ToolResult> running = grep->run(context.tools, std::move(input));
  const ToolResult result = co_await running;
  if (result.is_error) co_return fail(search_refusal(result), result.content);
  api::SearchFilesResponse out;
  std::string_view rest = result.content;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    api::SearchMatch match;
    if (parse_match(line, match)) {
      *out.add_matches() = std::move(match);
    } else if (!line.empty()) {
      out.mutable_notes()->append(line).append("\n");
    }
  }
  co_return out;
}

void add_file_methods(DaemonMethods& methods) {
  const std::string service = "/reliant.api.v1.FileSystemService/";
  methods.add(service + "ListDirectory", &list_directory);
  methods.add(service + "GetFileTree", &file_tree);
  methods.add(service + "GetFileMetadata", &file_metadata);
  methods.add(service + "GetFileContent", &file_content);
  methods.add(service + "SaveFileContent", &save_file);
  methods.add(service + "CreateFileOrFolder", &create_file_or_folder);
  methods.add(service + "DeleteFileOrFolder", &delete_file_or_folder);
  methods.add(service + "MoveFile", &move_file);
  methods.add(service + "CopyFile", &copy_file);
  methods.add(service + "SearchFiles", &search_files);
}

}  // namespace reliant::daemon
