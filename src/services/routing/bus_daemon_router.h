// BusDaemonRouter: the DaemonRouter over the Bus port — nats-server in the distributed mode,
// the simulated bus in the simulator. Durable requests also need the Store.
#pragma once

#include "runtime/env.h"
#include "runtime/ids.h"
#include "services/routing/daemon_router.h"

namespace reliant::routing {

struct BusRouterConfig {
  // A durable request not answered within this is looked up in the store and published again.
  Duration redeliver_after = seconds(5);
  // A synchronous attempt waits this long before asking again with the same request id.
  Duration sync_attempt_timeout = seconds(5);
  // Added to a call's own timeout: the hops to the daemon and back.
  Duration grace = seconds(10);
  Duration control_timeout = seconds(5);  // kill and daemon commands
  // An online check: the holder answers at once, and nobody answers for a daemon nobody holds,
  // so this is also what selecting past a stale row costs.
  Duration online_timeout = seconds(1);
  // A daemon command or typed call that found nobody holding its managed daemon (suspended, or
  // still starting) wakes it, as a durable call does, and is sent once the daemon connects,
  // waiting at most this long (past it: unavailable, saying so).
  Duration resume_wait = seconds(60);
};

class BusDaemonRouter final : public DaemonRouter {
 public:
  BusDaemonRouter(Env& env, BusRouterConfig config = {});

  Task<Result<v1::ToolResponse>> send_tool_request(ToolCall call) override;
  Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall call) override;
  Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id, std::string request_id,
                                 std::string reason) override;
  Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) override;
  Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand command) override;
  Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) override;

 private:
  Task<Result<std::string>> store_request(const ToolCall& call, const std::string& reply_subject);
  Task<Result<std::optional<v1::ToolResponse>>> stored_result(const std::string& request_id);
  template <class Reply>
  Task<Result<Reply>> control_request(std::string subject, std::string payload);
  // A call to `daemon_id` counts for it (note_call_to_daemon): a suspended managed daemon is
  // wanted running again and its control plane woken. Whether it is a managed daemon of
  // `user_id` that its control plane wants running, so worth waiting for.
  Task<Result<bool>> wake_if_managed(std::string user_id, std::string daemon_id);
  // Until `daemon_id` is held by a gateway or `wait` passes; whether it is.
  Task<bool> wait_until_held(std::string user_id, std::string daemon_id, Duration wait);

  Env& env_;
  BusRouterConfig config_;
  // A command's id, one per call however often the bus delivers it: the daemon runs an id once.
  IdGenerator command_ids_;
};

}  // namespace reliant::routing
