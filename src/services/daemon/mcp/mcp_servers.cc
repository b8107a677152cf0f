// McpServers: one state machine per server — disconnected → connecting → healthy, and
// unhealthy with a restart timer when a start fails or the connection ends.
#include "services/daemon/mcp/mcp_servers.h"
#include "services/daemon/mcp/mcp_http_transport.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "base/json_parse.h"
#include "runtime/sleep.h"
#include "services/daemon/tools/tool_support.h"

namespace reliant::mcp {

std::string_view to_string(McpServerStatus status) {
  switch (status) {
    case McpServerStatus::healthy:
      return "HEALTHY";
    case McpServerStatus::starting:
      return "STARTING";
    case McpServerStatus::unhealthy:
      return "UNHEALTHY";
    case McpServerStatus::disconnected:
      return "DISCONNECTED";
    case McpServerStatus::disabled:
      return "DISABLED";
    case McpServerStatus::untrusted:
      return "UNTRUSTED";
  }
  return "DISCONNECTED";
}

std::string exposed_name(std::string_view server, std::string_view tool) {
  return std::string(kMcpToolPrefix) + std::string(server) + "__" + std::string(tool);
}

std::optional<std::pair<std::string, std::string>> split_exposed_name(std::string_view name) {
  if (!name.starts_with(kMcpToolPrefix)) return std::nullopt;
  name.remove_prefix(kMcpToolPrefix.size());
  const auto separator = name.find("__");  // server names never contain "__"
  if (separator == std::string_view::npos || separator == 0 || separator + 2 >= name.size()) {
    return std::nullopt;
  }
  return std::pair{std::string(name.substr(0, separator)), std::string(name.substr(separator + 2))};
}

struct McpServers::Server {
  McpServerConfig config;
  McpServerStatus status = McpServerStatus::disconnected;
  std::string error;
  std::unique_ptr<McpClient> client;
  std::vector<McpTool> tools;
  bool connecting = false;
  std::vector<Promise<Result<void>>> waiters;  // callers waiting for the start in progress
  Backoff backoff;
  std::uint32_t restarts = 0;
  std::uint32_t failures_in_a_row = 0;
  std::optional<TimerId> restart_timer;
  std::uint64_t generation = 0;  // bumped by every stop: late news of an old client is ignored
  // tools/list_changed: at most one listing in flight and one queued, however many notices come.
  bool refreshing = false;
  bool refresh_queued = false;
  // It was still starting when a listing stopped waiting: listings do not wait for it again
  // until it has started.
  bool slow_start = false;

  explicit Server(McpServerConfig c, BackoffPolicy policy)
      : config(std::move(c)), backoff(policy) {}
};

McpServers::McpServers(Env& env, Host& host, McpServersOptions options)
    : McpServers(
          env,
          [&env, &host, log_dir = options.log_dir, working_dir = options.working_dir,
           http = options.http](
              const McpServerConfig& server) -> Result<std::unique_ptr<McpTransport>> {
            if (server.type == "http" || server.type == "sse") {
              if (http == nullptr) {
                return fail(ErrorCode::failed_precondition,
                            "this daemon makes no HTTP requests, so it cannot reach the " +
                                server.type + " server at " + server.url);
              }
              McpHttpEndpoint endpoint;
              endpoint.url = server.url;
              endpoint.headers = server.headers;
              if (server.type == "http") {
                return std::unique_ptr<McpTransport>(
                    std::make_unique<StreamableHttpTransport>(env.executor, *http, endpoint));
              }
              return std::unique_ptr<McpTransport>(
                  std::make_unique<SseTransport>(env.executor, *http, endpoint));
            }
            if (server.type != "stdio") {
              return fail(ErrorCode::invalid_argument, "unknown transport " + server.type);
            }
            std::vector<std::string> words{server.command};
            words.insert(words.end(), server.args.begin(), server.args.end());
            StdioServer stdio;
            stdio.command = shell_command(words);
            stdio.env = server.env;
            stdio.working_dir = server.cwd.empty() ? working_dir : server.cwd;
            if (!log_dir.empty()) stdio.log_path = log_dir + "/mcp-" + server.name + ".log";
            return std::unique_ptr<McpTransport>(
                std::make_unique<StdioTransport>(env.executor, host, std::move(stdio)));
          },
          options) {}  // copied, not moved: the factory above reads it too

McpServers::McpServers(Env& env, TransportFactory factory, McpServersOptions options)
    : env_(env), factory_(std::move(factory)), options_(std::move(options)), scope_(env.executor) {}

McpServers::~McpServers() {
  *alive_ = false;
  for (auto& [name, server] : servers_) {
    if (server->restart_timer) env_.executor.cancel(*server->restart_timer);
  }
}

McpServerStatus McpServers::idle_status(const McpServerConfig& config) {
  if (config.untrusted) return McpServerStatus::untrusted;
  if (!config.enabled) return McpServerStatus::disabled;
  if (!config.error.empty()) return McpServerStatus::unhealthy;
  return McpServerStatus::disconnected;
}

void McpServers::configure(std::map<std::string, McpServerConfig> servers,
                           std::vector<McpConfigFile> files) {
  files_ = std::move(files);
  for (auto it = servers_.begin(); it != servers_.end();) {
    auto wanted = servers.find(it->first);
    if (wanted == servers.end() || !(wanted->second == it->second->config)) {
      stop(*it->second, McpServerStatus::disconnected);
      it = servers_.erase(it);
    } else {
      servers.erase(wanted);  // unchanged: keeps running
      ++it;
    }
  }
  for (auto& [name, config] : servers) {
    RELIANT_ASSERT(!config.untrusted || !config.error.empty());
    auto server = std::make_shared<Server>(std::move(config), options_.restart);
    server->status = idle_status(server->config);
    if (server->status != McpServerStatus::disabled) server->error = server->config.error;
    servers_.emplace(name, std::move(server));
  }
}

Result<void> McpServers::reload() {
  if (!source_)
    return fail(ErrorCode::failed_precondition, "this daemon has no MCP configuration files");
  auto configured = source_();
  if (!configured) return fail(configured.error());
  configure(std::move(configured->servers), std::move(configured->files));
  return {};
}

Result<void> McpServers::approve(const std::string& file, const std::string& sha256) {
  if (!approver_) {
    return fail(ErrorCode::failed_precondition, "this daemon keeps no MCP approvals");
  }
  // The files as they are now: the approval must be of the content the user reviewed.
  if (auto read = reload(); !read) return read;
  const auto found = std::find_if(files_.begin(), files_.end(),
                                  [&](const McpConfigFile& f) { return f.file == file; });
  if (found == files_.end()) {
    return fail(ErrorCode::not_found, "this daemon reads no mcp.json " + file);
  }
  if (found->layer == McpLayer::user) {
    return fail(ErrorCode::invalid_argument, file + " is your own file: it needs no approval");
  }
  if (found->sha256 != sha256) {
    return fail(ErrorCode::failed_precondition, file + " has changed: its sha256 is now " +
                                                    found->sha256 + ", not " + sha256 +
                                                    "; review it again");
  }
  if (!found->error.empty()) {
    return fail(ErrorCode::invalid_argument, found->error + " (fix the file, then approve it)");
  }
  if (found->trusted) return {};
  if (auto kept = approver_(McpApproval{file, sha256}); !kept) return kept;
  return reload();
}

void McpServers::stop(Server& server, McpServerStatus status) {
  ++server.generation;
  server.refreshing = false;
  server.refresh_queued = false;
  if (server.restart_timer) {
    env_.executor.cancel(*server.restart_timer);
    server.restart_timer.reset();
  }
  server.client.reset();  // kills the process; its pending calls fail
  server.tools.clear();
  server.status = status;
  server.connecting = false;
  for (auto& waiter : std::exchange(server.waiters, {})) {
    waiter.set(fail(ErrorCode::unavailable, "the server " + server.config.name + " was stopped"));
  }
}

Task<Result<void>> McpServers::started(std::shared_ptr<Server> server) {
  if (server->status == McpServerStatus::healthy) co_return Result<void>{};
  if (server->status == McpServerStatus::disabled) {
    co_return fail(ErrorCode::failed_precondition,
                   "the MCP server " + server->config.name + " is disabled");
  }
  if (server->config.untrusted)
    co_return fail(ErrorCode::failed_precondition, server->config.error);
  if (!server->config.error.empty())
    co_return fail(ErrorCode::invalid_argument, server->config.error);
  auto [promise, future] = make_promise<Result<void>>(env_.executor);
  server->waiters.push_back(promise);
  start_if_idle(server);
  Result<void> ready = co_await future;
  co_return ready;
}

void McpServers::start_if_idle(const std::shared_ptr<Server>& server) {
  if (server->connecting) return;
  // A caller needing the server starts it now, even while a restart timer waits.
  if (server->restart_timer) {
    env_.executor.cancel(*server->restart_timer);
    server->restart_timer.reset();
  }
  scope_.spawn(start(server));
}

Task<void> McpServers::start(std::shared_ptr<Server> server) {
  server->connecting = true;
  server->status = McpServerStatus::starting;
  const std::uint64_t generation = server->generation;
  const std::shared_ptr<bool> alive = alive_;
  Error failure{ErrorCode::unavailable, ""};
  auto transport = factory_(server->config);
  if (!transport) {
    failure = transport.error();
  } else {
    auto client =
        std::make_unique<McpClient>(env_.executor, std::move(*transport), options_.client);
    McpClient* raw = client.get();
    server->client = std::move(client);
    Task<Result<McpServerInfo>> connecting = raw->connect();
    Result<McpServerInfo> info = co_await connecting;
    if (!*alive || server->generation != generation) co_return;
    if (info) {
      Task<Result<std::vector<McpTool>>> listing = raw->list_tools();
      Result<std::vector<McpTool>> tools = co_await listing;
      if (!*alive || server->generation != generation) co_return;
      if (tools) {
        server->tools = std::move(*tools);
        server->status = McpServerStatus::healthy;
        server->error.clear();
        server->connecting = false;
        server->failures_in_a_row = 0;
        server->slow_start = false;
        server->backoff.reset();
        std::weak_ptr<Server> weak = server;
        raw->on_closed([this, alive, weak, generation](const Error& why) {
          auto s = weak.lock();
          if (*alive && s && s->generation == generation) on_lost(s, why);
        });
        raw->on_tools_changed([this, alive, weak, generation] {
          auto s = weak.lock();
          if (!*alive || !s || s->generation != generation) return;
          // A burst of notices is one more listing, not one each (issue 38: +90 MB, kept).
          if (s->refreshing) {
            s->refresh_queued = true;
            return;
          }
          s->refreshing = true;
          scope_.spawn(refresh_tools(s));
        });
        for (auto& waiter : std::exchange(server->waiters, {})) waiter.set(Result<void>{});
        co_return;
      }
      failure = tools.error();
    } else {
      failure = info.error();
    }
  }
  // The start failed: unhealthy, and a restart later.
  ++server->generation;
  server->client.reset();
  server->connecting = false;
  server->status = McpServerStatus::unhealthy;
  server->error = failure.message;
  ++server->failures_in_a_row;
  for (auto& waiter : std::exchange(server->waiters, {})) {
    waiter.set(fail(ErrorCode::unavailable, "the MCP server " + server->config.name +
                                                " did not start: " + failure.message));
  }
  // What cannot work as configured (no transport, an unknown version) is not retried.
  if (failure.code != ErrorCode::failed_precondition) schedule_restart(server);
}

void McpServers::on_lost(const std::shared_ptr<Server>& server, const Error& why) {
  ++server->generation;
  server->refreshing = false;
  server->refresh_queued = false;
  // The client ends on a later turn: this runs inside its own callback.
  env_.executor.post([client = std::shared_ptr<McpClient>(std::move(server->client))] {});
  server->tools.clear();
  server->status = McpServerStatus::unhealthy;
  server->error = why.message;
  ++server->failures_in_a_row;
  schedule_restart(server);
}

void McpServers::schedule_restart(const std::shared_ptr<Server>& server) {
  if (server->failures_in_a_row > options_.restarts_max) return;  // waits for the next caller
  const Duration delay = server->backoff.next(env_.random);
  std::weak_ptr<Server> weak = server;
  server->restart_timer = env_.executor.after(delay, [this, alive = alive_, weak] {
    auto s = weak.lock();
    if (!*alive || !s) return;
    s->restart_timer.reset();
    if (s->connecting || s->status != McpServerStatus::unhealthy) return;
    ++s->restarts;
    scope_.spawn(start(s));
  });
}

Task<void> McpServers::refresh_tools(std::shared_ptr<Server> server) {
  const std::uint64_t generation = server->generation;
  const std::shared_ptr<bool> alive = alive_;
  // Notices that come while a listing is in flight queue one more, which sees them all.
  do {
    server->refresh_queued = false;
    if (server->status != McpServerStatus::healthy || server->client == nullptr) break;
    Task<Result<std::vector<McpTool>>> listing = server->client->list_tools();
    Result<std::vector<McpTool>> tools = co_await listing;
    if (!*alive || server->generation != generation) co_return;  // stopped: its flags were reset
    if (tools) server->tools = std::move(*tools);
  } while (server->refresh_queued);
  server->refreshing = false;
}

struct McpServers::Gathering {
  std::size_t left = 0;
  Promise<bool> all_started;
};

Task<void> McpServers::count_start(std::shared_ptr<Server> server,
                                   std::shared_ptr<Gathering> gathering) {
  Task<Result<void>> starting = started(std::move(server));
  Result<void> ready = co_await starting;
  (void)ready;  // the server's status says how it went
  RELIANT_ASSERT(gathering->left > 0);
  if (--gathering->left == 0) gathering->all_started.set(true);
}

std::vector<std::string> McpServers::starting() const {
  std::vector<std::string> out;
  for (const auto& [name, server] : servers_) {
    if (server->status == McpServerStatus::starting) out.push_back(name);
  }
  return out;
}

Task<std::vector<ExposedTool>> McpServers::tools() {
  std::vector<ExposedTool> out;
  std::vector<std::shared_ptr<Server>> servers;
  for (const auto& [name, server] : servers_) {
    if (server->status == McpServerStatus::disabled || !server->config.error.empty()) continue;
    servers.push_back(server);
  }
  // Every server not running starts now, side by side, and the listing waits for them a while:
  // one whose handshake never ends must not hold up every chat's turn (issue 38: 30 s each).
  auto gathering = std::make_shared<Gathering>();
  std::vector<std::shared_ptr<Server>> awaited;
  for (const auto& server : servers) {
    if (server->status == McpServerStatus::healthy) continue;
    if (server->slow_start) {
      start_if_idle(server);
    } else {
      awaited.push_back(server);
    }
  }
  if (!awaited.empty()) {
    std::pair<Promise<bool>, Future<bool>> made = make_promise<bool>(env_.executor);
    gathering->all_started = made.first;
    gathering->left = awaited.size();
    for (const auto& server : awaited) scope_.spawn(count_start(server, gathering));
    ScopedTimer deadline(
        env_.executor,
        env_.executor.after(options_.tools_wait, [promise = made.first] { promise.set(false); }));
    const bool all = co_await made.second;
    if (!all) {
      for (const auto& server : awaited) {
        if (server->status == McpServerStatus::starting) server->slow_start = true;
      }
    }
  }
  for (const auto& server : servers) {
    if (server->status != McpServerStatus::healthy) continue;  // its status says why
    for (const auto& tool : server->tools) {
      ExposedTool exposed;
      exposed.name = exposed_name(server->config.name, tool.name);
      exposed.server = server->config.name;
      exposed.tool = tool.name;
      exposed.description = tool.description.empty() ? tool.title : tool.description;
      exposed.input_schema = tool.input_schema;
      exposed.tags = {"mcp", server->config.name};
      exposed.tags.insert(exposed.tags.end(), server->config.tags.begin(),
                          server->config.tags.end());
      exposed.read_only =
          tool.annotations.is_object() && bool_field(tool.annotations, "readOnlyHint");
      out.push_back(std::move(exposed));
    }
  }
  co_return out;
}

Task<McpCallOutcome> McpServers::call(std::string exposed, Json arguments, Duration timeout,
                                      McpClient::OnProgress on_progress) {
  const auto failure = [](std::string code, std::string text) {
    return McpCallOutcome{true, std::move(text), std::move(code)};
  };
  const auto parts = split_exposed_name(exposed);
  if (!parts) co_return failure("invalid_input", exposed + " is not an MCP tool name");
  const auto found = servers_.find(parts->first);
  if (found == servers_.end())
    co_return failure("not_found", "no MCP server named " + parts->first);
  std::shared_ptr<Server> server = found->second;
  Task<Result<void>> starting = started(server);
  Result<void> ready = co_await starting;
  if (!ready) co_return failure("unavailable", ready.error().message);
  if (server->client == nullptr) co_return failure("unavailable", "the server went away");
  // The server's own timeout, else the default, never past the caller's bound: the tool set gives
  // 24 hours (its request's own deadline ends the call), which is no timeout at all (issue 38).
  Duration bound = server->config.timeout_seconds > 0
                       ? Duration(static_cast<Duration::rep>(server->config.timeout_seconds * 1e9))
                       : options_.call_timeout;
  if (timeout > Duration::zero()) bound = std::min(bound, timeout);
  RELIANT_ASSERT(bound > Duration::zero());
  Task<Result<McpCallResult>> calling =
      server->client->call_tool(parts->second, std::move(arguments), bound, std::move(on_progress));
  Result<McpCallResult> result = co_await calling;
  if (!result) {
    const ErrorCode code = result.error().code;
    // An answer that could not be read is the call's failure, not the server's absence.
    const bool malformed = code == ErrorCode::invalid_argument || code == ErrorCode::internal;
    co_return failure(code == ErrorCode::timeout ? "timeout"
                      : malformed                ? "failed"
                                                 : "unavailable",
                      result.error().message);
  }
  // Cut like the built-in tools' output: a result is stored and sent to the model.
  std::string text = daemon::cap_output(std::move(result->text), options_.result_limit_bytes);
  co_return McpCallOutcome{result->is_error, std::move(text), result->is_error ? "failed" : ""};
}

McpServerView McpServers::view_of(const Server& server) const {
  McpServerView view;
  view.name = server.config.name;
  view.status = server.status;
  view.error = server.error;
  view.tools = server.tools.size();
  view.restarts = server.restarts;
  if (server.client) {
    view.server_name = server.client->server().name;
    view.server_version = server.client->server().version;
    view.protocol_version = server.client->server().protocol_version;
  }
  view.tags = server.config.tags;
  view.source = server.config.source;
  return view;
}

std::vector<McpServerView> McpServers::list() const {
  std::vector<McpServerView> out;
  for (const auto& [name, server] : servers_) out.push_back(view_of(*server));
  return out;
}

Result<void> McpServers::enable(const std::string& name) {
  auto found = servers_.find(name);
  if (found == servers_.end()) return fail(ErrorCode::not_found, "no MCP server named " + name);
  Server& server = *found->second;
  if (server.status != McpServerStatus::disabled) return {};
  server.config.enabled = true;
  server.status = idle_status(server.config);
  server.error = server.config.error;
  server.failures_in_a_row = 0;
  server.backoff.reset();
  return {};
}

Result<void> McpServers::disable(const std::string& name) {
  auto found = servers_.find(name);
  if (found == servers_.end()) return fail(ErrorCode::not_found, "no MCP server named " + name);
  found->second->config.enabled = false;
  stop(*found->second, McpServerStatus::disabled);
  return {};
}

Task<Result<McpServerView>> McpServers::restart(std::string name) {
  auto found = servers_.find(name);
  if (found == servers_.end()) co_return fail(ErrorCode::not_found, "no MCP server named " + name);
  std::shared_ptr<Server> server = found->second;
  if (server->status == McpServerStatus::disabled) {
    co_return fail(ErrorCode::failed_precondition, "the MCP server " + name + " is disabled");
  }
  if (server->config.untrusted)
    co_return fail(ErrorCode::failed_precondition, server->config.error);
  stop(*server, McpServerStatus::disconnected);
  server->failures_in_a_row = 0;
  server->backoff.reset();
  ++server->restarts;
  Task<Result<void>> starting = started(server);
  Result<void> ready = co_await starting;
  (void)ready;  // the view says how it went
  co_return view_of(*server);
}

}  // namespace reliant::mcp
