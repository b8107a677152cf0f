// A daemon's MCPService over REST: ownership checked in the store, then one daemon command.
#include "services/api/daemon_routes.h"

#include "base/json_parse.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/daemons.h"

namespace reliant::api {
namespace {

// The daemon command and its args a path asks for; nullopt when the path is not one of ours.
struct Command {
  std::string name;
  Json args = Json::object();
};

std::optional<Command> command_for(const std::string& method, const std::vector<std::string>& parts,
                                   const HttpRequest& request) {
  // parts: api v1 daemons {id} files [tree | stat | content], ?path=P (&depth=N)
  if (parts.size() >= 5 && parts[4] == "files") {
    Json args = {{"path", request.query.count("path") ? request.query.at("path") : "."}};
    if (parts.size() == 5 && method == "GET") return Command{"fs_list", args};
    if (parts.size() == 5 && method == "DELETE") {
      if (request.query.count("recursive")) {
        const std::string& recursive = request.query.at("recursive");
        args["recursive"] = recursive == "true"    ? Json(true)
                            : recursive == "false" ? Json(false)
                                                   : Json(recursive);  // refused by the daemon
      }
      if (!request.query.count("path")) args["path"] = Json();  // refused: never "." by default
      return Command{"fs_delete", args};
    }
    // POST bodies carry their own paths: {path, type, content} or {path, to}.
    if (method == "POST" &&
        (parts.size() == 5 || (parts.size() == 6 && (parts[5] == "move" || parts[5] == "copy")))) {
      auto body = parse_json_body(request);
      Json posted = body && body->is_object() ? *body : Json::object();
      if (!posted.contains("path")) posted["path"] = Json();  // refused by the daemon
      return Command{parts.size() == 5 ? "fs_create" : "fs_" + parts[5], posted};
    }
    if (parts.size() != 6) return std::nullopt;
    if (parts[5] == "tree" && method == "GET") {
      if (request.query.count("depth")) {
        const Json depth = parse_json_or_discarded(request.query.at("depth"));
        args["depth"] = depth.is_number_integer() ? depth : Json(-1);  // refused by the daemon
      }
      return Command{"fs_tree", args};
    }
    if (parts[5] == "stat" && method == "GET") return Command{"fs_stat", args};
    if (parts[5] == "search" && method == "GET") {
      for (const char* key : {"query", "glob"}) {
        if (request.query.count(key)) args[key] = request.query.at(key);
      }
      if (request.query.count("ignore_case"))
        args["ignore_case"] = request.query.at("ignore_case") == "true";
      return Command{"fs_search", args};
    }
    if (parts[5] == "content" && method == "GET") return Command{"fs_read", args};
    if (parts[5] == "content" && method == "PUT") {
      auto body = parse_json_body(request);
      args["content"] = body && (*body)["content"].is_string() ? (*body)["content"] : Json();
      return Command{"fs_write", args};
    }
    return std::nullopt;
  }
  // parts: api v1 daemons {id} terminals [{terminal} [input | resize | output]]
  if (parts.size() >= 5 && parts[4] == "terminals") {
    if (parts.size() == 5 && method == "GET") return Command{"term_list"};
    auto body = parse_json_body(request);
    Json args = body && body->is_object() ? *body : Json::object();
    if (parts.size() == 5 && method == "POST") return Command{"term_open", args};
    if (parts.size() < 6) return std::nullopt;
    args["id"] = parts[5];
    if (parts.size() == 6 && method == "DELETE") return Command{"term_close", args};
    if (parts.size() != 7) return std::nullopt;
    if (parts[6] == "input" && method == "POST") return Command{"term_input", args};
    if (parts[6] == "resize" && method == "POST") return Command{"term_resize", args};
    if (parts[6] == "output" && method == "GET") {
      Json read{{"id", parts[5]}};
      for (const char* key : {"offset", "wait_ms"}) {
        if (!request.query.count(key)) continue;
        const Json value = parse_json_or_discarded(request.query.at(key));
        read[key] = value.is_number_integer() ? value : Json(-1);  // refused by the daemon
      }
      return Command{"term_read", read};
    }
    return std::nullopt;
  }
  // parts: api v1 daemons {id} processes [{pid} [output | kill]]
  if (parts.size() >= 5 && parts[4] == "processes") {
    if (parts.size() == 5 && method == "GET") return Command{"bg_list"};
    if (parts.size() == 7 && parts[6] == "output" && method == "GET")
      return Command{"bg_output", Json{{"id", parts[5]}}};
    if (parts.size() == 7 && parts[6] == "follow" && method == "GET") {
      Json follow{{"id", parts[5]}};
      for (const char* key : {"offset", "wait_ms"}) {
        if (!request.query.count(key)) continue;
        const Json value = parse_json_or_discarded(request.query.at(key));
        follow[key] = value.is_number_unsigned() ? value : Json(-1);  // refused by the daemon
      }
      return Command{"bg_follow", follow};
    }
    if (parts.size() == 7 && parts[6] == "kill" && method == "POST")
      return Command{"bg_kill", Json{{"id", parts[5]}}};
    return std::nullopt;
  }
  // parts: api v1 daemons {id} mcp [tools | files [approve] | {server} {verb}]
  if (parts.size() < 5 || parts[4] != "mcp") return std::nullopt;
  if (parts.size() == 5 && method == "GET") return Command{"mcp_list"};
  if (parts.size() == 6 && parts[5] == "files" && method == "GET") return Command{"mcp_files"};
  if (parts.size() == 7 && parts[5] == "files" && parts[6] == "approve" && method == "POST") {
    // {file, sha256}: the content the user reviewed; the daemon refuses it when the file changed.
    auto body = parse_json_body(request);
    Json args = Json::object();
    for (const char* key : {"file", "sha256"}) {
      args[key] = body && body->is_object() ? text_field(*body, key) : "";
    }
    return Command{"mcp_approve", args};
  }
  if (parts.size() == 6 && parts[5] == "tools" && method == "GET") {
    Command command{"mcp_tools"};
    if (request.query.count("server")) command.args["server"] = request.query.at("server");
    return command;
  }
  if (parts.size() == 7 && method == "POST" &&
      (parts[6] == "enable" || parts[6] == "disable" || parts[6] == "restart")) {
    return Command{"mcp_" + parts[6], Json{{"server", parts[5]}}};
  }
  return std::nullopt;
}

}  // namespace

Error daemon_refusal(const daemon::v1::DaemonCommandResult& result) {
  const Json detail = parse_json_or_discarded(result.output_json());
  const std::string code = detail.is_object() ? detail.value("code", "") : "";
  for (ErrorCode known :
       {ErrorCode::not_found, ErrorCode::invalid_argument, ErrorCode::failed_precondition,
        ErrorCode::already_exists, ErrorCode::timeout, ErrorCode::permission_denied,
        ErrorCode::resource_exhausted}) {
    if (code == to_string(known)) return {known, result.error_message()};
  }
  return {ErrorCode::failed_precondition, result.error_message()};
}

Task<Result<void>> check_daemon_owner(Env& env, std::string user_id, std::string daemon_id) {
  Task<Result<bool>> checking =
      env.store->transact_for([user_id, daemon_id](SqlTransaction& tx) -> Result<bool> {
        auto daemon = find_daemon(tx, daemon_id);
        if (!daemon) return fail(daemon.error());
        return *daemon && (*daemon)->user_id == user_id;
      });
  Result<bool> owned = co_await checking;
  if (!owned) co_return fail(owned.error());
  if (!*owned) co_return fail(ErrorCode::not_found, "no daemon " + daemon_id);
  co_return Result<void>{};
}

DaemonRoutes::DaemonRoutes(Env& env, routing::DaemonRouter* router) : env_(env), router_(router) {}

Task<std::optional<HttpResponse>> DaemonRoutes::handle(const HttpRequest& request,
                                                       const std::vector<std::string>& parts,
                                                       const std::string& user_id) {
  // POST /api/v1/daemons/{id}/mcp/reload: fire-and-forget, as the bus carries it.
  const bool reload =
      request.method == "POST" && parts.size() == 6 && parts[4] == "mcp" && parts[5] == "reload";
  const std::optional<Command> command = reload ? std::optional<Command>(Command{"reload_config"})
                                                : command_for(request.method, parts, request);
  if (!command) co_return std::nullopt;
  const std::string daemon_id = parts[3];
  Task<Result<void>> checking = check_daemon_owner(env_, user_id, daemon_id);
  Result<void> owned = co_await checking;
  if (!owned) co_return error_response(owned.error());
  if (router_ == nullptr) {
    co_return error_response(
        {ErrorCode::unavailable, "this server reaches no daemon (it has no daemon router)"});
  }
  if (reload) {
    Task<Result<void>> reloading = router_->reload_config(user_id, daemon_id);
    Result<void> sent = co_await reloading;
    if (!sent) co_return error_response(sent.error());
    co_return json_response(202, {{"reload", "sent"}});
  }
  Task<Result<daemon::v1::DaemonCommandResult>> asking =
      router_->daemon_command(user_id, daemon_id, command->name, command->args.dump());
  Result<daemon::v1::DaemonCommandResult> answer = co_await asking;
  if (!answer) co_return error_response(answer.error());
  if (!answer->ok()) co_return error_response(daemon_refusal(*answer));
  const Json output = parse_json_or_discarded(answer->output_json(), kStoredJsonDepthMax);
  if (command->name == "mcp_list") co_return json_response(200, {{"servers", output}});
  if (command->name == "mcp_tools") co_return json_response(200, {{"tools", output}});
  if (command->name == "mcp_files" || command->name == "mcp_approve") {
    co_return json_response(200, {{"files", output}});
  }
  if (command->name == "fs_create") co_return json_response(201, output);
  if (command->name.starts_with("fs_")) co_return json_response(200, output);
  if (command->name == "bg_list") co_return json_response(200, {{"processes", output}});
  if (command->name == "term_list") co_return json_response(200, {{"terminals", output}});
  if (command->name == "term_read") co_return json_response(200, output);
  if (command->name.starts_with("term_")) {
    co_return json_response(command->name == "term_open" ? 201 : 200, {{"terminal", output}});
  }
  if (command->name == "bg_output" || command->name == "bg_follow")
    co_return json_response(200, output);
  if (command->name == "bg_kill") co_return json_response(200, {{"process", output}});
  co_return json_response(200, {{"server", output}});
}

}  // namespace reliant::api
