// McpServers: the daemon's MCP servers — each started on demand (the first listing or call that
// needs it), restarted with backoff when it goes away, and reconfigured in place when the
// configuration is reloaded. Each has a status: HEALTHY (connected, tools listed), STARTING (its
// handshake or first listing is under way), UNHEALTHY (it failed; the error says why, and a
// restart may be due), DISCONNECTED (not started yet, or stopped), DISABLED (switched off) or
// UNTRUSTED (only a workspace mcp.json the user has not approved defines it: it never starts, and
// the error says how to approve the file). Their tools are exposed to models as
// mcp__<server>__<tool>.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/mcp/mcp_config.h"
#include "runtime/env.h"
#include "runtime/http_client.h"
#include "runtime/scope.h"
#include "services/daemon/mcp/mcp_client.h"

namespace reliant::mcp {

enum class McpServerStatus { healthy, starting, unhealthy, disconnected, disabled, untrusted };
std::string_view to_string(McpServerStatus status);  // "HEALTHY" …

struct McpServerView {
  std::string name;
  McpServerStatus status = McpServerStatus::disconnected;
  std::string error;  // why it is unhealthy (or the last failure)
  std::size_t tools = 0;
  std::uint32_t restarts = 0;  // starts after the first
  std::string server_name;     // what the server calls itself
  std::string server_version;
  std::string protocol_version;
  std::vector<std::string> tags;
  std::string source;  // the configuration file
};

struct ExposedTool {
  std::string name;  // mcp__<server>__<tool>
  std::string server;
  std::string tool;
  std::string description;
  Json input_schema;
  std::vector<std::string> tags;  // "mcp", the server's name and its configured tags
  bool read_only = false;         // the server's readOnlyHint
};

inline constexpr std::string_view kMcpToolPrefix = "mcp__";
std::string exposed_name(std::string_view server, std::string_view tool);
// The server and tool of an exposed name, or nullopt when it is not one.
std::optional<std::pair<std::string, std::string>> split_exposed_name(std::string_view name);

struct McpServersOptions {
  BackoffPolicy restart{seconds(1), minutes(2), 2.0, 0.2};
  std::uint32_t restarts_max = 8;  // in a row without a healthy start; then it waits for a call
  // A call's bound when its server's configuration sets no "timeout" (the caller's own bound,
  // when shorter, wins).
  Duration call_timeout = minutes(2);
  // How long a listing of the tools waits for servers still starting before it answers without
  // them (a server that missed one listing so is not waited for again until it has started): a
  // handshake that never ends must not hold up every chat's turn.
  Duration tools_wait = seconds(3);
  // A call's result is cut to this many bytes, with a notice, as the built-in tools cut theirs
  // (ToolContext::output_limit_bytes: every response stays under the bus's 1 MiB); 0: uncut.
  std::size_t result_limit_bytes = 512 * 1024;
  std::string log_dir;      // servers' stderr goes to <log_dir>/mcp-<name>.log; empty: discarded
  std::string working_dir;  // stdio servers without a cwd start here; empty: the host's
  McpClientOptions client;
  // How servers of type http (Streamable HTTP) and sse (HTTP+SSE) are reached; null: they are
  // UNHEALTHY, saying this daemon cannot reach them. It must outlive the servers.
  HttpClient* http = nullptr;
};

struct McpCallOutcome {
  bool is_error = false;
  std::string text;
  std::string error_code;  // empty, or "unavailable", "timeout", "not_found", "invalid_input"
};

class McpServers {
 public:
  // Makes the transport for a server (stdio: a process on the host); nullopt-like failure when
  // its type cannot be served.
  using TransportFactory =
      std::function<Result<std::unique_ptr<McpTransport>>(const McpServerConfig& server)>;

  McpServers(Env& env, Host& host, McpServersOptions options = {});
  // With a transport of the caller's choosing for every server (tests).
  McpServers(Env& env, TransportFactory factory, McpServersOptions options);
  ~McpServers();
  McpServers(const McpServers&) = delete;
  McpServers& operator=(const McpServers&) = delete;

  // Replaces the configuration: servers gone or changed are stopped, new ones wait to be
  // needed, unchanged ones keep running. `files`: the files it came from, as files() tells.
  void configure(std::map<std::string, McpServerConfig> servers,
                 std::vector<McpConfigFile> files = {});
  // Where reload() reads the configuration again (the daemon binary: the mcp.json layers).
  using ConfigSource = std::function<Result<McpConfig>()>;
  void set_source(ConfigSource source) { source_ = std::move(source); }
  // Reads the source and configures what it says; a source that fails changes nothing. Fails
  // with failed_precondition without a source.
  Result<void> reload();

  // The configuration files as last read, with their hashes and whether they are trusted.
  const std::vector<McpConfigFile>& files() const { return files_; }
  // Where approvals are kept (the daemon binary: a file in the user's ~/.reliant). It is given the
  // approval to add; it fails when the approval cannot be kept.
  using Approver = std::function<Result<void>(const McpApproval& approval)>;
  void set_approver(Approver approver) { approver_ = std::move(approver); }
  // Approves the workspace file `file` whose content has SHA-256 `sha256` (lower-case hex),
  // then reloads: its servers may start. The file is read again first, so an approval is of the
  // content the user saw: a file that changed since fails with failed_precondition and its new
  // hash; not_found for a file this daemon does not read; invalid_argument for the user's own
  // file, which needs none, and for a file that is not a valid mcp.json.
  Result<void> approve(const std::string& file, const std::string& sha256);

  // Every enabled server's tools, starting those not yet running side by side and waiting for
  // them at most `tools_wait`; those still starting then are left out (starting() names them).
  Task<std::vector<ExposedTool>> tools();
  // The servers whose start is under way (STARTING).
  std::vector<std::string> starting() const;
  // Calls a tool. It ends at the server's configured timeout, else at `call_timeout`, or at
  // `timeout` (the caller's own bound) when that is sooner; its text is cut at
  // `result_limit_bytes`.
  Task<McpCallOutcome> call(std::string exposed, Json arguments, Duration timeout,
                            McpClient::OnProgress on_progress = nullptr);

  std::vector<McpServerView> list() const;
  Result<void> enable(const std::string& name);
  Result<void> disable(const std::string& name);
  // Stops and starts it again now.
  Task<Result<McpServerView>> restart(std::string name);

 private:
  struct Server;
  struct Gathering;
  Task<Result<void>> started(std::shared_ptr<Server> server);
  void start_if_idle(const std::shared_ptr<Server>& server);
  Task<void> count_start(std::shared_ptr<Server> server, std::shared_ptr<Gathering> gathering);
  Task<void> start(std::shared_ptr<Server> server);
  void stop(Server& server, McpServerStatus status);
  void on_lost(const std::shared_ptr<Server>& server, const Error& why);
  void schedule_restart(const std::shared_ptr<Server>& server);
  Task<void> refresh_tools(std::shared_ptr<Server> server);
  McpServerView view_of(const Server& server) const;
  // What a server not running is: disabled, untrusted, unhealthy (misconfigured) or
  // disconnected.
  static McpServerStatus idle_status(const McpServerConfig& config);

  Env& env_;
  TransportFactory factory_;
  McpServersOptions options_;
  std::map<std::string, std::shared_ptr<Server>> servers_;
  std::vector<McpConfigFile> files_;
  ConfigSource source_;
  Approver approver_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  Scope scope_;  // last: restarts and refreshes go first
};

}  // namespace reliant::mcp
