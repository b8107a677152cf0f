// Managed-daemon calls: each gRPC method and REST route decoded into its request message and
// handed to ManagedDaemonService.
#include "services/api/managed_daemon_calls.h"

#include "base/json_parse.h"
#include "protocol/codec.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"

namespace reliant::api {
namespace {

namespace cp = reliant::control_plane;
namespace v1 = reliant::api::v1;

constexpr std::string_view kDaemonServicePrefix = "/reliant.api.v1.DaemonService/";

// What one call does, whichever way it came: `daemon` names it (empty for Create), `spec` is
// the posted spec (Create, Update).
enum class Verb { create, get, update, remove, suspend, resume };

struct Request {
  Verb verb = Verb::get;
  std::string daemon;
  v1::ManagedDaemonSpec spec;
};

std::optional<Verb> grpc_verb(std::string_view method) {
  if (!method.starts_with(kDaemonServicePrefix)) return std::nullopt;
  const std::string_view name = method.substr(kDaemonServicePrefix.size());
  if (name == "CreateDaemon") return Verb::create;
  if (name == "GetDaemon") return Verb::get;
  if (name == "UpdateDaemon") return Verb::update;
  if (name == "DeleteDaemon") return Verb::remove;
  if (name == "SuspendDaemon") return Verb::suspend;
  if (name == "ResumeDaemon") return Verb::resume;
  return std::nullopt;
}

// The request a gRPC call carries.
Result<Request> grpc_request(Verb verb, const std::string& bytes) {
  Request out{verb, {}, {}};
  switch (verb) {
    case Verb::create: {
      auto in = protocol::decode<v1::CreateDaemonRequest>(bytes);
      if (!in) return fail(in.error());
      out.spec = in->spec();
      return out;
    }
    case Verb::update: {
      auto in = protocol::decode<v1::UpdateDaemonRequest>(bytes);
      if (!in) return fail(in.error());
      out.daemon = in->daemon_id();
      out.spec = in->spec();
      return out;
    }
    case Verb::get:
    case Verb::remove:
    case Verb::suspend:
    case Verb::resume: {
      // The four requests are one shape: a daemon_id.
      auto in = protocol::decode<v1::GetDaemonRequest>(bytes);
      if (!in) return fail(in.error());
      out.daemon = in->daemon_id();
      return out;
    }
  }
  return out;
}

// The service's call for the request (not a coroutine: it hands back the call's task).
Task<Result<v1::Daemon>> call_for(cp::ManagedDaemonService& service, const std::string& user_id,
                                  const Request& request) {
  switch (request.verb) {
    case Verb::create:
      return service.create(user_id, request.spec);
    case Verb::get:
      return service.get(user_id, request.daemon);
    case Verb::update:
      return service.update(user_id, request.daemon, request.spec);
    case Verb::remove:
      return service.set_desired(user_id, request.daemon, DesiredState::deleted);
    case Verb::suspend:
      return service.set_desired(user_id, request.daemon, DesiredState::suspended);
    case Verb::resume:
      break;
  }
  return service.set_desired(user_id, request.daemon, DesiredState::running);
}

Task<Result<v1::Daemon>> serve(cp::ManagedDaemonService& service, std::string user_id,
                               Request request) {
  if (request.verb != Verb::create && request.daemon.empty()) {
    co_return fail(ErrorCode::invalid_argument, "name the daemon: its id or its name");
  }
  Task<Result<v1::Daemon>> serving = call_for(service, user_id, request);
  co_return co_await serving;
}

// The request a REST route carries; nullopt: not one of these routes.
std::optional<Result<Request>> rest_request(const HttpRequest& http,
                                            const std::vector<std::string>& parts) {
  // parts: api, v1, daemons[, {daemon}[, suspend|resume]]
  if (parts.size() < 3 || parts.size() > 5 || parts[2] != "daemons") return std::nullopt;
  const std::string& method = http.method;
  Request out;
  if (parts.size() == 3) {
    if (method != "POST") return std::nullopt;  // GET lists every daemon (ApiServer)
    out.verb = Verb::create;
  } else if (parts.size() == 4) {
    out.daemon = parts[3];
    if (method == "GET") {
      out.verb = Verb::get;
    } else if (method == "PATCH") {
      out.verb = Verb::update;
    } else if (method == "DELETE") {
      out.verb = Verb::remove;
    } else {
      return std::nullopt;
    }
  } else {
    if (method != "POST" || (parts[4] != "suspend" && parts[4] != "resume")) return std::nullopt;
    out.daemon = parts[3];
    out.verb = parts[4] == "suspend" ? Verb::suspend : Verb::resume;
  }
  if (out.verb == Verb::create || out.verb == Verb::update) {
    if (auto read = protocol::from_json_into(http.body, out.spec); !read) {
      return Result<Request>(fail(read.error()));
    }
  }
  return Result<Request>(std::move(out));
}

constexpr std::string_view kCommandMethods[] = {"SendDaemonCommand", "GetDaemonCommand",
                                                "ListDaemonCommands"};

std::optional<std::string_view> command_method(std::string_view method) {
  if (!method.starts_with(kDaemonServicePrefix)) return std::nullopt;
  const std::string_view name = method.substr(kDaemonServicePrefix.size());
  for (std::string_view known : kCommandMethods) {
    if (name == known) return known;
  }
  return std::nullopt;
}

void to_proto(const CommandRecord& c, v1::DaemonCommandRecord& out) {
  out.set_id(c.id);
  out.set_daemon_id(c.daemon_id);
  out.set_name(std::string(name_of(kCommandNames, c.name)));
  out.set_args_json(c.args_json);
  out.set_state(std::string(name_of(kCommandStateNames, c.state)));
  out.set_deliveries(static_cast<std::int32_t>(c.deliveries));
  out.set_result_json(c.result_json);
  out.set_error(c.error);
  out.set_created_at_ms(c.created_at_ms);
  out.set_completed_at_ms(c.completed_at_ms);
}

// REST's form: args and result as JSON values.
Json command_json(const CommandRecord& c) {
  Json out = {{"id", c.id},
              {"daemon_id", c.daemon_id},
              {"name", c.name},
              {"args", parse_json_or_discarded(c.args_json)},
              {"state", c.state},
              {"deliveries", c.deliveries},
              {"created_at_ms", c.created_at_ms},
              {"completed_at_ms", c.completed_at_ms}};
  if (c.state == CommandState::succeeded) {
    out["result"] = c.result_json.empty() ? Json() : parse_json_or_discarded(c.result_json);
  }
  if (c.state == CommandState::failed) out["error"] = c.error;
  return out;
}

}  // namespace

ManagedDaemonCalls::ManagedDaemonCalls(Env& env, control_plane::ManagedDaemonServiceConfig config)
    : service_(env, std::move(config)), commands_(env) {}

bool ManagedDaemonCalls::knows(std::string_view grpc_method) const {
  return grpc_verb(grpc_method).has_value() || command_method(grpc_method).has_value();
}

Task<Result<std::string>> ManagedDaemonCalls::command_unary(std::string user_id,
                                                            std::string_view name,
                                                            std::string request) {
  if (name == "ListDaemonCommands") {
    auto in = protocol::decode<v1::ListDaemonCommandsRequest>(request);
    if (!in) co_return fail(in.error());
    Task<Result<std::vector<CommandRecord>>> listing =
        commands_.list(std::move(user_id), in->daemon_id());
    Result<std::vector<CommandRecord>> listed = co_await listing;
    if (!listed) co_return fail(listed.error());
    v1::ListDaemonCommandsResponse out;
    for (const CommandRecord& c : *listed) to_proto(c, *out.add_commands());
    co_return protocol::encode(out);
  }
  Result<CommandRecord> command = fail(ErrorCode::internal, "");
  if (name == "SendDaemonCommand") {
    auto in = protocol::decode<v1::SendDaemonCommandRequest>(request);
    if (!in) co_return fail(in.error());
    Task<Result<CommandRecord>> sending =
        commands_.send(std::move(user_id), in->daemon_id(), in->name(), in->args_json());
    command = co_await sending;
  } else {
    auto in = protocol::decode<v1::GetDaemonCommandRequest>(request);
    if (!in) co_return fail(in.error());
    Task<Result<CommandRecord>> reading =
        commands_.get(std::move(user_id), in->daemon_id(), in->command_id());
    command = co_await reading;
  }
  if (!command) co_return fail(command.error());
  v1::DaemonCommandResponse out;
  to_proto(*command, *out.mutable_command());
  co_return protocol::encode(out);
}

Task<std::optional<HttpResponse>> ManagedDaemonCalls::handle_commands(
    const HttpRequest& request, const std::vector<std::string>& parts, const std::string& user_id) {
  // parts: api, v1, daemons, {daemon}, commands[, {command}]
  const std::string& daemon = parts[3];
  if (parts.size() == 6) {
    if (request.method != "GET") co_return std::nullopt;
    Task<Result<CommandRecord>> reading = commands_.get(user_id, daemon, parts[5]);
    Result<CommandRecord> command = co_await reading;
    if (!command) co_return error_response(command.error());
    co_return json_response(200, {{"command", command_json(*command)}});
  }
  if (request.method == "GET") {
    Task<Result<std::vector<CommandRecord>>> listing = commands_.list(user_id, daemon);
    Result<std::vector<CommandRecord>> listed = co_await listing;
    if (!listed) co_return error_response(listed.error());
    Json out = Json::array();
    for (const CommandRecord& c : *listed) out.push_back(command_json(c));
    co_return json_response(200, {{"commands", std::move(out)}});
  }
  if (request.method != "POST") co_return std::nullopt;
  auto body = parse_json(request.body);
  if (!body || !body->is_object() || !(*body)["name"].is_string()) {
    co_return error_response(
        {ErrorCode::invalid_argument, "the body is {\"name\": COMMAND, \"args\": {…}}" +
                                          (body ? std::string() : ": " + body.error().message)});
  }
  const Json args = body->value("args", Json::object());
  Task<Result<CommandRecord>> sending = commands_.send(
      user_id, daemon, (*body)["name"].get<std::string>(), args.is_null() ? "" : args.dump());
  Result<CommandRecord> command = co_await sending;
  if (!command) co_return error_response(command.error());
  co_return json_response(201, {{"command", command_json(*command)}});
}

Task<Result<std::string>> ManagedDaemonCalls::unary(std::string user_id, std::string grpc_method,
                                                    std::string request) {
  if (const auto name = command_method(grpc_method)) {
    Task<Result<std::string>> calling =
        command_unary(std::move(user_id), *name, std::move(request));
    co_return co_await calling;
  }
  const auto verb = grpc_verb(grpc_method);
  RELIANT_ASSERT(verb.has_value());  // knows() was asked first
  auto in = grpc_request(*verb, request);
  if (!in) co_return fail(in.error());
  Task<Result<v1::Daemon>> serving = serve(service_, std::move(user_id), std::move(*in));
  Result<v1::Daemon> daemon = co_await serving;
  if (!daemon) co_return fail(daemon.error());
  v1::DaemonResponse out;
  *out.mutable_daemon() = std::move(*daemon);
  co_return protocol::encode(out);
}

Task<std::optional<HttpResponse>> ManagedDaemonCalls::handle(const HttpRequest& request,
                                                             const std::vector<std::string>& parts,
                                                             const std::string& user_id) {
  if ((parts.size() == 5 || parts.size() == 6) && parts[2] == "daemons" && parts[4] == "commands") {
    Task<std::optional<HttpResponse>> serving = handle_commands(request, parts, user_id);
    co_return co_await serving;
  }
  auto in = rest_request(request, parts);
  if (!in) co_return std::nullopt;
  if (!*in) co_return error_response(in->error());
  const bool created = (*in)->verb == Verb::create;
  Task<Result<v1::Daemon>> serving = serve(service_, user_id, std::move(**in));
  Result<v1::Daemon> daemon = co_await serving;
  if (!daemon) co_return error_response(daemon.error());
  v1::DaemonResponse out;
  *out.mutable_daemon() = std::move(*daemon);
  HttpResponse response;
  response.status = created ? 201 : 200;
  response.content_type = "application/json";
  response.body = protocol::to_json(out);
  co_return response;
}

}  // namespace reliant::api
