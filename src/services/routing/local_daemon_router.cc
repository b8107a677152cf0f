// The monolith's router: direct calls into the in-process daemon.
#include "services/routing/local_daemon_router.h"

#include "services/updates/tool_output.h"

namespace reliant::routing {

LocalDaemonRouter::LocalDaemonRouter(Executor& executor, Host& host, std::string working_dir,
                                     daemon::RequestJournal& journal, std::string daemon_id,
                                     std::string user_id, mcp::McpServers* mcp,
                                     std::string terminal_shell)
    : executor_(executor),
      daemon_id_(std::move(daemon_id)),
      user_id_(std::move(user_id)),
      tools_(daemon::make_builtin_tools()),
      background_(executor, host),
      terminals_(executor, host, working_dir, {}, std::move(terminal_shell)),
      context_{executor, host, std::move(working_dir), 512 * 1024, background_, &terminals_},
      runner_(executor, tools_, context_, journal, 4096, minutes(10),
              [this](const v1::ToolResponse& response) { answered(response); }) {
  runner_.set_identity(daemon_id_, user_id_);
  tools_.attach_mcp(mcp);
}

LocalDaemonRouter::~LocalDaemonRouter() = default;

void LocalDaemonRouter::announce_output_on(Bus& bus) {
  runner_.set_output_listener([this, &bus](const v1::OutputChunk& chunk) {
    updates::announce(
        bus, {updates::tool_output_event(user_id_, daemon_id_, chunk.request_id(), chunk.offset(),
                                         chunk.data(), to_ms(executor_.now()))});
  });
}

Result<void> LocalDaemonRouter::check(const std::string& user_id,
                                      const std::string& daemon_id) const {
  // One user's calls never reach another's daemon, here as on the bus.
  if (user_id != user_id_ || daemon_id != daemon_id_) {
    return fail(ErrorCode::not_found,
                "daemon " + daemon_id + " of user " + user_id + " is not in this process");
  }
  return {};
}

void LocalDaemonRouter::answered(const v1::ToolResponse& response) {
  auto it = waiting_.find(response.request_id());
  if (it == waiting_.end()) return;
  std::vector<Promise<v1::ToolResponse>> promises = std::move(it->second);
  waiting_.erase(it);
  for (auto& promise : promises) promise.set(response);
}

Task<Result<v1::ToolResponse>> LocalDaemonRouter::send_tool_request_sync(ToolCall call) {
  if (auto ok = check(call.user_id, call.daemon_id); !ok) co_return fail(ok.error());
  if (call.request_id.empty()) co_return fail(ErrorCode::invalid_argument, "request id is empty");
  auto [promise, future] = make_promise<v1::ToolResponse>(executor_);
  waiting_[call.request_id].push_back(promise);
  v1::ToolRequest request;
  request.set_request_id(call.request_id);
  request.set_tool_name(call.tool_name);
  request.set_input_json(call.input_json);
  request.set_tool_call_id(call.tool_call_id);
  request.set_timeout_ms(to_ms(call.timeout));
  request.set_user_id(call.user_id);
  request.set_daemon_id(call.daemon_id);
  runner_.start(
      std::move(request));  // may answer at once (a repeat): the promise is already waiting
  v1::ToolResponse response = co_await future;
  co_return response;
}

Task<Result<v1::ToolResponse>> LocalDaemonRouter::send_tool_request(ToolCall call) {
  // In one process there is nothing to lose between caller and daemon: the durable path is
  // the direct one.
  Task<Result<v1::ToolResponse>> direct = send_tool_request_sync(std::move(call));
  Result<v1::ToolResponse> response = co_await direct;
  co_return response;
}

Task<Result<void>> LocalDaemonRouter::cancel_tool(std::string user_id, std::string daemon_id,
                                                  std::string request_id, std::string reason) {
  if (auto ok = check(user_id, daemon_id); !ok) co_return fail(ok.error());
  runner_.cancel(request_id, reason);
  co_return Result<void>{};
}

Task<Result<bool>> LocalDaemonRouter::is_online(std::string user_id, std::string daemon_id) {
  co_return check(user_id, daemon_id).has_value();
}

Task<Result<v1::DaemonCommandResult>> LocalDaemonRouter::send_command(v1::DaemonCommand command) {
  if (auto ok = check(command.user_id(), command.daemon_id()); !ok) co_return fail(ok.error());
  Task<v1::DaemonCommandResult> answering = daemon::answer_daemon_command(
      std::move(command), runner_, daemon::Json{{"daemon_id", daemon_id_}});
  co_return co_await answering;
}

Task<Result<void>> LocalDaemonRouter::reload_config(std::string user_id, std::string daemon_id) {
  Task<Result<v1::DaemonCommandResult>> reloading =
      daemon_command(std::move(user_id), std::move(daemon_id), "reload_config", "{}");
  Result<v1::DaemonCommandResult> reloaded = co_await reloading;
  if (!reloaded) co_return fail(reloaded.error());
  co_return Result<void>{};  // the daemon's own answer (a broken file) is not waited for remotely
                             // either
}

}  // namespace reliant::routing
