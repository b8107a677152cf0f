// The command queue's calls: each one transaction; a long poll waits between its looks on a
// wake-up its daemon's subject sends when a command is queued.
#include "services/control_plane/command_queue.h"

#include <algorithm>

#include "base/constant_time.h"
#include "base/json_parse.h"
#include "core/tool_subjects.h"
#include "runtime/wakeup.h"
#include "services/control_plane/managed_daemon_service.h"
#include "services/storage/managed_daemons.h"

namespace reliant::control_plane {
namespace {

constexpr std::size_t kCommandsListedMax = 100;

Result<CommandRequest> parsed_command(const std::string& name, const std::string& args_json) {
  if (args_json.empty()) return parse_command_request(name, nlohmann::json::object());
  auto args = parse_json(args_json);
  if (!args) return fail(ErrorCode::invalid_argument, "args: " + args.error().message);
  return parse_command_request(name, *args);
}

// The user's managed daemon that takes commands.
Result<ManagedDaemonRecord> commanded(SqlTransaction& tx, const std::string& user_id,
                                      const std::string& daemon) {
  auto managed = managed_of(tx, user_id, daemon, "sent commands");
  if (!managed) return fail(managed.error());
  if (!managed->spec.commands_enabled) {
    return fail(ErrorCode::failed_precondition,
                "daemon " + managed->spec.name +
                    " does not take commands: its spec has commands_enabled false (update it, "
                    "or create it with --commands)");
  }
  if (managed->desired == DesiredState::deleted) {
    return fail(ErrorCode::failed_precondition,
                "daemon " + managed->spec.name + " is being deleted");
  }
  return managed;
}

std::string cut_result(std::string result_json) {
  if (result_json.size() <= kCommandResultBytesMax) return result_json;
  return nlohmann::json({{"truncated", true},
                         {"bytes", result_json.size()},
                         {"head", result_json.substr(0, kCommandResultBytesMax / 2)}})
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

CommandQueue::CommandQueue(Env& env)
    : env_(env), ids_(env.executor, env.random.split("daemon-commands")) {}

Task<Result<CommandRecord>> CommandQueue::send(std::string user_id, std::string daemon,
                                               std::string name, std::string args_json) {
  auto request = parsed_command(name, args_json);
  if (!request) co_return fail(request.error());
  CommandRecord row;
  row.id = ids_.next();
  row.user_id = user_id;
  row.name = request->name;
  row.args_json = request->args.dump();
  row.run_time_ms = std::chrono::duration_cast<milliseconds>(request->run_time_max).count();
  row.created_at_ms = to_ms(env_.executor.now());
  // A command is a call to the daemon: it keeps it awake, and one that was suspended is wanted
  // running again in the same transaction (the command waits in the queue until it polls).
  struct Sent {
    CommandRecord command;
    bool resumed = false;
  };
  Task<Result<Sent>> writing =
      env_.store->transact_for([row, daemon](SqlTransaction& tx) mutable -> Result<Sent> {
        auto managed = commanded(tx, row.user_id, daemon);
        if (!managed) return fail(managed.error());
        row.daemon_id = managed->id;
        if (auto ok = insert_command(tx, row); !ok) return fail(ok.error());
        auto resumed = note_call_to_daemon(tx, row.daemon_id, row.created_at_ms);
        if (!resumed) return fail(resumed.error());
        return Sent{row, *resumed};
      });
  Result<Sent> sent = co_await writing;
  if (!sent) co_return fail(sent.error());
  if (env_.bus != nullptr) {
    if (sent->resumed) (void)env_.bus->publish(subjects::kControlPlaneWake, "{}");
    // A hint: a poll waiting for the daemon looks at once.
    (void)env_.bus->publish(subjects::commands_queued(sent->command.daemon_id), sent->command.id);
  }
  co_return std::move(sent->command);
}

Task<Result<CommandRecord>> CommandQueue::get(std::string user_id, std::string daemon,
                                              std::string command_id) {
  Task<Result<CommandRecord>> reading = env_.store->transact_for(
      [user_id, daemon, command_id](SqlTransaction& tx) -> Result<CommandRecord> {
        auto managed = managed_of(tx, user_id, daemon, "sent commands");
        if (!managed) return fail(managed.error());
        return owned_command(tx, user_id, managed->id, command_id);
      });
  co_return co_await reading;
}

Task<Result<std::vector<CommandRecord>>> CommandQueue::list(std::string user_id,
                                                            std::string daemon) {
  Task<Result<std::vector<CommandRecord>>> reading = env_.store->transact_for(
      [user_id, daemon](SqlTransaction& tx) -> Result<std::vector<CommandRecord>> {
        auto managed = managed_of(tx, user_id, daemon, "sent commands");
        if (!managed) return fail(managed.error());
        return list_commands(tx, managed->id, kCommandsListedMax);
      });
  co_return co_await reading;
}

Task<Result<std::string>> CommandQueue::authenticate(std::string token) {
  const Error refused{ErrorCode::unauthenticated,
                      "not a daemon's current commands token (a daemon gets a new one each time "
                      "its control plane starts it)"};
  const std::optional<std::string> daemon_id = command_token_daemon(token);
  if (!daemon_id) co_return fail(refused);
  Task<Result<std::optional<std::string>>> reading = env_.store->transact_for(
      [id = *daemon_id](SqlTransaction& tx) { return commands_token_hash(tx, id); });
  Result<std::optional<std::string>> stored = co_await reading;
  if (!stored) co_return fail(stored.error());
  if (!*stored || !constant_time_equal(**stored, hash_command_token(token)))
    co_return fail(refused);
  co_return *daemon_id;
}

Task<Result<std::optional<CommandRecord>>> CommandQueue::next(std::string daemon_id,
                                                              Duration wait) {
  const SteadyInstant until = env_.executor.steady_now() + std::min(wait, kPollWaitMax);
  Wakeup queued(env_.executor);
  SubscriptionPtr hint;
  if (env_.bus != nullptr) {
    auto subscribed = env_.bus->subscribe(subjects::commands_queued(daemon_id),
                                          [&queued](const BusMessage&) { queued.wake(); });
    if (subscribed) hint = std::move(*subscribed);
  }
  // Only the poll's first look takes a command. A poll that waited may have lost its daemon
  // meanwhile (a restart, a suspension, a dropped connection: the server does not notice), and a
  // command it took would be nobody's until its lease ran out. So a command that comes during
  // the wait ends the poll empty-handed, and the daemon's next poll, at once, takes it.
  for (bool first_look = true;; first_look = false) {
    queued.clear();
    const std::int64_t now_ms = to_ms(env_.executor.now());
    if (first_look) {
      Task<Result<std::optional<CommandRecord>>> claiming = env_.store->transact_for(
          [daemon_id, now_ms](SqlTransaction& tx) { return claim_command(tx, daemon_id, now_ms); });
      Result<std::optional<CommandRecord>> claimed = co_await claiming;
      if (!claimed || *claimed) co_return claimed;
    } else {
      Task<Result<bool>> looking =
          env_.store->transact_for([daemon_id, now_ms](SqlTransaction& tx) {
            return command_waiting(tx, daemon_id, now_ms);
          });
      Result<bool> waiting = co_await looking;
      if (!waiting) co_return fail(waiting.error());
      if (*waiting) co_return std::optional<CommandRecord>();
    }
    const SteadyInstant now = env_.executor.steady_now();
    if (now >= until) co_return std::optional<CommandRecord>();
    Task<void> waiting = queued.wait(std::min<Duration>(until - now, kPollRecheck));
    co_await waiting;
  }
}

Task<Result<bool>> CommandQueue::report(std::string daemon_id, std::string command_id,
                                        bool succeeded, std::string result_json,
                                        std::string error) {
  Task<Result<bool>> writing = env_.store->transact_for(
      [daemon_id, command_id, succeeded, result = cut_result(std::move(result_json)),
       error = error.substr(0, 4096), now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
        return complete_command(tx, daemon_id, command_id, succeeded, result, error, now_ms);
      });
  co_return co_await writing;
}

}  // namespace reliant::control_plane
