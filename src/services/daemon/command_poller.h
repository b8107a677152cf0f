// CommandPoller: a managed daemon's side of the Commands protocol (seed 004). It takes its next
// command from its CommandSource (a long poll), dispatches it to the handler registered for the
// command's name, and reports how it ended — one command at a time, in the order they were sent.
// A command's effect happens once even when it is
// handed out twice (its lease ran out, a report was lost, the daemon restarted): the daemon's
// RequestJournal records each command before its handler starts, a redelivery of one that ran
// in this process is answered with the outcome it had, and one an earlier run of the process
// started is not run again — `restart`'s is reported done, the rest as lost.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/backoff.h"
#include "core/queued_command.h"
#include "runtime/env.h"
#include "runtime/scope.h"
#include "services/daemon/tool_runner.h"

namespace reliant::daemon {

struct PolledCommand {
  std::string id;
  CommandName name = CommandName::reload;
  nlohmann::json args = nlohmann::json::object();
  std::int64_t deliveries = 1;  // 2 and more: handed out before
  std::string daemon_id;        // whose queue it came from
  std::string user_id;          // who sent it: the daemon's user
  // How long its handler may take, as the queue worked it out (run_tool: the tool's timeout).
  Duration run_time_max = kCommandToolTimeoutDefault;
};

struct CommandOutcome {
  bool ok = true;
  nlohmann::json result;  // ok
  std::string error;      // not ok
  // Runs once the outcome was reported (or reporting gave up): `restart` replaces the process
  // only after its manager heard it happened.
  std::function<void()> after_report;
};

// Where commands come from: the api's command feed over HTTP for the real binary
// (HttpCommandSource), the queue itself through a faulty link in the simulator.
class CommandSource {
 public:
  virtual ~CommandSource() = default;
  // The next command, waiting up to `wait` for one: nullopt when none came. unauthenticated:
  // the token was refused (a newer start of this daemon holds the current one).
  virtual Task<Result<std::optional<PolledCommand>>> next(Duration wait) = 0;
  virtual Task<Result<void>> report(std::string command_id, CommandOutcome outcome) = 0;
};

using CommandHandler = std::function<Task<CommandOutcome>(PolledCommand)>;

struct CommandPollerConfig {
  Duration poll_wait = seconds(25);
  BackoffPolicy retry{milliseconds(500), seconds(30), 2.0, 0.5};
  std::int64_t report_attempts_max = 5;  // then the command's lease runs out and it comes again
  std::size_t outcomes_remembered = 1024;
};

// Notified of each handler run (tests and the simulator's command_once checker).
using CommandRan = std::function<void(const PolledCommand&)>;

class CommandPoller {
 public:
  CommandPoller(Env& env, CommandSource& source, RequestJournal& journal,
                std::map<CommandName, CommandHandler> handlers, CommandPollerConfig config = {},
                CommandRan ran = {});
  CommandPoller(const CommandPoller&) = delete;
  CommandPoller& operator=(const CommandPoller&) = delete;

  std::uint64_t handled() const { return handled_; }

  // The journal's key for a command (apart from tool requests' ids).
  static std::string journal_key(const std::string& command_id) { return "command:" + command_id; }

 private:
  Task<void> loop();
  Task<void> dispatch(PolledCommand command);
  Task<void> deliver(std::string command_id, CommandOutcome outcome);
  void remember(const std::string& command_id, const CommandOutcome& outcome);

  Env& env_;
  CommandSource& source_;
  RequestJournal& journal_;
  std::map<CommandName, CommandHandler> handlers_;
  CommandPollerConfig config_;
  CommandRan ran_;
  Backoff backoff_;
  std::uint64_t handled_ = 0;
  std::deque<std::string> remembered_order_;
  std::map<std::string, CommandOutcome> outcomes_;  // reported again on a redelivery
  Scope scope_;                                     // last: destroyed first
};

}  // namespace reliant::daemon
