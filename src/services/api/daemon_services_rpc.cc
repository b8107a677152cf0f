// The daemon services' gRPC methods: each decodes its request, checks the daemon is the
// caller's, sends the daemon command REST would send, and encodes the command's JSON answer as
// the method's response message. The two streams loop on long-polling commands.
#include "services/api/daemon_services_rpc.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/base64url.h"
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "runtime/scope.h"
#include "services/api/daemon_routes.h"

namespace reliant::api {
namespace {

namespace v1 = reliant::api::v1;
using Json = nlohmann::json;

constexpr std::string_view kStreamProcessOutput =
    "/reliant.api.v1.BackgroundService/StreamProcessOutput";
constexpr std::string_view kStreamTerminal = "/reliant.api.v1.TerminalService/StreamTerminal";

// ---- the daemon's JSON answers as messages ----

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

// ---- one command ----

// A daemon command whose owner was checked: the daemon's JSON answer, or its refusal.
Task<Result<Json>> command(routing::DaemonRouter& router, std::string user_id,
                           std::string daemon_id, std::string name, Json args) {
  Task<Result<daemon::v1::DaemonCommandResult>> asking =
      router.daemon_command(std::move(user_id), std::move(daemon_id), std::move(name),
                            args.dump(-1, ' ', false, Json::error_handler_t::replace));
  Result<daemon::v1::DaemonCommandResult> answer = co_await asking;
  if (!answer) co_return fail(answer.error());
  if (!answer->ok()) co_return fail(daemon_refusal(*answer));
  co_return parse_json_or_discarded(answer->output_json(), kStoredJsonDepthMax);
}

// Checks that the daemon is the user's (NOT_FOUND otherwise, like no daemon at all).
Task<Result<void>> owned(Env& env, routing::DaemonRouter* router, std::string user_id,
                         std::string daemon_id) {
  if (daemon_id.empty()) co_return fail(ErrorCode::invalid_argument, "daemon_id is required");
  Task<Result<void>> checking = check_daemon_owner(env, std::move(user_id), std::move(daemon_id));
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  if (router == nullptr) {
    co_return fail(ErrorCode::unavailable,
                   "this server reaches no daemon (it has no daemon router)");
  }
  co_return Result<void>{};
}

// What a unary method needs: which daemon and command its request names, and how the answer
// becomes its response.
struct Plan {
  std::string daemon_id;
  std::string command;
  Json args = Json::object();
  std::function<std::string(const Json&)> respond;
};
using Planner = std::function<Result<Plan>(const std::string& request)>;

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
Planner transfer_planner(std::string command) {
  return [command](const std::string& bytes) -> Result<Plan> {
    auto in = decoded<v1::TransferFileRequest>(bytes);
    if (!in) return fail(in.error());
    return Plan{
        in->daemon_id(), command, {{"path", in->path()}, {"to", in->to()}}, [](const Json& answer) {
          v1::TransferFileResponse out;
          out.set_path(text_field(answer, "path"));
          out.set_to(text_field(answer, "to"));
          return encoded(out);
        }};
  };
}

const std::map<std::string_view, Planner>& planners() {
  static const std::map<std::string_view, Planner> plans = {
      {"/reliant.api.v1.FileSystemService/ListDirectory",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::ListDirectoryRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(),
                     "fs_list",
                     {{"path", path_or_here(in->path())}},
                     [](const Json& answer) {
                       v1::ListDirectoryResponse out;
                       out.set_path(text_field(answer, "path"));
                       add_each<v1::FileEntry>(answer.value("entries", Json()),
                                               out.mutable_entries());
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/GetFileTree",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::GetFileTreeRequest>(bytes);
         if (!in) return fail(in.error());
         Json args{{"path", path_or_here(in->path())}};
         if (in->depth() != 0) args["depth"] = in->depth();
         return Plan{in->daemon_id(), "fs_tree", args, [](const Json& answer) {
                       v1::GetFileTreeResponse out;
                       out.set_root(text_field(answer, "root"));
                       add_each<v1::FileEntry>(answer.value("entries", Json()),
                                               out.mutable_entries());
                       out.set_truncated(bool_field(answer, "truncated"));
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/GetFileMetadata",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::GetFileMetadataRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(),
                     "fs_stat",
                     {{"path", path_or_here(in->path())}},
                     [](const Json& answer) {
                       v1::FileEntry out;
                       to_proto(answer, out);
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/GetFileContent",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::GetFileContentRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{
             in->daemon_id(), "fs_read", {{"path", in->path()}}, [](const Json& answer) {
               v1::GetFileContentResponse out;
               out.set_path(text_field(answer, "path"));
               const bool text = text_field(answer, "encoding") == "utf-8";
               out.set_is_text(text);
               out.set_content(text ? text_field(answer, "content") : bytes_of(answer, "content"));
               out.set_size_bytes(unsigned_field(answer, "size_bytes"));
               return encoded(out);
             }};
       }},
      {"/reliant.api.v1.FileSystemService/SaveFileContent",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::SaveFileContentRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(),
                     "fs_write",
                     {{"path", in->path()}, {"content", in->content()}},
                     [](const Json& answer) {
                       v1::SaveFileContentResponse out;
                       out.set_path(text_field(answer, "path"));
                       out.set_size_bytes(unsigned_field(answer, "size_bytes"));
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/CreateFileOrFolder",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::CreateFileOrFolderRequest>(bytes);
         if (!in) return fail(in.error());
         const bool directory = in->kind() == v1::FILE_KIND_DIRECTORY;
         Json args{{"path", in->path()}, {"type", directory ? "directory" : "file"}};
         if (!directory) args["content"] = in->content();
         return Plan{in->daemon_id(), "fs_create", args, [](const Json& answer) {
                       v1::CreateFileOrFolderResponse out;
                       out.set_path(text_field(answer, "path"));
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/DeleteFileOrFolder",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::DeleteFileOrFolderRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(),
                     "fs_delete",
                     {{"path", in->path()}, {"recursive", in->recursive()}},
                     [](const Json& answer) {
                       v1::DeleteFileOrFolderResponse out;
                       out.set_path(text_field(answer, "path"));
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.FileSystemService/MoveFile", transfer_planner("fs_move")},
      {"/reliant.api.v1.FileSystemService/CopyFile", transfer_planner("fs_copy")},
      {"/reliant.api.v1.FileSystemService/SearchFiles",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::SearchFilesRequest>(bytes);
         if (!in) return fail(in.error());
         Json args{{"path", path_or_here(in->path())},
                   {"query", in->query()},
                   {"ignore_case", in->ignore_case()}};
         if (!in->glob().empty()) args["glob"] = in->glob();
         return Plan{in->daemon_id(), "fs_search", args, [](const Json& answer) {
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
       }},
      {"/reliant.api.v1.BackgroundService/ListProcesses",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::ListProcessesRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(), "bg_list", Json::object(), [](const Json& answer) {
                       v1::ListProcessesResponse out;
                       add_each<v1::BackgroundProcess>(answer, out.mutable_processes());
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.BackgroundService/GetProcessOutput",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::GetProcessOutputRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{
             in->daemon_id(), "bg_output", {{"id", in->process_id()}}, [](const Json& answer) {
               v1::GetProcessOutputResponse out;
               out.set_output(text_field(answer, "output"));
               out.set_dropped_bytes(unsigned_field(answer, "dropped_bytes"));
               to_proto(answer.value("process", Json::object()), *out.mutable_process());
               return encoded(out);
             }};
       }},
      {"/reliant.api.v1.TerminalService/ListSessions",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::ListTerminalSessionsRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(), "term_list", Json::object(), [](const Json& answer) {
                       v1::ListTerminalSessionsResponse out;
                       add_each<v1::TerminalSession>(answer, out.mutable_sessions());
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.TerminalService/CloseSession",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::CloseTerminalSessionRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{
             in->daemon_id(), "term_close", {{"id", in->session_id()}}, [](const Json& answer) {
               v1::TerminalSession out;
               to_proto(answer, out);
               return encoded(out);
             }};
       }},
      {"/reliant.api.v1.MCPService/ListServers",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::ListMcpServersRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(), "mcp_list", Json::object(), [](const Json& answer) {
                       v1::ListMcpServersResponse out;
                       add_each<v1::McpServer>(answer, out.mutable_servers());
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.MCPService/GetServerTools",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::GetMcpServerToolsRequest>(bytes);
         if (!in) return fail(in.error());
         Json args = Json::object();
         if (!in->server().empty()) args["server"] = in->server();
         return Plan{in->daemon_id(), "mcp_tools", args, [](const Json& answer) {
                       v1::GetMcpServerToolsResponse out;
                       add_each<v1::McpTool>(answer, out.mutable_tools());
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.MCPService/SetServerEnabled",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::SetMcpServerEnabledRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(), in->enabled() ? "mcp_enable" : "mcp_disable",
                     Json{{"server", in->server()}}, [](const Json& answer) {
                       v1::McpServer out;
                       to_proto(answer, out);
                       return encoded(out);
                     }};
       }},
      {"/reliant.api.v1.MCPService/RestartServer",
       [](const std::string& bytes) -> Result<Plan> {
         auto in = decoded<v1::RestartMcpServerRequest>(bytes);
         if (!in) return fail(in.error());
         return Plan{in->daemon_id(), "mcp_restart", Json{{"server", in->server()}},
                     [](const Json& answer) {
                       v1::McpServer out;
                       to_proto(answer, out);
                       return encoded(out);
                     }};
       }},
  };
  return plans;
}

constexpr std::string_view kKillProcess = "/reliant.api.v1.BackgroundService/KillProcess";

// A stream's credential while the stream runs: `ended` names why it ended ("revoked",
// "expired"), empty while it holds.
struct WatchedCredential {
  std::shared_ptr<std::string> ended = std::make_shared<std::string>();
  std::unique_ptr<CredentialWatch> watch;
};

Result<WatchedCredential> watch_credential(CredentialWatches& watches,
                                           const Credential& credential) {
  WatchedCredential out;
  auto watched = std::make_shared<const CredentialWatch*>(nullptr);
  auto watch = watches.watch(credential, [ended = out.ended, watched] {
    if (ended->empty()) *ended = *watched != nullptr ? (*watched)->why() : "revoked";
  });
  if (!watch) return fail(watch.error());
  *watched = watch->get();
  out.watch = std::move(*watch);
  return out;
}

Error credential_ended(const std::string& why) {
  return Error{ErrorCode::unauthenticated,
               "the credential that opened this stream was " + why + ": it ends"};
}

// ---- StreamTerminal ----

// What the two halves of a terminal stream share. The output half owns it and is the only one
// that writes to the client; the input half forwards keys, sizes and a close.
struct TerminalStream {
  routing::DaemonRouter& router;
  std::string user_id;
  std::string daemon_id;
  std::string session_id;
  bool close_sent = false;
  std::optional<Error> input_failure;  // ends the stream at the output half's next turn
  std::shared_ptr<const std::string> credential_ended;  // non-empty: send nothing more
};

Task<void> forward_input(TerminalStream* stream, RpcReader* in) {
  for (;;) {
    Task<std::optional<std::string>> reading = in->read();
    std::optional<std::string> bytes = co_await reading;
    if (!bytes) co_return;  // the client sends no more; its terminal keeps running
    if (!stream->credential_ended->empty()) co_return;  // what it sent is not run
    auto message = protocol::decode<v1::TerminalStreamInput>(*bytes);
    if (!message) {
      stream->input_failure = message.error();
      co_return;
    }
    std::string name;
    Json args{{"id", stream->session_id}};
    if (message->has_data()) {
      name = "term_input";
      args["data_base64url"] = base64url_encode(message->data().data());
    } else if (message->has_resize()) {
      name = "term_resize";
      args["rows"] = message->resize().rows();
      args["cols"] = message->resize().cols();
    } else if (message->has_close()) {
      name = "term_close";
      stream->close_sent = true;
    } else {
      stream->input_failure =
          Error{ErrorCode::invalid_argument,
                "after create or attach, a terminal stream takes data, resize and close"};
      co_return;
    }
    Task<Result<Json>> sending =
        command(stream->router, stream->user_id, stream->daemon_id, std::move(name), args);
    Result<Json> sent = co_await sending;
    if (!sent && !stream->close_sent) {
      stream->input_failure = sent.error();
      co_return;
    }
    if (stream->close_sent) co_return;
  }
}

}  // namespace

DaemonServicesRpc::DaemonServicesRpc(Env& env, routing::DaemonRouter* router,
                                     CredentialWatches& watches)
    : env_(env), router_(router), watches_(watches) {}

bool DaemonServicesRpc::knows(std::string_view method) const {
  return planners().contains(method) || method == kKillProcess || is_server_streaming(method) ||
         is_bidi_streaming(method);
}

bool DaemonServicesRpc::is_server_streaming(std::string_view method) const {
  return method == kStreamProcessOutput;
}

bool DaemonServicesRpc::is_bidi_streaming(std::string_view method) const {
  return method == kStreamTerminal;
}

Task<Result<std::string>> DaemonServicesRpc::unary(std::string user_id, RpcCall call) {
  if (call.method == kKillProcess) {
    // Seed 001's kill-process operation: request-reply on the bus, only the holder answers.
    auto in = protocol::decode<v1::KillProcessRequest>(call.request);
    if (!in) co_return fail(in.error());
    Task<Result<void>> checking = owned(env_, router_, user_id, in->daemon_id());
    Result<void> checked = co_await checking;
    if (!checked) co_return fail(checked.error());
    Task<Result<daemon::v1::KillProcessResult>> killing =
        router_->kill_process(user_id, in->daemon_id(), in->process_id());
    Result<daemon::v1::KillProcessResult> killed = co_await killing;
    if (!killed) co_return fail(killed.error());
    if (!killed->killed()) co_return fail(ErrorCode::not_found, killed->error_message());
    v1::KillProcessResponse out;
    out.set_killed(true);
    co_return protocol::encode(out);
  }
  const auto planner = planners().find(call.method);
  if (planner == planners().end()) co_return fail(ErrorCode::not_found, "no method " + call.method);
  Result<Plan> plan = planner->second(call.request);
  if (!plan) co_return fail(plan.error());
  Task<Result<void>> checking = owned(env_, router_, user_id, plan->daemon_id);
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  Task<Result<Json>> asking =
      command(*router_, std::move(user_id), plan->daemon_id, plan->command, plan->args);
  Result<Json> answer = co_await asking;
  if (!answer) co_return fail(answer.error());
  co_return plan->respond(*answer);
}

// StreamProcessOutput: pages of bg_follow, each a long-poll, until the process has ended and
// everything it wrote was sent.
Task<Result<void>> DaemonServicesRpc::server_stream(Credential credential, RpcCall call,
                                                    RpcWriter& out) {
  if (call.method != kStreamProcessOutput) {
    co_return fail(ErrorCode::not_found, "no stream method " + call.method);
  }
  Result<WatchedCredential> watched = watch_credential(watches_, credential);
  if (!watched) co_return fail(watched.error());
  const std::string user_id = credential.user_id;
  auto in = protocol::decode<v1::StreamProcessOutputRequest>(call.request);
  if (!in) co_return fail(in.error());
  Task<Result<void>> checking = owned(env_, router_, user_id, in->daemon_id());
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  std::uint64_t offset = in->offset();
  bool first = true;
  for (;;) {
    if (!watched->ended->empty()) co_return fail(credential_ended(*watched->ended));
    Task<Result<Json>> following =
        command(*router_, user_id, in->daemon_id(), "bg_follow",
                {{"id", in->process_id()}, {"offset", offset}, {"wait_ms", to_ms(kPollWait)}});
    Result<Json> page = co_await following;
    if (!page) co_return fail(page.error());
    v1::ProcessOutputEvent event;
    event.set_data(bytes_of(*page, "data_base64url"));
    event.set_offset(unsigned_field(*page, "offset"));
    event.set_dropped(unsigned_field(*page, "dropped"));
    const Json process = page->value("process", Json::object());
    const std::uint64_t next = unsigned_field(*page, "next");
    // Ended, and this page reaches the end of what it wrote: the last event.
    const bool ended =
        !bool_field(process, "running") && next >= unsigned_field(process, "output_bytes");
    event.set_ended(ended);
    if (first || ended) to_proto(process, *event.mutable_process());
    offset = std::max(offset, next);
    if (first || ended || !event.data().empty() || event.dropped() != 0) {
      Task<bool> writing = out.write(protocol::encode(event));
      if (!co_await writing) co_return Result<void>{};  // the client went
      first = false;
    }
    if (ended) co_return Result<void>{};
  }
}

// StreamTerminal: the first message opens or attaches; then the output half pages term_read
// (each a long-poll) to the client while forward_input sends its keys, sizes and a close.
Task<Result<void>> DaemonServicesRpc::bidi_stream(Credential credential, RpcCall call,
                                                  RpcReader& in, RpcWriter& out) {
  if (call.method != kStreamTerminal) {
    co_return fail(ErrorCode::not_found, "no bidirectional method " + call.method);
  }
  Result<WatchedCredential> watched = watch_credential(watches_, credential);
  if (!watched) co_return fail(watched.error());
  const std::string user_id = credential.user_id;
  Task<std::optional<std::string>> reading = in.read();
  std::optional<std::string> first_bytes = co_await reading;
  if (!first_bytes) co_return fail(ErrorCode::invalid_argument, "no create or attach came");
  auto first = protocol::decode<v1::TerminalStreamInput>(*first_bytes);
  if (!first) co_return fail(first.error());
  if (!first->has_create() && !first->has_attach()) {
    co_return fail(ErrorCode::invalid_argument, "a terminal stream starts with create or attach");
  }
  const std::string daemon_id =
      first->has_create() ? first->create().daemon_id() : first->attach().daemon_id();
  Task<Result<void>> checking = owned(env_, router_, user_id, daemon_id);
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());

  TerminalStream stream{*router_, user_id, daemon_id, {}, false, std::nullopt, watched->ended};
  std::uint64_t offset = 0;
  Json session;
  if (first->has_create()) {
    Json args = Json::object();
    if (first->create().rows() != 0) args["rows"] = first->create().rows();
    if (first->create().cols() != 0) args["cols"] = first->create().cols();
    Task<Result<Json>> opening = command(*router_, user_id, daemon_id, "term_open", args);
    Result<Json> opened = co_await opening;
    if (!opened) co_return fail(opened.error());
    session = *opened;
  } else {
    Task<Result<Json>> listing = command(*router_, user_id, daemon_id, "term_list", {});
    Result<Json> listed = co_await listing;
    if (!listed) co_return fail(listed.error());
    for (const auto& each : *listed) {
      if (text_field(each, "id") == first->attach().session_id()) session = each;
    }
    if (session.is_null()) {
      co_return fail(ErrorCode::not_found, "no terminal " + first->attach().session_id());
    }
    offset = first->attach().offset();
  }
  stream.session_id = text_field(session, "id");
  v1::TerminalStreamOutput opened_message;
  to_proto(session, *opened_message.mutable_opened());
  Task<bool> announcing = out.write(protocol::encode(opened_message));
  if (!co_await announcing) co_return Result<void>{};

  Scope input_half(env_.executor);  // destroyed, with the input half, when this returns
  input_half.spawn(forward_input(&stream, &in));
  for (;;) {
    if (!watched->ended->empty()) co_return fail(credential_ended(*watched->ended));
    if (stream.input_failure) co_return fail(*stream.input_failure);
    Task<Result<Json>> paging =
        command(*router_, user_id, daemon_id, "term_read",
                {{"id", stream.session_id}, {"offset", offset}, {"wait_ms", to_ms(kPollWait)}});
    Result<Json> page = co_await paging;
    v1::TerminalStreamOutput message;
    if (!page) {
      // Closed by this client: its end, not a failure.
      if (stream.close_sent && page.error().code == ErrorCode::not_found) {
        message.mutable_closed();
        Task<bool> closing = out.write(protocol::encode(message));
        (void)co_await closing;
        co_return Result<void>{};
      }
      co_return fail(page.error());
    }
    const std::string data = bytes_of(*page, "data_base64url");
    const std::uint64_t dropped = unsigned_field(*page, "dropped");
    offset = std::max(offset, unsigned_field(*page, "next"));
    if (!data.empty() || dropped != 0) {
      v1::TerminalOutputData* chunk = message.mutable_data();
      chunk->set_data(data);
      chunk->set_offset(unsigned_field(*page, "offset"));
      chunk->set_dropped(dropped);
      Task<bool> writing = out.write(protocol::encode(message));
      if (!co_await writing) co_return Result<void>{};  // the client went; the terminal stays
      continue;
    }
    const Json terminal = page->value("terminal", Json::object());
    if (!bool_field(terminal, "running")) {
      v1::TerminalStreamOutput closed;
      if (terminal.contains("exit_code")) {
        closed.mutable_closed()->set_exit_code(
            static_cast<std::int32_t>(integer_field(terminal, "exit_code")));
      } else {
        closed.mutable_closed();
      }
      Task<bool> closing = out.write(protocol::encode(closed));
      (void)co_await closing;
      co_return Result<void>{};
    }
  }
}

}  // namespace reliant::api
