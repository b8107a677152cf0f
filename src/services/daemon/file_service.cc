// The FileSystemService's daemon verbs (file_service.h): each is its typed method
// (file_methods.h), its JSON arguments read into the request and its response written as JSON.
#include "services/daemon/file_service.h"

#include <string_view>

#include <nlohmann/json.hpp>

#include "base/base64url.h"
#include "base/json_parse.h"
#include "services/daemon/command_answers.h"
#include "services/daemon/file_methods.h"

namespace reliant::daemon {
namespace {

using Json = nlohmann::json;

Json entry_json(const api::FileEntry& entry) {
  return {{"path", entry.path()},
          {"name", entry.name()},
          {"is_directory", entry.is_directory()},
          {"is_symlink", entry.is_symlink()},
          {"size_bytes", entry.size_bytes()}};
}

Json entries_json(const google::protobuf::RepeatedPtrField<api::FileEntry>& entries) {
  Json out = Json::array();
  for (const auto& entry : entries) out.push_back(entry_json(entry));
  return out;
}

// A typed method's answer as the verb's: `present` writes the response as JSON.
template <class Response, class Present>
Task<v1::DaemonCommandResult> answered(const v1::DaemonCommand& command,
                                       Task<Result<Response>> answering, Present present) {
  Result<Response> response = co_await answering;
  if (!response) co_return command_refused(command, response.error());
  co_return command_answered(command, present(*response));
}

Error needs(const std::string& verb, std::string_view shape) {
  return {ErrorCode::invalid_argument, verb + " needs " + std::string(shape)};
}

Task<v1::DaemonCommandResult> read_verb(const v1::DaemonCommand& command, const Json& args,
                                        MethodContext& context) {
  const std::string path = args["path"].get<std::string>();
  const std::string& verb = command.command();
  if (verb == "fs_list") {
    api::ListDirectoryRequest in;
    in.set_path(path);
    Task<v1::DaemonCommandResult> answering = answered(
        command, list_directory(std::move(in), context), [](const api::ListDirectoryResponse& out) {
          return Json{{"path", out.path()}, {"entries", entries_json(out.entries())}};
        });
    co_return co_await answering;
  }
  if (verb == "fs_tree") {
    const Json depth = args.value("depth", Json(kFileTreeDepthDefault));
    if (!depth.is_number_integer() || depth.get<int>() == 0) {
      co_return command_refused(
          command,
          {ErrorCode::invalid_argument, "depth must be 1 to " + std::to_string(kFileTreeDepthMax)});
    }
    api::GetFileTreeRequest in;
    in.set_path(path);
    in.set_depth(depth.get<int>());
    Task<v1::DaemonCommandResult> answering = answered(
        command, file_tree(std::move(in), context), [](const api::GetFileTreeResponse& out) {
          return Json{{"root", out.root()},
                      {"entries", entries_json(out.entries())},
                      {"truncated", out.truncated()}};
        });
    co_return co_await answering;
  }
  if (verb == "fs_stat") {
    api::GetFileMetadataRequest in;
    in.set_path(path);
    Task<v1::DaemonCommandResult> answering =
        answered(command, file_metadata(std::move(in), context), entry_json);
    co_return co_await answering;
  }
  api::GetFileContentRequest in;  // fs_read
  in.set_path(path);
  Task<v1::DaemonCommandResult> answering = answered(
      command, file_content(std::move(in), context), [](const api::GetFileContentResponse& out) {
        return Json{{"path", out.path()},
                    {"encoding", out.is_text() ? "utf-8" : "base64url"},
                    {"content", out.is_text() ? out.content() : base64url_encode(out.content())},
                    {"size_bytes", out.size_bytes()}};
      });
  co_return co_await answering;
}

Task<v1::DaemonCommandResult> search_verb(const v1::DaemonCommand& command, const Json& args,
                                          MethodContext& context) {
  if (!args.value("query", Json()).is_string()) {
    co_return command_refused(command, needs("fs_search", "{\"query\": REGEX, \"path\"}"));
  }
  api::SearchFilesRequest in;
  in.set_path(args["path"].get<std::string>());
  in.set_query(args["query"].get<std::string>());
  if (args.value("glob", Json()).is_string()) in.set_glob(args["glob"].get<std::string>());
  in.set_ignore_case(args.value("ignore_case", Json()).is_boolean() &&
                     args["ignore_case"].get<bool>());
  Task<v1::DaemonCommandResult> answering = answered(
      command, search_files(std::move(in), context), [](const api::SearchFilesResponse& out) {
        Json matches = Json::array();
        for (const auto& match : out.matches()) {
          matches.push_back(
              {{"path", match.path()}, {"line", match.line()}, {"text", match.text()}});
        }
        return Json{{"matches", matches}, {"notes", out.notes()}};
      });
  co_return co_await answering;
}

Task<v1::DaemonCommandResult> write_verb(const v1::DaemonCommand& command, const Json& args,
                                         MethodContext& context) {
  const std::string path = args["path"].get<std::string>();
  if (!args.value("content", Json()).is_string()) {
    co_return command_refused(command, needs("fs_write", "{\"content\": TEXT}"));
  }
  api::SaveFileContentRequest in;
  in.set_path(path);
  in.set_content(args["content"].get<std::string>());
  Task<v1::DaemonCommandResult> answering = answered(
      command, save_file(std::move(in), context), [](const api::SaveFileContentResponse& out) {
        return Json{{"path", out.path()}, {"size_bytes", out.size_bytes()}};
      });
  co_return co_await answering;
}

Task<v1::DaemonCommandResult> create_verb(const v1::DaemonCommand& command, const Json& args,
                                          MethodContext& context) {
  const Json type = args.value("type", Json("file"));
  const Json content = args.value("content", Json(""));
  if (type != "file" && type != "directory") {
    co_return command_refused(
        command,
        needs("fs_create", "{\"path\", \"type\": \"file\" | \"directory\", \"content\"?: TEXT}"));
  }
  const bool directory = type == "directory";
  if (!directory && !content.is_string()) {
    co_return command_refused(command, needs("fs_create", "{\"content\": TEXT} for a file"));
  }
  api::CreateFileOrFolderRequest in;
  in.set_path(args["path"].get<std::string>());
  in.set_kind(directory ? api::FILE_KIND_DIRECTORY : api::FILE_KIND_FILE);
  if (!directory) in.set_content(content.get<std::string>());
  const std::size_t size = in.content().size();
  Task<v1::DaemonCommandResult> answering =
      answered(command, create_file_or_folder(std::move(in), context),
               [directory, size](const api::CreateFileOrFolderResponse& out) {
                 if (directory) return Json{{"path", out.path()}, {"type", "directory"}};
                 return Json{{"path", out.path()}, {"type", "file"}, {"size_bytes", size}};
               });
  co_return co_await answering;
}

Task<v1::DaemonCommandResult> change_verb(const v1::DaemonCommand& command, const Json& args,
                                          MethodContext& context) {
  const std::string& verb = command.command();
  if (verb == "fs_create") {
    Task<v1::DaemonCommandResult> creating = create_verb(command, args, context);
    co_return co_await creating;
  }
  if (verb == "fs_delete") {
    const Json recursive = args.value("recursive", Json(false));
    if (!recursive.is_boolean()) {
      co_return command_refused(command,
                                {ErrorCode::invalid_argument, "recursive must be true or false"});
    }
    api::DeleteFileOrFolderRequest in;
    in.set_path(args["path"].get<std::string>());
    in.set_recursive(recursive.get<bool>());
    Task<v1::DaemonCommandResult> answering =
        answered(command, delete_file_or_folder(std::move(in), context),
                 [](const api::DeleteFileOrFolderResponse& out) {
                   return Json{{"path", out.path()}, {"deleted", true}};
                 });
    co_return co_await answering;
  }
  if (!args.value("to", Json()).is_string()) {
    co_return command_refused(command, needs(verb, "{\"path\", \"to\"}"));
  }
  api::TransferFileRequest in;
  in.set_path(args["path"].get<std::string>());
  in.set_to(args["to"].get<std::string>());
  Task<Result<api::TransferFileResponse>> moving =
      verb == "fs_move" ? move_file(std::move(in), context) : copy_file(std::move(in), context);
  Task<v1::DaemonCommandResult> answering =
      answered(command, std::move(moving), [](const api::TransferFileResponse& out) {
        return Json{{"path", out.path()}, {"to", out.to()}};
      });
  co_return co_await answering;
}

}  // namespace

bool is_file_command(const std::string& command) {
  return command == "fs_list" || command == "fs_tree" || command == "fs_stat" ||
         command == "fs_read" || command == "fs_write" || command == "fs_search" ||
         command == "fs_create" || command == "fs_delete" || command == "fs_move" ||
         command == "fs_copy";
}

Task<v1::DaemonCommandResult> answer_file_command(v1::DaemonCommand command, ToolContext& tools) {
  const Json args = parse_json_or_discarded(command.args_json());
  if (!args.is_object() || !args.value("path", Json()).is_string()) {
    co_return command_refused(command, needs(command.command(), "{\"path\": TEXT}"));
  }
  MethodContext context{tools};
  const std::string& verb = command.command();
  if (verb == "fs_search") {
    Task<v1::DaemonCommandResult> searching = search_verb(command, args, context);
    co_return co_await searching;
  }
  if (verb == "fs_write") {
    Task<v1::DaemonCommandResult> writing = write_verb(command, args, context);
    co_return co_await writing;
  }
  if (verb == "fs_create" || verb == "fs_delete" || verb == "fs_move" || verb == "fs_copy") {
    Task<v1::DaemonCommandResult> changing = change_verb(command, args, context);
    co_return co_await changing;
  }
  Task<v1::DaemonCommandResult> answering = read_verb(command, args, context);
  co_return co_await answering;
}

}  // namespace reliant::daemon
