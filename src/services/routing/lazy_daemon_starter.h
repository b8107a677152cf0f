// LazyDaemonStarter: the monolith's DaemonRouter (spec S2.3). The tools daemon runs in this
// process and starts for a user on their first authenticated request — or on the first tool
// call for them, so a run resumed after a restart finds it too. Starting records the daemon
// in the store as connected and active, so selection, listings and session daemons work as in
// the distributed mode; then every call goes to that user's LocalDaemonRouter directly.
#pragma once

#include <memory>
#include <string>

#include "runtime/env.h"
#include "services/routing/local_daemon_router.h"

namespace reliant::routing {

struct LocalDaemonIdentity {
  std::string name = "embedded";
  std::string hostname;
  std::string platform;
  std::string working_dir;  // absolute: where the tools run
  std::string version;
};

class LazyDaemonStarter final : public DaemonRouter {
 public:
  // `env` needs a store and a host. The journal must outlive this. The embedded daemon runs
  // tools as the server's own OS user, with its files and data directory in reach, so it
  // serves `local_user_id` only (the machine's owner, the monolith's local account): another
  // user's request fails with failed_precondition — they connect a daemon of their own.
  LazyDaemonStarter(Env& env, LocalDaemonIdentity identity, daemon::RequestJournal& journal,
                    std::string local_user_id);
  ~LazyDaemonStarter() override;

  // The user's in-process daemon id, starting it (and recording it) when it is not running.
  // Fails with failed_precondition for anyone but the local user.
  Task<Result<std::string>> ensure_started(std::string user_id);
  // On each authenticated request (spec S2.3): ensure_started for the local user; nothing for
  // anyone else, whose tool calls then say to connect a daemon of their own.
  Task<Result<void>> start_for_request(std::string user_id);
  // The MCP servers the embedded daemon runs tools on (null: none); set before it starts, and
  // they outlive this.
  void attach_mcp(mcp::McpServers* mcp) { mcp_ = mcp; }
  // The id the user's embedded daemon has (stable across restarts of the process).
  static std::string daemon_id_for(const std::string& user_id);

  Task<Result<v1::ToolResponse>> send_tool_request(ToolCall call) override;
  Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall call) override;
  Task<Result<void>> cancel_tool(std::string user_id, std::string daemon_id, std::string request_id,
                                 std::string reason) override;
  Task<Result<bool>> is_online(std::string user_id, std::string daemon_id) override;
  Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand command) override;
  Task<Result<void>> reload_config(std::string user_id, std::string daemon_id) override;

 private:
  // The user's running daemon, or not_found when `daemon_id` is not it.
  Task<Result<LocalDaemonRouter*>> daemon_for(std::string user_id, std::string daemon_id);

  Env& env_;
  LocalDaemonIdentity identity_;
  daemon::RequestJournal& journal_;
  std::string local_user_id_;
  mcp::McpServers* mcp_ = nullptr;
  std::unique_ptr<LocalDaemonRouter> running_;  // the local user's, once started
  std::uint64_t connections_ = 0;
};

}  // namespace reliant::routing
