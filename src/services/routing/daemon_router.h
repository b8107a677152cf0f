// DaemonRouter: how workers and api servers reach a user's daemon (spec S1.4, S1.19). The bus
// implementation (the NATSDaemonRouter of the spec; it runs on any Bus) serves the
// distributed deployment and the simulator; the local one serves the monolith's in-process
// daemon with direct calls.
#pragma once

#include <string>

#include "base/result.h"
#include "base/time.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/task.h"

namespace reliant::routing {

namespace v1 = reliant::daemon::v1;

struct ToolCall {
  std::string user_id;
  std::string daemon_id;   // already selected (core/daemon_selection)
  std::string request_id;  // unique; a retry of the same call reuses it
  std::string tool_name;
  std::string input_json = "{}";
  std::string tool_call_id;
  Duration timeout = minutes(10);  // how long the tool may run on the daemon
};

class DaemonRouter {
 public:
  virtual ~DaemonRouter() = default;

  // Fire-and-forget on tools.request.<user>, made durable: the request is stored before it is
  // routed and redelivered until its result arrives, so a lost message, the wrong gateway or a
  // gateway crash lose nothing. Resolves with the daemon's response (is_error for a tool that
  // failed, error_code daemon_lost when the daemon restarted mid-run) or fails with `timeout`.
  virtual Task<Result<v1::ToolResponse>> send_tool_request(ToolCall call) = 0;
  // Request-reply on tools.request.sync.<user>, retried with the same request id until the
  // deadline (the daemon runs it once and answers repeats from its cache). Nothing is stored.
  virtual Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall call) = 0;
  virtual Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id,
                                         std::string request_id, std::string reason) = 0;
  // Whether some gateway holds a stream to the daemon right now.
  virtual Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) = 0;
  // Request-reply on daemon.command.<user>, answered by the gateway holding the daemon (or the
  // monolith's own daemon): a verb or a typed call (DaemonCommand), for `command.user_id()`'s
  // daemon `command.daemon_id()`.
  virtual Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand command) = 0;
  // A verb ("status", "tool_specs", "reload_config", …) with its JSON arguments.
  Task<Result<v1::DaemonCommandResult>> daemon_command(std::string user_id, std::string daemon_id,
                                                       std::string command, std::string args_json);
  // A typed call: `method`'s request bytes in, its response bytes out; a refusal is the
  // daemon's error (`unimplemented` for a method the daemon lacks).
  Task<Result<std::string>> daemon_call(std::string user_id, std::string daemon_id,
                                        std::string method, std::string request);
  // Fire-and-forget: the daemon reads its MCP configuration again (daemon.reload.<user>, one
  // gateway of the queue group, which hands it to the holder). Succeeds once it is sent; a
  // daemon nobody holds never hears it.
  virtual Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) = 0;
};

}  // namespace reliant::routing
