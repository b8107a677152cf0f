// Typed calls for a daemon of protocol 0 (legacy_daemon_calls.h): each method's request as the
// verb and arguments that release's daemon takes, and the verb's JSON answer as the method's
// response.
#include "services/gateway/legacy_daemon_calls.h"

#include <algorithm>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/base64url.h"
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "services/daemon/command_answers.h"

namespace reliant::gateway {
namespace {

namespace v1 = reliant::api::v1;
namespace pages = reliant::daemon::v1;
using Json = nlohmann::json;
using Respond = LegacyCall::Respond;
using Plan = LegacyCall;
using Planner = Result<Plan> (*)(const std::string& bytes);

// base64url text from the daemon back to bytes ("" when it is not base64url: never expected).
std::string bytes_of(const Json& json, const char* key) {
  auto bytes = base64url_decode(text_field(json, key));
  return bytes ? std::move(*bytes) : std::string();
}

void add_strings(const Json& json, const char* key,
                 google::protobuf::RepeatedPtrField<std::string>* out) {
  const auto it = json.find(key);
  if (it == json.end() || !it->is_array()) return;
  for (const auto& item : *it) {
    if (item.is_string()) out->Add(item.get<std::string>());
  }
}

void to_proto(const Json& in, v1::FileEntry& out) {
  out.set_path(text_field(in, "path"));
  out.set_name(text_field(in, "name"));
  out.set_is_directory(bool_field(in, "is_directory"));
  out.set_is_symlink(bool_field(in, "is_symlink"));
  out.set_size_bytes(unsigned_field(in, "size_bytes"));
}

void to_proto(const Json& in, v1::BackgroundProcess& out) {
  out.set_id(text_field(in, "id"));
  out.set_command(text_field(in, "command"));
  out.set_description(text_field(in, "description"));
  out.set_running(bool_field(in, "running"));
  out.set_killed(bool_field(in, "killed"));
  out.set_timed_out(bool_field(in, "timed_out"));
  out.set_state(text_field(in, "state"));
  if (in.contains("exit_code"))
    out.set_exit_code(static_cast<std::int32_t>(integer_field(in, "exit_code")));
  out.set_started_at_ms(integer_field(in, "started_at_ms"));
  out.set_ended_at_ms(integer_field(in, "ended_at_ms"));
  out.set_output_bytes(unsigned_field(in, "output_bytes"));
  out.set_dropped_bytes(unsigned_field(in, "dropped_bytes"));
}

void to_proto(const Json& in, v1::TerminalSession& out) {
  out.set_id(text_field(in, "id"));
  out.set_command(text_field(in, "command"));
  out.set_rows(static_cast<std::int32_t>(integer_field(in, "rows")));
  out.set_cols(static_cast<std::int32_t>(integer_field(in, "cols")));
  out.set_opened_at_ms(integer_field(in, "opened_at_ms"));
  out.set_active_at_ms(integer_field(in, "active_at_ms"));
  out.set_output_bytes(unsigned_field(in, "output_bytes"));
  out.set_running(bool_field(in, "running"));
  if (in.contains("exit_code"))
    out.set_exit_code(static_cast<std::int32_t>(integer_field(in, "exit_code")));
}

void to_proto(const Json& in, v1::McpServer& out) {
  out.set_name(text_field(in, "name"));
  out.set_status(text_field(in, "status"));
  out.set_error(text_field(in, "error"));
  out.set_tools(static_cast<std::int32_t>(integer_field(in, "tools")));
  out.set_restarts(static_cast<std::int32_t>(integer_field(in, "restarts")));
  out.set_server_name(text_field(in, "server_name"));
  out.set_server_version(text_field(in, "server_version"));
  out.set_protocol_version(text_field(in, "protocol_version"));
  add_strings(in, "tags", out.mutable_tags());
  out.set_source(text_field(in, "source"));
}

void to_proto(const Json& in, v1::McpTool& out) {
  out.set_name(text_field(in, "name"));
  out.set_server(text_field(in, "server"));
  out.set_tool(text_field(in, "tool"));
  out.set_description(text_field(in, "description"));
  out.set_input_schema_json(in.value("input_schema", Json::object())
                                .dump(-1, ' ', false, Json::error_handler_t::replace));
  add_strings(in, "tags", out.mutable_tags());
  out.set_read_only(bool_field(in, "read_only"));
}

template <class Message, class List>
void add_each(const Json& array, List* list) {
  if (!array.is_array()) return;
  for (const auto& item : array) to_proto(item, *list->Add());
}

template <class Request>
Result<Request> decoded(const std::string& bytes) {
  return protocol::decode<Request>(bytes);
}

template <class Message>
std::string encoded(const Message& message) {
  return protocol::encode(message);
}

std::string path_or_here(const std::string& path) { return path.empty() ? "." : path; }

// MoveFile and CopyFile: the same request and answer, another command.
Result<Plan> transfer(const std::string& bytes, std::string command) {
  auto in = decoded<v1::TransferFileRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{std::move(command), {{"path", in->path()}, {"to", in->to()}}, [](const Json& answer) {
                v1::TransferFileResponse out;
                out.set_path(text_field(answer, "path"));
                out.set_to(text_field(answer, "to"));
                return encoded(out);
              }};
}

Result<Plan> move_file(const std::string& bytes) { return transfer(bytes, "fs_move"); }
Result<Plan> copy_file(const std::string& bytes) { return transfer(bytes, "fs_copy"); }

Result<Plan> kill_process(const std::string& bytes) {
  auto in = decoded<v1::KillProcessRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"bg_kill", {{"id", in->process_id()}}, [](const Json&) {
                v1::KillProcessResponse out;
                out.set_killed(true);
                return encoded(out);
              }};
}

Result<Plan> list_directory(const std::string& bytes) {
  auto in = decoded<v1::ListDirectoryRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"fs_list", {{"path", path_or_here(in->path())}}, [](const Json& answer) {
                v1::ListDirectoryResponse out;
                out.set_path(text_field(answer, "path"));
                add_each<v1::FileEntry>(answer.value("entries", Json()), out.mutable_entries());
                return encoded(out);
              }};
}

Result<Plan> get_file_tree(const std::string& bytes) {
  auto in = decoded<v1::GetFileTreeRequest>(bytes);
  if (!in) return fail(in.error());
  Json args{{"path", path_or_here(in->path())}};
  if (in->depth() != 0) args["depth"] = in->depth();
  return Plan{"fs_tree", args, [](const Json& answer) {
                v1::GetFileTreeResponse out;
                out.set_root(text_field(answer, "root"));
                add_each<v1::FileEntry>(answer.value("entries", Json()), out.mutable_entries());
                out.set_truncated(bool_field(answer, "truncated"));
                return encoded(out);
              }};
}

Result<Plan> get_file_metadata(const std::string& bytes) {
  auto in = decoded<v1::GetFileMetadataRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"fs_stat", {{"path", path_or_here(in->path())}}, [](const Json& answer) {
                v1::FileEntry out;
                to_proto(answer, out);
                return encoded(out);
              }};
}

Result<Plan> get_file_content(const std::string& bytes) {
  auto in = decoded<v1::GetFileContentRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"fs_read", {{"path", in->path()}}, [](const Json& answer) {
                v1::GetFileContentResponse out;
                out.set_path(text_field(answer, "path"));
                const bool text = text_field(answer, "encoding") == "utf-8";
                out.set_is_text(text);
                out.set_content(text ? text_field(answer, "content") : bytes_of(answer, "content"));
                out.set_size_bytes(unsigned_field(answer, "size_bytes"));
                return encoded(out);
              }};
}

Result<Plan> save_file_content(const std::string& bytes) {
  auto in = decoded<v1::SaveFileContentRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{
      "fs_write", {{"path", in->path()}, {"content", in->content()}}, [](const Json& answer) {
        v1::SaveFileContentResponse out;
        out.set_path(text_field(answer, "path"));
        out.set_size_bytes(unsigned_field(answer, "size_bytes"));
        return encoded(out);
      }};
}

Result<Plan> create_file_or_folder(const std::string& bytes) {
  auto in = decoded<v1::CreateFileOrFolderRequest>(bytes);
  if (!in) return fail(in.error());
  const bool directory = in->kind() == v1::FILE_KIND_DIRECTORY;
  Json args{{"path", in->path()}, {"type", directory ? "directory" : "file"}};
  if (!directory) args["content"] = in->content();
  return Plan{"fs_create", args, [](const Json& answer) {
                v1::CreateFileOrFolderResponse out;
                out.set_path(text_field(answer, "path"));
                return encoded(out);
              }};
}

Result<Plan> delete_file_or_folder(const std::string& bytes) {
  auto in = decoded<v1::DeleteFileOrFolderRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{
      "fs_delete", {{"path", in->path()}, {"recursive", in->recursive()}}, [](const Json& answer) {
        v1::DeleteFileOrFolderResponse out;
        out.set_path(text_field(answer, "path"));
        return encoded(out);
      }};
}

Result<Plan> search_files(const std::string& bytes) {
  auto in = decoded<v1::SearchFilesRequest>(bytes);
  if (!in) return fail(in.error());
  Json args{{"path", path_or_here(in->path())},
            {"query", in->query()},
            {"ignore_case", in->ignore_case()}};
  if (!in->glob().empty()) args["glob"] = in->glob();
  return Plan{"fs_search", args, [](const Json& answer) {
                v1::SearchFilesResponse out;
                const Json matches = answer.value("matches", Json::array());
                for (const auto& match : matches) {
                  v1::SearchMatch* each = out.add_matches();
                  each->set_path(text_field(match, "path"));
                  each->set_line(unsigned_field(match, "line"));
                  each->set_text(text_field(match, "text"));
                }
                out.set_notes(text_field(answer, "notes"));
                return encoded(out);
              }};
}

Result<Plan> list_processes(const std::string& bytes) {
  auto in = decoded<v1::ListProcessesRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"bg_list", Json::object(), [](const Json& answer) {
                v1::ListProcessesResponse out;
                add_each<v1::BackgroundProcess>(answer, out.mutable_processes());
                return encoded(out);
              }};
}

Result<Plan> get_process_output(const std::string& bytes) {
  auto in = decoded<v1::GetProcessOutputRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"bg_output", {{"id", in->process_id()}}, [](const Json& answer) {
                v1::GetProcessOutputResponse out;
                out.set_output(text_field(answer, "output"));
                out.set_dropped_bytes(unsigned_field(answer, "dropped_bytes"));
                to_proto(answer.value("process", Json::object()), *out.mutable_process());
                return encoded(out);
              }};
}

Result<Plan> list_sessions(const std::string& bytes) {
  auto in = decoded<v1::ListTerminalSessionsRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"term_list", Json::object(), [](const Json& answer) {
                v1::ListTerminalSessionsResponse out;
                add_each<v1::TerminalSession>(answer, out.mutable_sessions());
                return encoded(out);
              }};
}

Result<Plan> close_session(const std::string& bytes) {
  auto in = decoded<v1::CloseTerminalSessionRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"term_close", {{"id", in->session_id()}}, [](const Json& answer) {
                v1::TerminalSession out;
                to_proto(answer, out);
                return encoded(out);
              }};
}

Result<Plan> list_servers(const std::string& bytes) {
  auto in = decoded<v1::ListMcpServersRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"mcp_list", Json::object(), [](const Json& answer) {
                v1::ListMcpServersResponse out;
                add_each<v1::McpServer>(answer, out.mutable_servers());
                return encoded(out);
              }};
}

Result<Plan> get_server_tools(const std::string& bytes) {
  auto in = decoded<v1::GetMcpServerToolsRequest>(bytes);
  if (!in) return fail(in.error());
  Json args = Json::object();
  if (!in->server().empty()) args["server"] = in->server();
  return Plan{"mcp_tools", args, [](const Json& answer) {
                v1::GetMcpServerToolsResponse out;
                add_each<v1::McpTool>(answer, out.mutable_tools());
                return encoded(out);
              }};
}

Result<Plan> set_server_enabled(const std::string& bytes) {
  auto in = decoded<v1::SetMcpServerEnabledRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{in->enabled() ? "mcp_enable" : "mcp_disable", Json{{"server", in->server()}},
              [](const Json& answer) {
                v1::McpServer out;
                to_proto(answer, out);
                return encoded(out);
              }};
}

Result<Plan> restart_server(const std::string& bytes) {
  auto in = decoded<v1::RestartMcpServerRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"mcp_restart", Json{{"server", in->server()}}, [](const Json& answer) {
                v1::McpServer out;
                to_proto(answer, out);
                return encoded(out);
              }};
}

Respond config_files() {
  return [](const Json& answer) {
    v1::ListMcpConfigFilesResponse out;
    if (!answer.is_array()) return encoded(out);
    for (const auto& file : answer) {
      v1::McpConfigFile* each = out.add_files();
      each->set_file(text_field(file, "file"));
      each->set_layer(text_field(file, "layer"));
      each->set_sha256(text_field(file, "sha256"));
      each->set_status(text_field(file, "status"));
      const auto servers = file.find("servers");
      if (servers != file.end() && servers->is_object() &&
          !protocol::from_json_into(servers->dump(-1, ' ', false, Json::error_handler_t::replace),
                                    *each->mutable_servers())) {
        each->clear_servers();
      }
      each->set_error(text_field(file, "error"));
    }
    return encoded(out);
  };
}

Result<Plan> list_config_files(const std::string& bytes) {
  auto in = decoded<v1::ListMcpConfigFilesRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"mcp_files", Json::object(), config_files()};
}

Result<Plan> approve_config_file(const std::string& bytes) {
  auto in = decoded<v1::ApproveMcpConfigFileRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"mcp_approve", {{"file", in->file()}, {"sha256", in->sha256()}}, config_files()};
}

// ---- the pages of the api's streams (daemon_pages.proto) ----

Result<Plan> follow_process_output(const std::string& bytes) {
  auto in = decoded<pages::FollowProcessOutputRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"bg_follow",
              {{"id", in->process_id()},
               {"offset", in->offset()},
               {"wait_ms", static_cast<std::uint64_t>(std::max<std::int64_t>(in->wait_ms(), 0))}},
              [](const Json& answer) {
                pages::ProcessOutputPage out;
                out.set_data(bytes_of(answer, "data_base64url"));
                out.set_offset(unsigned_field(answer, "offset"));
                out.set_next(unsigned_field(answer, "next"));
                out.set_dropped(unsigned_field(answer, "dropped"));
                to_proto(answer.value("process", Json::object()), *out.mutable_process());
                return encoded(out);
              }};
}

Respond terminal_session() {
  return [](const Json& answer) {
    v1::TerminalSession out;
    to_proto(answer, out);
    return encoded(out);
  };
}

Result<Plan> open_terminal(const std::string& bytes) {
  auto in = decoded<pages::OpenTerminalRequest>(bytes);
  if (!in) return fail(in.error());
  Json args = Json::object();
  if (in->rows() != 0) args["rows"] = in->rows();
  if (in->cols() != 0) args["cols"] = in->cols();
  return Plan{"term_open", args, terminal_session()};
}

Result<Plan> write_terminal(const std::string& bytes) {
  auto in = decoded<pages::WriteTerminalRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"term_input",
              {{"id", in->session_id()}, {"data_base64url", base64url_encode(in->data())}},
              terminal_session()};
}

Result<Plan> resize_terminal(const std::string& bytes) {
  auto in = decoded<pages::ResizeTerminalRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"term_resize",
              {{"id", in->session_id()}, {"rows", in->rows()}, {"cols", in->cols()}},
              terminal_session()};
}

Result<Plan> read_terminal(const std::string& bytes) {
  auto in = decoded<pages::ReadTerminalRequest>(bytes);
  if (!in) return fail(in.error());
  return Plan{"term_read",
              {{"id", in->session_id()},
               {"offset", in->offset()},
               {"wait_ms", std::max<std::int64_t>(in->wait_ms(), 0)}},
              [](const Json& answer) {
                pages::TerminalOutputPage out;
                out.set_data(bytes_of(answer, "data_base64url"));
                out.set_offset(unsigned_field(answer, "offset"));
                out.set_next(unsigned_field(answer, "next"));
                out.set_dropped(unsigned_field(answer, "dropped"));
                to_proto(answer.value("terminal", Json::object()), *out.mutable_terminal());
                return encoded(out);
              }};
}

const std::map<std::string, Planner, std::less<>>& planners() {
  static const std::map<std::string, Planner, std::less<>> plans = {
      {"/reliant.api.v1.FileSystemService/ListDirectory", &list_directory},
      {"/reliant.api.v1.FileSystemService/GetFileTree", &get_file_tree},
      {"/reliant.api.v1.FileSystemService/GetFileMetadata", &get_file_metadata},
      {"/reliant.api.v1.FileSystemService/GetFileContent", &get_file_content},
      {"/reliant.api.v1.FileSystemService/SaveFileContent", &save_file_content},
      {"/reliant.api.v1.FileSystemService/CreateFileOrFolder", &create_file_or_folder},
      {"/reliant.api.v1.FileSystemService/DeleteFileOrFolder", &delete_file_or_folder},
      {"/reliant.api.v1.FileSystemService/SearchFiles", &search_files},
      {"/reliant.api.v1.BackgroundService/ListProcesses", &list_processes},
      {"/reliant.api.v1.BackgroundService/GetProcessOutput", &get_process_output},
      {"/reliant.api.v1.TerminalService/ListSessions", &list_sessions},
      {"/reliant.api.v1.TerminalService/CloseSession", &close_session},
      {"/reliant.api.v1.MCPService/ListServers", &list_servers},
      {"/reliant.api.v1.MCPService/GetServerTools", &get_server_tools},
      {"/reliant.api.v1.MCPService/SetServerEnabled", &set_server_enabled},
      {"/reliant.api.v1.MCPService/RestartServer", &restart_server},
      {"/reliant.api.v1.MCPService/ListConfigFiles", &list_config_files},
      {"/reliant.api.v1.MCPService/ApproveConfigFile", &approve_config_file},
      {"/reliant.api.v1.FileSystemService/MoveFile", &move_file},
      {"/reliant.api.v1.FileSystemService/CopyFile", &copy_file},
      {"/reliant.api.v1.BackgroundService/KillProcess", &kill_process},
      {"/reliant.daemon.v1.DaemonPages/FollowProcessOutput", &follow_process_output},
      {"/reliant.daemon.v1.DaemonPages/OpenTerminal", &open_terminal},
      {"/reliant.daemon.v1.DaemonPages/ReadTerminal", &read_terminal},
      {"/reliant.daemon.v1.DaemonPages/WriteTerminal", &write_terminal},
      {"/reliant.daemon.v1.DaemonPages/ResizeTerminal", &resize_terminal},
  };
  return plans;
}

}  // namespace

bool has_legacy_call(std::string_view method) { return planners().contains(method); }

std::vector<std::string> legacy_methods() {
  std::vector<std::string> out;
  for (const auto& [method, planner] : planners()) out.push_back(method);
  return out;
}

Result<LegacyCall> legacy_call(std::string_view method, const std::string& request) {
  const auto planner = planners().find(method);
  if (planner == planners().end()) {
    return fail(ErrorCode::unimplemented, "the daemon speaks daemon protocol 0, which has no " +
                                              std::string(method) + ": upgrade the daemon");
  }
  return planner->second(request);
}

daemon::v1::DaemonCommandResult legacy_answer(daemon::v1::DaemonCommandResult verb_answer,
                                              const LegacyCall::Respond& respond) {
  if (!verb_answer.ok()) {
    // Its {"code"} read as every refusal is (daemon/command_answers.h).
    verb_answer.set_error_code(std::string(to_string(daemon::command_refusal(verb_answer).code)));
    verb_answer.clear_output_json();
    return verb_answer;
  }
  const Json output = parse_json_or_discarded(verb_answer.output_json(), kStoredJsonDepthMax);
  verb_answer.clear_output_json();
  try {
    verb_answer.set_response(respond(output));
  } catch (const Json::exception& e) {
    // A field of the wrong type deep in what the daemon sent: its answer is refused, the
    // gateway goes on.
    verb_answer.set_ok(false);
    verb_answer.set_error_code(std::string(to_string(ErrorCode::internal)));
    verb_answer.set_error_message(std::string("the daemon's answer is malformed: ") + e.what());
  }
  return verb_answer;
}

}  // namespace reliant::gateway
