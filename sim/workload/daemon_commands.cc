// Commands in the simulator: the daemon's source over the real CommandQueue, the clients that
// send commands, and command_once.
#include "sim/workload/daemon_commands.h"

#include "base/json_parse.h"
#include "runtime/sleep.h"
#include "services/control_plane/command_queue.h"
#include "services/storage/daemon_commands.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {
namespace {

// A command's time to end once the faults healed: a delivery lost just before is handed out
// again after its lease (its run time, 5 s, and the answer grace), then runs and reports.
constexpr Duration kCommandSettle = 2 * kCommandAnswerGrace + seconds(30);
constexpr double kToolTimeoutSeconds = 5;

// The daemon polls the queue itself: its process's store connection stands for the api and
// HTTP. BUGGIFY loses an answer on the way back (a dropped connection), before or after the
// queue acted on it, as the real link can.
class SimCommandSource final : public daemon::CommandSource {
 public:
  SimCommandSource(Env& env, std::string daemon_id)
      : env_(env), queue_(env), daemon_id_(std::move(daemon_id)) {}

  Task<Result<std::optional<daemon::PolledCommand>>> next(Duration wait) override {
    Task<Result<std::optional<CommandRecord>>> polling = queue_.next(daemon_id_, wait);
    Result<std::optional<CommandRecord>> next = co_await polling;
    if (!next) co_return fail(next.error());
    if (!*next) co_return std::optional<daemon::PolledCommand>();
    if (buggify(env_, "commands.poll_answer_lost")) {
      co_return fail(ErrorCode::unavailable, "the poll's answer was lost");
    }
    const CommandRecord& c = **next;
    if (c.deliveries > 1) sometimes(env_, "commands.redelivered");
    daemon::PolledCommand out{
        c.id,        c.name,    parse_json_or_discarded(c.args_json), c.deliveries,
        c.daemon_id, c.user_id, milliseconds(c.run_time_ms)};
    if (!out.args.is_object()) out.args = nlohmann::json::object();
    co_return std::optional<daemon::PolledCommand>(std::move(out));
  }

  Task<Result<void>> report(std::string command_id, daemon::CommandOutcome outcome) override {
    if (buggify(env_, "commands.report_lost")) {
      co_return fail(ErrorCode::unavailable, "the report was lost on its way");
    }
    Task<Result<bool>> reporting = queue_.report(
        daemon_id_, command_id, outcome.ok, outcome.ok ? outcome.result.dump() : "", outcome.error);
    Result<bool> reported = co_await reporting;
    if (!reported) co_return fail(reported.error());
    if (!*reported) sometimes(env_, "commands.report_repeated");
    if (buggify(env_, "commands.report_answer_lost")) {
      co_return fail(ErrorCode::unavailable, "the report's answer was lost");
    }
    co_return Result<void>();
  }

 private:
  Env& env_;
  control_plane::CommandQueue queue_;
  std::string daemon_id_;
};

// Sends commands to its user's daemons with commands enabled, one every interval, forever.
class CommandClient {
 public:
  CommandClient(Env& env, ClientShared shared)
      : env_(env),
        shared_(std::move(shared)),
        queue_(env),
        ids_(env.executor, env.random.split("command-client")),
        scope_(env.executor) {
    for (const auto& machine : shared_.impl->machines) {
      if (machine->config.commands && machine->config.user == shared_.config.user) {
        daemons_.push_back(machine.get());
      }
    }
    scope_.spawn(loop());
  }

 private:
  Task<void> loop() {
    for (;;) {
      Sleep pausing(env_.executor, shared_.config.interval);
      co_await pausing;
      if (daemons_.empty()) continue;
      const auto& machine = *daemons_[static_cast<std::size_t>(
          env_.random.between(std::int64_t{0}, static_cast<std::int64_t>(daemons_.size()) - 1))];
      // Mostly tool runs; a few reloads, and restarts until the faults heal (a restart cuts the
      // daemon off its gateway for a moment: in the liveness phase it would be one more fault).
      const std::int64_t draw = env_.random.between(std::int64_t{0}, 19);
      ToolPathWorkload::Impl::CommandSent sent{{},         shared_.node, machine.node,
                                               "run_tool", {},           env_.executor.now()};
      nlohmann::json args = nlohmann::json::object();
      if (draw == 0 && !shared_.impl->healed()) {
        sent.name = "restart";
      } else if (draw <= 2) {
        sent.name = "reload";
      } else {
        sent.marker = ids_.next();
        args = {{"tool", "bash"},
                {"input", {{"command", "echo " + sent.marker}}},
                {"timeout_s", kToolTimeoutSeconds}};
      }
      Task<Result<CommandRecord>> sending =
          queue_.send(user_id_of(shared_.config.user), machine.daemon_id, sent.name, args.dump());
      Result<CommandRecord> stored = co_await sending;
      // An unknown outcome may have stored it: command_once checks only what it knows was sent.
      if (!stored) continue;
      sent.id = stored->id;
      shared_.impl->commands_sent.push_back(std::move(sent));
    }
  }

  Env& env_;
  ClientShared shared_;
  control_plane::CommandQueue queue_;
  IdGenerator ids_;
  std::vector<const ToolPathWorkload::Machine*> daemons_;
  Scope scope_;  // last: destroyed first
};

}  // namespace

std::unique_ptr<daemon::CommandSource> make_sim_command_source(Env& env,
                                                               ToolPathWorkload::Machine& machine) {
  return std::make_unique<SimCommandSource>(env, machine.daemon_id);
}

void configure_sim_commands(ToolPathWorkload::Impl& impl, ToolPathWorkload::Machine& machine,
                            daemon::DaemonConfig& config) {
  config.command_poller.poll_wait = seconds(5);
  config.command_poller.retry = BackoffPolicy{milliseconds(200), seconds(5), 2.0, 0.5};
  ToolPathWorkload::Impl* shared = &impl;
  config.command_ran = [shared, node = machine.node](const daemon::PolledCommand& c) {
    if (++shared->command_handled[c.id] > 1) {
      shared->checker.violation(
          shared->world.now(), "command_once",
          "command " + c.id + " (" + std::string(name_of(kCommandNames, c.name)) + ") ran on " +
              node + " " + std::to_string(shared->command_handled[c.id]) + " times");
    }
  };
  // As exec would: the process ends and starts afresh at once (its journal is the machine's).
  ToolPathWorkload::Machine* restarted = &machine;
  config.restart = [shared, restarted] {
    ++shared->command_restarts;
    (void)shared->clock.after(milliseconds(0), [restarted] {
      if (restarted->process == nullptr || !restarted->process->running()) return;
      restarted->process->crash();
      restarted->process->start();
    });
  };
}

std::shared_ptr<void> start_command_client(Env& env, ClientShared shared) {
  return std::make_shared<CommandClient>(env, std::move(shared));
}

void check_commands(ToolPathWorkload::Impl& impl, Instant end) {
  std::map<std::string, CommandRecord> stored;
  auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    for (const auto& sent : impl.commands_sent) {
      if (sent.sent + kCommandSettle > end) continue;
      auto rows = tx.query("SELECT state, error FROM daemon_commands WHERE id = $1", {sent.id});
      if (!rows) return fail(rows.error());
      if (rows->rows.empty()) continue;  // pruned: it had ended long ago
      CommandRecord c;
      auto state = first_record(*rows).enumerated("state", kCommandStateNames);
      if (!state) return fail(state.error());
      c.state = *state;
      c.error = first_record(*rows).text("error");
      stored.emplace(sent.id, std::move(c));
    }
    return {};
  });
  if (!read) {
    impl.checker.violation(end, "command_once", "commands unreadable: " + read.error().message);
    return;
  }
  for (const auto& sent : impl.commands_sent) {
    const auto found = stored.find(sent.id);
    if (found == stored.end()) continue;
    const std::string what = "command " + sent.id + " (" + sent.name + " to " + sent.daemon_node +
                             ", sent at " + format_duration(sent.sent - kSimEpoch) + ")";
    if (!command_ended(found->second.state)) {
      impl.checker.violation(end, "command_once",
                             what + " is still " +
                                 std::string(name_of(kCommandStateNames, found->second.state)) +
                                 " at the end");
      continue;
    }
    if (sent.marker.empty()) continue;
    const auto ran = impl.command_runs.find(sent.marker);
    const int runs = ran == impl.command_runs.end() ? 0 : ran->second;
    if (runs > 1 || (found->second.state == CommandState::succeeded && runs == 0)) {
      impl.checker.violation(end, "command_once",
                             what + " ended " +
                                 std::string(name_of(kCommandStateNames, found->second.state)) +
                                 " having run " + std::to_string(runs) + " times");
    }
  }
}

std::string commands_summary(const ToolPathWorkload::Impl& impl) {
  if (impl.commands_sent.empty()) return "";
  std::size_t handled = 0;
  for (const auto& [id, runs] : impl.command_handled) handled += runs > 0 ? 1 : 0;
  return "commands: " + std::to_string(impl.commands_sent.size()) + " sent, " +
         std::to_string(handled) + " handled, " + std::to_string(impl.command_restarts) +
         " restarts\n";
}

}  // namespace reliant::sim
