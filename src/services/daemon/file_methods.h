// The FileSystemService's typed methods on the daemon (daemon_methods.h): a browser's file tree,
// viewer and editor reach the user's files through them. Every path goes through the Host, so
// the workspace roots confine these exactly as they confine the agent's file tools: a path that
// resolves outside, by `..`, a symlink or being absolute, is refused (permission_denied).
// Relative paths start at the daemon's working directory.
#pragma once

#include <cstddef>

#include "reliant/api/v1/daemon_services.pb.h"
#include "services/daemon/daemon_methods.h"

namespace reliant::daemon {

namespace api = reliant::api::v1;

inline constexpr std::size_t kFileReadBytesMax = 512 * 1024;
inline constexpr std::size_t kFileWriteBytesMax = 512 * 1024;
inline constexpr std::size_t kFileTreeEntriesMax = 5'000;
inline constexpr int kFileTreeDepthDefault = 3;
inline constexpr int kFileTreeDepthMax = 8;

Task<Result<api::ListDirectoryResponse>> list_directory(api::ListDirectoryRequest in,
                                                        MethodContext& context);
// Breadth first down to `depth` levels, at most kFileTreeEntriesMax entries; linked
// directories are listed, not entered.
Task<Result<api::GetFileTreeResponse>> file_tree(api::GetFileTreeRequest in,
                                                 MethodContext& context);
Task<Result<api::FileEntry>> file_metadata(api::GetFileMetadataRequest in, MethodContext& context);
// At most kFileReadBytesMax, so an answer fits a bus message.
Task<Result<api::GetFileContentResponse>> file_content(api::GetFileContentRequest in,
                                                       MethodContext& context);
// Replaces the file atomically (parents made); at most kFileWriteBytesMax.
Task<Result<api::SaveFileContentResponse>> save_file(api::SaveFileContentRequest in,
                                                     MethodContext& context);
// A new file (refused when something is there) or a directory (parents made; one already
// there is fine).
Task<Result<api::CreateFileOrFolderResponse>> create_file_or_folder(
    api::CreateFileOrFolderRequest in, MethodContext& context);
// A file, link or empty directory; with recursive, a directory and everything under it.
Task<Result<api::DeleteFileOrFolderResponse>> delete_file_or_folder(
    api::DeleteFileOrFolderRequest in, MethodContext& context);
// `to` must not exist. Copies a directory tree with links as links.
Task<Result<api::TransferFileResponse>> move_file(api::TransferFileRequest in,
                                                  MethodContext& context);
Task<Result<api::TransferFileResponse>> copy_file(api::TransferFileRequest in,
                                                  MethodContext& context);
// Lines matching the regular expression, as the agent's grep tool finds them (bounded; hidden,
// binary and large files skipped, and said so in `notes`).
Task<Result<api::SearchFilesResponse>> search_files(api::SearchFilesRequest in,
                                                    MethodContext& context);

}  // namespace reliant::daemon
