// LocalDaemonRouter: the monolith's DaemonRouter (spec S1.22: "direct calls"). The
// daemon runs in this process — its tools and ToolRunner, no stream, no gateway, no bus — and
// every call goes straight to it, with the same at-most-once answers as a remote daemon.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/bus.h"
#include "runtime/future.h"
#include "services/daemon/terminal_sessions.h"
#include "services/daemon/tool_runner.h"
#include "services/daemon/tools/background_processes.h"
#include "services/routing/daemon_router.h"

namespace reliant::routing {

class LocalDaemonRouter final : public DaemonRouter {
 public:
  // The in-process daemon `daemon_id` of `user_id`, running tools on `host` in `working_dir`,
  // and the tools of `mcp`'s servers (null: none; it outlives this). Its terminals run
  // `terminal_shell` (empty: the user's login shell, as TerminalSessions says).
  LocalDaemonRouter(Executor& executor, Host& host, std::string working_dir,
                    daemon::RequestJournal& journal, std::string daemon_id, std::string user_id,
                    mcp::McpServers* mcp = nullptr, std::string terminal_shell = {});
  ~LocalDaemonRouter() override;

  Task<Result<v1::ToolResponse>> send_tool_request(ToolCall call) override;
  Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall call) override;
  Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id, std::string request_id,
                                 std::string reason) override;
  Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) override;
  Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand command) override;
  Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) override;
  // Announces what a running tool prints on `bus`, to the user's clients (as the gateway does
  // for a remote daemon). `bus` outlives this.
  void announce_output_on(Bus& bus);

 private:
  Result<void> check(const std::string& user_id, const std::string& daemon_id) const;
  void answered(const v1::ToolResponse& response);

  Executor& executor_;
  std::string daemon_id_;
  std::string user_id_;
  daemon::ToolSet tools_;
  daemon::BackgroundProcesses background_;
  daemon::TerminalSessions terminals_;
  daemon::ToolContext context_;
  // Callers waiting for a request's answer, by request id.
  std::map<std::string, std::vector<Promise<v1::ToolResponse>>> waiting_;
  daemon::ToolRunner runner_;  // last: its tools stop before what they use goes
};

}  // namespace reliant::routing
