// LazyDaemonStarter: one LocalDaemonRouter per user, created on first need and recorded.
#include "services/routing/lazy_daemon_starter.h"

#include "base/assert.h"
#include "services/storage/daemons.h"

namespace reliant::routing {

LazyDaemonStarter::LazyDaemonStarter(Env& env, LocalDaemonIdentity identity,
                                     daemon::RequestJournal& journal, std::string local_user_id)
    : env_(env),
      identity_(std::move(identity)),
      journal_(journal),
      local_user_id_(std::move(local_user_id)) {
  RELIANT_ASSERT_MSG(!local_user_id_.empty(), "the embedded daemon serves the local user");
}

LazyDaemonStarter::~LazyDaemonStarter() = default;

std::string LazyDaemonStarter::daemon_id_for(const std::string& user_id) {
  return "embedded-" + user_id;
}

Task<Result<std::string>> LazyDaemonStarter::ensure_started(std::string user_id) {
  if (user_id != local_user_id_) {
    co_return fail(ErrorCode::failed_precondition,
                   "this server's embedded daemon runs tools only for its local user; connect a "
                   "daemon of your own (reliant daemon start)");
  }
  const std::string daemon_id = daemon_id_for(user_id);
  if (running_) co_return daemon_id;
  const std::int64_t now_ms = to_ms(env_.executor.now());
  DaemonRecord record;
  record.id = daemon_id;
  record.user_id = user_id;
  record.name = identity_.name;
  record.type = DaemonType::local;
  record.hostname = identity_.hostname;
  record.platform = identity_.platform;
  record.working_dir = identity_.working_dir;
  record.version = identity_.version;
  record.status = DaemonStatus::active;
  record.last_heartbeat_at_ms = now_ms;
  record.gateway_id = "embedded";
  record.connected_at_ms = now_ms;
  record.connection_id =
      "embedded-" + std::to_string(now_ms) + "-" + std::to_string(++connections_);
  record.session_id = record.connection_id;
  // No gateway renews an embedded daemon's lease: it lives as long as this process.
  record.lease_until_ms = kLeaseWithoutEnd;
  TransactionBody body = [record](SqlTransaction& tx) -> Result<void> {
    if (auto ok = record_daemon_connected(tx, record); !ok) return ok;
    if (auto ok = record_daemon_status(tx, record.id, record.connection_id, DaemonStatus::active,
                                       record.connected_at_ms.value_or(0));
        !ok) {
      return fail(ok.error());
    }
    return {};
  };
  Task<Result<void>> recording = env_.store->transact(std::move(body));
  Result<void> recorded = co_await recording;
  if (!recorded) co_return fail(recorded.error());
  if (!running_) {  // another caller may have started it meanwhile
    running_ = std::make_unique<LocalDaemonRouter>(env_.executor, *env_.host, identity_.working_dir,
                                                   journal_, daemon_id, user_id, mcp_);
    if (env_.bus != nullptr) running_->announce_output_on(*env_.bus);
  }
  co_return daemon_id;
}

Task<Result<void>> LazyDaemonStarter::start_for_request(std::string user_id) {
  if (user_id != local_user_id_) co_return Result<void>{};
  Task<Result<std::string>> starting = ensure_started(std::move(user_id));
  Result<std::string> started = co_await starting;
  if (!started) co_return fail(started.error());
  co_return Result<void>{};
}

Task<Result<LocalDaemonRouter*>> LazyDaemonStarter::daemon_for(std::string user_id,
                                                               std::string daemon_id) {
  if (daemon_id != daemon_id_for(user_id)) {
    co_return fail(ErrorCode::not_found,
                   "daemon " + daemon_id + " is not this process's embedded daemon");
  }
  Task<Result<std::string>> starting = ensure_started(user_id);
  Result<std::string> started = co_await starting;
  if (!started) co_return fail(started.error());
  co_return running_.get();
}

Task<Result<v1::ToolResponse>> LazyDaemonStarter::send_tool_request(ToolCall call) {
  Task<Result<LocalDaemonRouter*>> finding = daemon_for(call.user_id, call.daemon_id);
  Result<LocalDaemonRouter*> daemon = co_await finding;
  if (!daemon) co_return fail(daemon.error());
  Task<Result<v1::ToolResponse>> sending = (*daemon)->send_tool_request(std::move(call));
  co_return co_await sending;
}

Task<Result<v1::ToolResponse>> LazyDaemonStarter::send_tool_request_sync(ToolCall call) {
  Task<Result<LocalDaemonRouter*>> finding = daemon_for(call.user_id, call.daemon_id);
  Result<LocalDaemonRouter*> daemon = co_await finding;
  if (!daemon) co_return fail(daemon.error());
  Task<Result<v1::ToolResponse>> sending = (*daemon)->send_tool_request_sync(std::move(call));
  co_return co_await sending;
}

Task<Result<void>> LazyDaemonStarter::cancel_tool(std::string user_id, std::string daemon_id,
                                                  std::string request_id, std::string reason) {
  Task<Result<LocalDaemonRouter*>> finding = daemon_for(user_id, daemon_id);
  Result<LocalDaemonRouter*> daemon = co_await finding;
  if (!daemon) co_return fail(daemon.error());
  Task<Result<void>> cancelling = (*daemon)->cancel_tool(std::move(user_id), std::move(daemon_id),
                                                         std::move(request_id), std::move(reason));
  co_return co_await cancelling;
}

Task<Result<bool>> LazyDaemonStarter::is_online(std::string user_id, std::string daemon_id) {
  co_return user_id == local_user_id_&& daemon_id == daemon_id_for(user_id) && running_;
}

Task<Result<v1::DaemonCommandResult>> LazyDaemonStarter::send_command(v1::DaemonCommand command) {
  Task<Result<LocalDaemonRouter*>> finding = daemon_for(command.user_id(), command.daemon_id());
  Result<LocalDaemonRouter*> daemon = co_await finding;
  if (!daemon) co_return fail(daemon.error());
  Task<Result<v1::DaemonCommandResult>> running = (*daemon)->send_command(std::move(command));
  co_return co_await running;
}

Task<Result<void>> LazyDaemonStarter::reload_config(std::string user_id, std::string daemon_id) {
  Task<Result<LocalDaemonRouter*>> finding = daemon_for(user_id, daemon_id);
  Result<LocalDaemonRouter*> daemon = co_await finding;
  if (!daemon) co_return fail(daemon.error());
  Task<Result<void>> reloading = (*daemon)->reload_config(std::move(user_id), std::move(daemon_id));
  co_return co_await reloading;
}

}  // namespace reliant::routing
