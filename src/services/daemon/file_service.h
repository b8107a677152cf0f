// The daemon's FileSystemService as JSON verbs (answered by answer_daemon_command), for REST and
// for servers of the previous release: each verb is the typed method of file_methods.h, its
// arguments read into the request and its response written as JSON.
//   fs_list  {path}                       the entries directly under a directory
//   fs_tree  {path, depth?}               entries down to `depth` levels (default 3, at most 8),
//                                         at most kFileTreeEntriesMax of them; linked directories
//                                         are listed, not entered
//   fs_stat  {path}                       one entry
//   fs_read  {path}                       {content, encoding: utf-8 | base64url, size_bytes}; at
//                                         most kFileReadBytesMax, so an answer fits a bus message
//   fs_write {path, content}              replaces the file atomically (parents made); at most
//                                         kFileWriteBytesMax
//   fs_search {path, query, glob?, ignore_case?}
//                                         {matches: [{path, line, text}], notes}: lines matching
//                                         the regular expression, as the agent's grep tool finds
//                                         them (bounded; hidden, binary, large files skipped)
//   fs_create {path, type: file | directory, content?}
//                                         a new file (refused when something is there) or a
//                                         directory (parents made; one already there is fine)
//   fs_delete {path, recursive?}          a file, link or empty directory; with recursive, a
//                                         directory and everything under it (never a root)
//   fs_move  {path, to}                   renames a file or directory; `to` must not exist
//   fs_copy  {path, to}                   copies a file or a directory tree (links as links)
// A refusal has ok false, error_message, and output_json {"code": the ErrorCode's name}.
#pragma once

#include <cstddef>
#include <string>

#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/task.h"
#include "services/daemon/file_methods.h"
#include "services/daemon/tools/tool.h"

namespace reliant::daemon {

bool is_file_command(const std::string& command);
Task<v1::DaemonCommandResult> answer_file_command(v1::DaemonCommand command, ToolContext& tools);

}  // namespace reliant::daemon
