// A daemon's services over REST as a table of routes (daemon_routes.h): each a method, a path,
// the daemon verb it asks with its arguments from the request, and how the answer is shown.
#include "services/api/daemon_routes.h"

#include "base/json_parse.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/api/route_table.h"
#include "services/daemon/command_answers.h"
#include "services/storage/daemons.h"

namespace reliant::api {
namespace {

// A query value as a JSON number when it is one of the kind `wanted` says, else -1: refused by
// the daemon, which names the argument.
Json number_query(const HttpRequest& request, const char* key, bool unsigned_only) {
  const Json value = parse_json_or_discarded(request.query.at(key));
  const bool fits = unsigned_only ? value.is_number_unsigned() : value.is_number_integer();
  return fits ? value : Json(-1);
}

std::string query_or(const HttpRequest& request, const char* key, std::string fallback) {
  return request.query.count(key) ? request.query.at(key) : std::move(fallback);
}

// The posted JSON object ({} when the body is none).
Json body_object(const HttpRequest& request) {
  auto body = parse_json_body(request);
  return body && body->is_object() ? *body : Json::object();
}

// ---- the arguments each route's verb takes, from the request ----

Json no_args(const HttpRequest&, const RouteParams&) { return Json::object(); }

Json path_args(const HttpRequest& request, const RouteParams&) {
  return {{"path", query_or(request, "path", ".")}};
}

// Never "." by default: a DELETE without a path is refused by the daemon.
Json delete_args(const HttpRequest& request, const RouteParams&) {
  Json args = {{"path", request.query.count("path") ? Json(request.query.at("path")) : Json()}};
  if (request.query.count("recursive")) {
    const std::string& recursive = request.query.at("recursive");
    args["recursive"] = recursive == "true"    ? Json(true)
                        : recursive == "false" ? Json(false)
                                               : Json(recursive);  // refused by the daemon
  }
  return args;
}

// POST bodies carry their own paths: {path, type, content} or {path, to}.
Json posted_args(const HttpRequest& request, const RouteParams&) {
  Json posted = body_object(request);
  if (!posted.contains("path")) posted["path"] = Json();  // refused by the daemon
  return posted;
}

Json tree_args(const HttpRequest& request, const RouteParams& params) {
  Json args = path_args(request, params);
  if (request.query.count("depth")) args["depth"] = number_query(request, "depth", false);
  return args;
}

Json search_args(const HttpRequest& request, const RouteParams& params) {
  Json args = path_args(request, params);
  for (const char* key : {"query", "glob"}) {
    if (request.query.count(key)) args[key] = request.query.at(key);
  }
  if (request.query.count("ignore_case"))
    args["ignore_case"] = request.query.at("ignore_case") == "true";
  return args;
}

Json write_args(const HttpRequest& request, const RouteParams& params) {
  Json args = path_args(request, params);
  auto body = parse_json_body(request);
  args["content"] = body && (*body)["content"].is_string() ? (*body)["content"] : Json();
  return args;
}

Json body_args(const HttpRequest& request, const RouteParams&) { return body_object(request); }

Json terminal_body_args(const HttpRequest& request, const RouteParams& params) {
  Json args = body_object(request);
  args["id"] = params["terminal"];
  return args;
}

Json terminal_id_args(const HttpRequest&, const RouteParams& params) {
  return {{"id", params["terminal"]}};
}

// {id, offset?, wait_ms?}: a page from a byte offset, waiting up to wait_ms for more.
template <const char* Name, bool Unsigned>
Json page_args(const HttpRequest& request, const RouteParams& params) {
  Json args{{"id", params[Name]}};
  for (const char* key : {"offset", "wait_ms"}) {
    if (request.query.count(key)) args[key] = number_query(request, key, Unsigned);
  }
  return args;
}
constexpr char kTerminal[] = "terminal";
constexpr char kProcess[] = "process";

Json process_args(const HttpRequest&, const RouteParams& params) {
  return {{"id", params["process"]}};
}

Json server_args(const HttpRequest&, const RouteParams& params) {
  return {{"server", params["server"]}};
}

Json tools_args(const HttpRequest& request, const RouteParams&) {
  Json args = Json::object();
  if (request.query.count("server")) args["server"] = request.query.at("server");
  return args;
}

// {file, sha256}: the content the user reviewed; the daemon refuses it when the file changed.
Json approve_args(const HttpRequest& request, const RouteParams&) {
  const Json body = body_object(request);
  return {{"file", text_field(body, "file")}, {"sha256", text_field(body, "sha256")}};
}

// A route: the daemon verb it asks, its arguments, and how the answer is shown — its status,
// and the key it is wrapped in (none: the answer as it is).
struct DaemonRoute {
  const char* verb;
  Json (*args)(const HttpRequest&, const RouteParams&);
  int status = 200;
  const char* wrap = nullptr;
};

const RouteTable<DaemonRoute>& daemon_routes() {
  static const RouteTable<DaemonRoute> routes = [] {
    RouteTable<DaemonRoute> t;
    const std::string d = "/api/v1/daemons/{daemon}";
    t.add("GET", d + "/files", {"fs_list", path_args})
        .add("DELETE", d + "/files", {"fs_delete", delete_args})
        .add("POST", d + "/files", {"fs_create", posted_args, 201})
        .add("POST", d + "/files/move", {"fs_move", posted_args})
        .add("POST", d + "/files/copy", {"fs_copy", posted_args})
        .add("GET", d + "/files/tree", {"fs_tree", tree_args})
        .add("GET", d + "/files/stat", {"fs_stat", path_args})
        .add("GET", d + "/files/search", {"fs_search", search_args})
        .add("GET", d + "/files/content", {"fs_read", path_args})
        .add("PUT", d + "/files/content", {"fs_write", write_args});
    t.add("GET", d + "/terminals", {"term_list", no_args, 200, "terminals"})
        .add("POST", d + "/terminals", {"term_open", body_args, 201, "terminal"})
        .add("DELETE", d + "/terminals/{terminal}",
             {"term_close", terminal_id_args, 200, "terminal"})
        .add("POST", d + "/terminals/{terminal}/input",
             {"term_input", terminal_body_args, 200, "terminal"})
        .add("POST", d + "/terminals/{terminal}/resize",
             {"term_resize", terminal_body_args, 200, "terminal"})
        .add("GET", d + "/terminals/{terminal}/output", {"term_read", page_args<kTerminal, false>});
    t.add("GET", d + "/processes", {"bg_list", no_args, 200, "processes"})
        .add("GET", d + "/processes/{process}/output", {"bg_output", process_args})
        .add("GET", d + "/processes/{process}/follow", {"bg_follow", page_args<kProcess, true>})
        .add("POST", d + "/processes/{process}/kill", {"bg_kill", process_args, 200, "process"});
    t.add("GET", d + "/mcp", {"mcp_list", no_args, 200, "servers"})
        .add("POST", d + "/mcp/reload", {"reload_config", no_args, 202})
        .add("GET", d + "/mcp/files", {"mcp_files", no_args, 200, "files"})
        .add("POST", d + "/mcp/files/approve", {"mcp_approve", approve_args, 200, "files"})
        .add("GET", d + "/mcp/tools", {"mcp_tools", tools_args, 200, "tools"})
        .add("POST", d + "/mcp/{server}/enable", {"mcp_enable", server_args, 200, "server"})
        .add("POST", d + "/mcp/{server}/disable", {"mcp_disable", server_args, 200, "server"})
        .add("POST", d + "/mcp/{server}/restart", {"mcp_restart", server_args, 200, "server"});
    return t;
  }();
  return routes;
}

}  // namespace

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
  RouteParams params;
  const DaemonRoute* route = daemon_routes().find(request.method, parts, params);
  if (route == nullptr) co_return std::nullopt;
  const std::string daemon_id = params["daemon"];
  const Json args = route->args(request, params);
  Task<Result<void>> checking = check_daemon_owner(env_, user_id, daemon_id);
  Result<void> owned = co_await checking;
  if (!owned) co_return error_response(owned.error());
  if (router_ == nullptr) {
    co_return error_response(
        {ErrorCode::unavailable, "this server reaches no daemon (it has no daemon router)"});
  }
  if (std::string_view(route->verb) == "reload_config") {
    // Fire-and-forget, as the bus carries it.
    Task<Result<void>> reloading = router_->reload_config(user_id, daemon_id);
    Result<void> sent = co_await reloading;
    if (!sent) co_return error_response(sent.error());
    co_return json_response(route->status, {{"reload", "sent"}});
  }
  Task<Result<daemon::v1::DaemonCommandResult>> asking =
      router_->daemon_command(user_id, daemon_id, route->verb, args.dump());
  Result<daemon::v1::DaemonCommandResult> answer = co_await asking;
  if (!answer) co_return error_response(answer.error());
  if (!answer->ok()) co_return error_response(daemon::command_refusal(*answer));
  Json output = parse_json_or_discarded(answer->output_json(), kStoredJsonDepthMax);
  if (route->wrap != nullptr) output = Json{{route->wrap, std::move(output)}};
  co_return json_response(route->status, output);
}

}  // namespace reliant::api
