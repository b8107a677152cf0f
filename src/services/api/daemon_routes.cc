// A daemon's services over REST as a table of routes (daemon_routes.h): each a method and a path,
// the typed call it makes (a method of daemon_services.proto, or a page of daemon_pages.proto)
// and the fields the route fixes. The request message is the path's captures, the query and the
// posted object, read with protobuf's JSON mapping; the answer is the response message in it.
#include "services/api/daemon_routes.h"

#include <memory>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "base/assert.h"
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/api/route_table.h"
#include "services/storage/daemons.h"

namespace reliant::api {
namespace {

namespace pb = google::protobuf;

// A route: the typed call it makes (null: the fire-and-forget reload), the fields it fixes
// (as JSON), and its status on success.
struct DaemonRoute {
  const pb::MethodDescriptor* method = nullptr;
  Json fixed = Json::object();
  int status = 200;
};

// "FileSystemService/ListDirectory" → its descriptor; a name that is not in the pool is a
// programming error, found when the table is built.
DaemonRoute call(std::string_view service_and_method, Json fixed = Json::object(),
                 int status = 200) {
  const std::string_view pages = "DaemonPages/";
  std::string full_name =
      service_and_method.starts_with(pages) ? "reliant.daemon.v1." : "reliant.api.v1.";
  full_name += service_and_method;
  full_name[full_name.find('/')] = '.';
  const pb::MethodDescriptor* method =
      pb::DescriptorPool::generated_pool()->FindMethodByName(full_name);
  RELIANT_ASSERT_MSG(
      method != nullptr && !method->client_streaming() && !method->server_streaming(),
      "a daemon route names a unary method of the daemon's protos");
  return DaemonRoute{method, std::move(fixed), status};
}

// The table under construction: each route's captures and fixed fields are checked against its
// request message as it is added, so a misnamed one fails at start-up.
class Routes {
 public:
  Routes& add(std::string_view method, std::string_view pattern, DaemonRoute route) {
    if (route.method != nullptr) {
      const pb::Descriptor& type = *route.method->input_type();
      for (const std::string& segment : route_pattern(method, pattern).segments) {
        if (!segment.starts_with('{')) continue;
        RELIANT_ASSERT_MSG(type.FindFieldByName(segment.substr(1, segment.size() - 2)) != nullptr,
                           "a daemon route captures a field of its request");
      }
      for (const auto& [name, value] : route.fixed.items()) {
        RELIANT_ASSERT_MSG(type.FindFieldByName(name) != nullptr,
                           "a daemon route fixes a field of its request");
      }
    }
    table.add(method, pattern, std::move(route));
    return *this;
  }
  RouteTable<DaemonRoute> table;
};

const RouteTable<DaemonRoute>& daemon_routes() {
  static const RouteTable<DaemonRoute> routes = [] {
    Routes t;
    const std::string d = "/api/v1/daemons/{daemon_id}";
    t.add("GET", d + "/files", call("FileSystemService/ListDirectory"))
        .add("DELETE", d + "/files", call("FileSystemService/DeleteFileOrFolder"))
        .add("POST", d + "/files", call("FileSystemService/CreateFileOrFolder", {}, 201))
        .add("POST", d + "/files/move", call("FileSystemService/MoveFile"))
        .add("POST", d + "/files/copy", call("FileSystemService/CopyFile"))
        .add("GET", d + "/files/tree", call("FileSystemService/GetFileTree"))
        .add("GET", d + "/files/stat", call("FileSystemService/GetFileMetadata"))
        .add("GET", d + "/files/search", call("FileSystemService/SearchFiles"))
        .add("GET", d + "/files/content", call("FileSystemService/GetFileContent"))
        .add("PUT", d + "/files/content", call("FileSystemService/SaveFileContent"));
    const std::string terminal = d + "/terminals/{session_id}";
    t.add("GET", d + "/terminals", call("TerminalService/ListSessions"))
        .add("POST", d + "/terminals", call("DaemonPages/OpenTerminal", {}, 201))
        .add("DELETE", terminal, call("TerminalService/CloseSession"))
        .add("POST", terminal + "/input", call("DaemonPages/WriteTerminal"))
        .add("POST", terminal + "/resize", call("DaemonPages/ResizeTerminal"))
        .add("GET", terminal + "/output", call("DaemonPages/ReadTerminal"));
    const std::string process = d + "/processes/{process_id}";
    t.add("GET", d + "/processes", call("BackgroundService/ListProcesses"))
        .add("GET", process + "/output", call("BackgroundService/GetProcessOutput"))
        .add("GET", process + "/follow", call("DaemonPages/FollowProcessOutput"))
        .add("POST", process + "/kill", call("BackgroundService/KillProcess"));
    t.add("GET", d + "/mcp", call("MCPService/ListServers"))
        .add("POST", d + "/mcp/reload", DaemonRoute{nullptr, Json::object(), 202})
        .add("GET", d + "/mcp/files", call("MCPService/ListConfigFiles"))
        .add("POST", d + "/mcp/files/approve", call("MCPService/ApproveConfigFile"))
        .add("GET", d + "/mcp/tools", call("MCPService/GetServerTools"))
        .add("POST", d + "/mcp/{server}/enable",
             call("MCPService/SetServerEnabled", {{"enabled", true}}))
        .add("POST", d + "/mcp/{server}/disable",
             call("MCPService/SetServerEnabled", {{"enabled", false}}))
        .add("POST", d + "/mcp/{server}/restart", call("MCPService/RestartServer"));
    return std::move(t.table);
  }();
  return routes;
}

// A query parameter as the JSON protobuf's mapping reads for `field`: a boolean from
// true|false, anything else as the string it is (numbers and enum names are read from strings).
Result<Json> query_value(const pb::FieldDescriptor& field, const std::string& text) {
  if (field.is_repeated() || field.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    return fail(ErrorCode::invalid_argument,
                "'" + field.name() + "' cannot be given in the query: post it in the body");
  }
  if (field.cpp_type() != pb::FieldDescriptor::CPPTYPE_BOOL) return Json(text);
  if (text == "true" || text == "false") return Json(text == "true");
  return fail(ErrorCode::invalid_argument,
              "'" + field.name() + "' is true or false, not '" + text + "'");
}

// Sets `field` in the request's JSON under its JSON name, dropping the other spelling, so that
// each source overrides the last whichever spelling it used.
void set_field(Json& message, const pb::FieldDescriptor& field, Json value) {
  if (field.json_name() != field.name()) message.erase(field.name());
  message[field.json_name()] = std::move(value);
}

std::string query_fields(const pb::Descriptor& type) {
  std::string known;
  for (int i = 0; i < type.field_count(); ++i) {
    if (type.field(i)->name() == "daemon_id") continue;
    known += (known.empty() ? "" : ", ") + type.field(i)->name();
  }
  return known.empty() ? "none" : known;
}

// The request message's JSON: the posted object, then the query's fields, then the path's
// captures and the route's fixed fields, each overriding what came before. A query parameter
// that is no field of the request is refused, naming the ones it has.
Result<Json> request_json(const HttpRequest& request, const RouteParams& params,
                          const DaemonRoute& route) {
  Result<Json> body = parse_json_body(request);
  if (!body) return fail(body.error());
  if (!body->is_object()) {
    return fail(ErrorCode::invalid_argument, "the body must be a JSON object");
  }
  Json message = std::move(*body);
  const pb::Descriptor& type = *route.method->input_type();
  for (const auto& [key, text] : request.query) {
    const pb::FieldDescriptor* field = type.FindFieldByName(key);
    if (field == nullptr) field = type.FindFieldByCamelcaseName(key);
    if (field == nullptr || field->name() == "daemon_id") {
      return fail(ErrorCode::invalid_argument, "unknown query parameter '" + key + "' (" +
                                                   request.method + " " + request.path + " takes " +
                                                   query_fields(type) + ")");
    }
    Result<Json> value = query_value(*field, text);
    if (!value) return fail(value.error());
    set_field(message, *field, std::move(*value));
  }
  for (const auto& [name, segment] : params.all()) {
    set_field(message, *type.FindFieldByName(name), segment);  // checked when added
  }
  for (const auto& [name, value] : route.fixed.items()) {
    set_field(message, *type.FindFieldByName(name), value);  // checked when added
  }
  return message;
}

// The request message the route's call takes, in its bytes.
Result<std::string> request_bytes(const HttpRequest& request, const RouteParams& params,
                                  const DaemonRoute& route) {
  Result<Json> json = request_json(request, params, route);
  if (!json) return fail(json.error());
  std::unique_ptr<pb::Message> message(
      pb::MessageFactory::generated_factory()->GetPrototype(route.method->input_type())->New());
  const Result<void> read = protocol::from_json_into(
      json->dump(-1, ' ', false, Json::error_handler_t::replace), *message);
  if (!read) return fail(read.error());
  return protocol::encode(*message);
}

// The daemon's response bytes as protobuf's JSON mapping shows them.
Result<HttpResponse> response_of(const DaemonRoute& route, const std::string& bytes) {
  std::unique_ptr<pb::Message> message(
      pb::MessageFactory::generated_factory()->GetPrototype(route.method->output_type())->New());
  const Result<void> decoded = protocol::decode_into(bytes, *message);
  if (!decoded) return fail(ErrorCode::internal, "the daemon's answer: " + decoded.error().message);
  HttpResponse response;
  response.status = route.status;
  response.body = protocol::to_json(*message);
  return response;
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
  const std::string daemon_id = params["daemon_id"];
  Task<Result<void>> checking = check_daemon_owner(env_, user_id, daemon_id);
  Result<void> owned = co_await checking;
  if (!owned) co_return error_response(owned.error());
  if (router_ == nullptr) {
    co_return error_response(
        {ErrorCode::unavailable, "this server reaches no daemon (it has no daemon router)"});
  }
  if (route->method == nullptr) {
    // Fire-and-forget, as the bus carries it.
    Task<Result<void>> reloading = router_->reload_config(user_id, daemon_id);
    Result<void> sent = co_await reloading;
    if (!sent) co_return error_response(sent.error());
    co_return json_response(route->status, {{"reload", "sent"}});
  }
  Result<std::string> asked = request_bytes(request, params, *route);
  if (!asked) co_return error_response(asked.error());
  Task<Result<std::string>> calling = router_->daemon_call(
      user_id, daemon_id, "/" + route->method->service()->full_name() + "/" + route->method->name(),
      std::move(*asked));
  Result<std::string> answer = co_await calling;
  if (!answer) co_return error_response(answer.error());
  Result<HttpResponse> response = response_of(*route, *answer);
  if (!response) co_return error_response(response.error());
  co_return std::move(*response);
}

}  // namespace reliant::api
