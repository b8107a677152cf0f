// MonolithDaemonRouter: the monolith's DaemonRouter once it holds more than its embedded daemon.
// A call for the user's embedded daemon goes to LazyDaemonStarter (in-process, started on first
// use); a call for any other daemon — a managed daemon its control plane started, a daemon that
// dialled its daemon port — goes over the in-process bus to its embedded gateway, durably, as in
// the distributed deployment.
#pragma once

#include <string>

#include "services/routing/daemon_router.h"
#include "services/routing/lazy_daemon_starter.h"

namespace reliant::routing {

class MonolithDaemonRouter final : public DaemonRouter {
 public:
  // Both outlive this.
  MonolithDaemonRouter(LazyDaemonStarter& embedded, DaemonRouter& others)
      : embedded_(embedded), others_(others) {}

  Task<Result<v1::ToolResponse>> send_tool_request(ToolCall call) override;
  Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall call) override;
  Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id, std::string request_id,
                                 std::string reason) override;
  Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) override;
  Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand command) override;
  Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) override;

 private:
  DaemonRouter& route(const std::string& user_id, const std::string& daemon_id) {
    return daemon_id == LazyDaemonStarter::daemon_id_for(user_id) ? embedded_ : others_;
  }

  DaemonRouter& embedded_;
  DaemonRouter& others_;
};

}  // namespace reliant::routing
