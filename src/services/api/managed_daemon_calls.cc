// Managed-daemon calls: each gRPC method and REST route decoded into its request message and
// handed to ManagedDaemonService.
#include "services/api/managed_daemon_calls.h"

#include "protocol/codec.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"

namespace reliant::api {
namespace {

namespace cp = reliant::control_plane;
namespace v1 = reliant::api::v1;

constexpr std::string_view kPrefix = "/reliant.api.v1.DaemonService/";

// What one call does, whichever way it came: `daemon` names it (empty for Create), `spec` is
// the posted spec (Create, Update).
enum class Verb { create, get, update, remove, suspend, resume };

struct Request {
  Verb verb = Verb::get;
  std::string daemon;
  v1::ManagedDaemonSpec spec;
};

std::optional<Verb> grpc_verb(std::string_view method) {
  if (!method.starts_with(kPrefix)) return std::nullopt;
  const std::string_view name = method.substr(kPrefix.size());
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

}  // namespace

ManagedDaemonCalls::ManagedDaemonCalls(Env& env, control_plane::ManagedDaemonServiceConfig config)
    : service_(env, std::move(config)) {}

bool ManagedDaemonCalls::knows(std::string_view grpc_method) const {
  return grpc_verb(grpc_method).has_value();
}

Task<Result<std::string>> ManagedDaemonCalls::unary(std::string user_id, std::string grpc_method,
                                                    std::string request) {
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
