// MonolithDaemonRouter: each call to the router that holds its daemon.
#include "services/routing/monolith_daemon_router.h"

namespace reliant::routing {

Task<Result<v1::ToolResponse>> MonolithDaemonRouter::send_tool_request(ToolCall call) {
  DaemonRouter& router = route(call.user_id, call.daemon_id);
  Task<Result<v1::ToolResponse>> sending = router.send_tool_request(std::move(call));
  co_return co_await sending;
}

Task<Result<v1::ToolResponse>> MonolithDaemonRouter::send_tool_request_sync(ToolCall call) {
  DaemonRouter& router = route(call.user_id, call.daemon_id);
  Task<Result<v1::ToolResponse>> sending = router.send_tool_request_sync(std::move(call));
  co_return co_await sending;
}

Task<Result<void>> MonolithDaemonRouter::cancel_tool(std::string user_id, std::string daemon_id,
                                                     std::string request_id, std::string reason) {
  DaemonRouter& router = route(user_id, daemon_id);
  Task<Result<void>> cancelling = router.cancel_tool(std::move(user_id), std::move(daemon_id),
                                                     std::move(request_id), std::move(reason));
  co_return co_await cancelling;
}

Task<Result<bool>> MonolithDaemonRouter::is_online(std::string user_id, std::string daemon_id) {
  DaemonRouter& router = route(user_id, daemon_id);
  Task<Result<bool>> asking = router.is_online(std::move(user_id), std::move(daemon_id));
  co_return co_await asking;
}

Task<Result<v1::DaemonCommandResult>> MonolithDaemonRouter::send_command(
    v1::DaemonCommand command) {
  DaemonRouter& router = route(command.user_id(), command.daemon_id());
  Task<Result<v1::DaemonCommandResult>> running = router.send_command(std::move(command));
  co_return co_await running;
}

Task<Result<void>> MonolithDaemonRouter::reload_config(std::string user_id, std::string daemon_id) {
  DaemonRouter& router = route(user_id, daemon_id);
  Task<Result<void>> reloading = router.reload_config(std::move(user_id), std::move(daemon_id));
  co_return co_await reloading;
}

}  // namespace reliant::routing
