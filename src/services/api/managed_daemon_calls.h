// The managed-daemon calls of DaemonService (Create, Get, Update, Delete, Suspend, Resume), as
// gRPC serves them (request and response bytes) and as REST does with the same messages in
// protobuf's JSON mapping:
//   POST   /api/v1/daemons                   a ManagedDaemonSpec → 201 {daemon}
//   GET    /api/v1/daemons/{daemon}          → {daemon}
//   PATCH  /api/v1/daemons/{daemon}          a ManagedDaemonSpec → {daemon}
//   DELETE /api/v1/daemons/{daemon}          → {daemon} (wanted deleted)
//   POST   /api/v1/daemons/{daemon}/suspend  → {daemon}
//   POST   /api/v1/daemons/{daemon}/resume   → {daemon}
//   POST   /api/v1/daemons/{daemon}/commands {name, args} → 201 {command}
//   GET    /api/v1/daemons/{daemon}/commands → {commands} (newest first)
//   GET    /api/v1/daemons/{daemon}/commands/{command} → {command}
// {daemon} is an id or a name. The rules are ManagedDaemonService's and CommandQueue's; gRPC's
// SendDaemonCommand, GetDaemonCommand and ListDaemonCommands carry args and results as JSON text,
// REST as JSON values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/env.h"
#include "runtime/http.h"
#include "services/control_plane/command_queue.h"
#include "services/control_plane/managed_daemon_service.h"

namespace reliant::api {

class ManagedDaemonCalls {
 public:
  ManagedDaemonCalls(Env& env, control_plane::ManagedDaemonServiceConfig config);

  bool knows(std::string_view grpc_method) const;
  Task<Result<std::string>> unary(std::string user_id, std::string grpc_method,
                                  std::string request);
  // The response for the routes above; nullopt for other paths (the daemon's own services).
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

  control_plane::ManagedDaemonService& service() { return service_; }
  control_plane::CommandQueue& commands() { return commands_; }

 private:
  Task<Result<std::string>> command_unary(std::string user_id, std::string_view name,
                                          std::string request);
  Task<std::optional<HttpResponse>> handle_commands(const HttpRequest& request,
                                                    const std::vector<std::string>& parts,
                                                    const std::string& user_id);

  control_plane::ManagedDaemonService service_;
  control_plane::CommandQueue commands_;
};

}  // namespace reliant::api
