// The command loop: poll, check the journal, run the handler, report (retrying), then the
// handler's after-report step.
#include "services/daemon/command_poller.h"

#include "runtime/sleep.h"

namespace reliant::daemon {

CommandPoller::CommandPoller(Env& env, CommandSource& source, RequestJournal& journal,
                             std::map<CommandName, CommandHandler> handlers,
                             CommandPollerConfig config, CommandRan ran)
    : env_(env),
      source_(source),
      journal_(journal),
      handlers_(std::move(handlers)),
      config_(std::move(config)),
      ran_(std::move(ran)),
      backoff_(config_.retry),
      scope_(env.executor) {
  RELIANT_ASSERT(config_.report_attempts_max > 0 && config_.outcomes_remembered > 0);
  scope_.spawn(loop());
}

Task<void> CommandPoller::loop() {
  for (;;) {
    Task<Result<std::optional<PolledCommand>>> polling = source_.next(config_.poll_wait);
    Result<std::optional<PolledCommand>> next = co_await polling;
    if (!next) {
      log_line(env_, LogLevel::warn,
               [&] { return "commands: cannot poll for commands: " + next.error().message; });
      Sleep pausing = sleep(env_.executor, backoff_.next(env_.random));
      co_await pausing;
      continue;
    }
    backoff_.reset();
    if (!*next) continue;
    Task<void> dispatching = dispatch(std::move(**next));
    co_await dispatching;
  }
}

Task<void> CommandPoller::dispatch(PolledCommand command) {
  const std::string key = journal_key(command.id);
  if (journal_.contains(key)) {
    // Handed out again. Its outcome, if this process ran it; otherwise an earlier run of the
    // process started it and stopped before its report arrived: never run twice.
    CommandOutcome again;
    if (const auto known = outcomes_.find(command.id); known != outcomes_.end()) {
      again = known->second;
      again.after_report = nullptr;
    } else if (command.name == CommandName::restart) {
      again.result = {{"restarted", true}};  // the restart it asked for is why the process is new
    } else {
      again.ok = false;
      again.error =
          "lost: an earlier run of this daemon started this command and stopped before "
          "reporting; it may or may not have taken effect, and is not run again";
    }
    Task<void> reporting = deliver(command.id, std::move(again));
    co_await reporting;
    co_return;
  }
  const auto handler = handlers_.find(command.name);
  CommandOutcome outcome;
  journal_.add(key);  // before any effect
  if (handler == handlers_.end()) {
    outcome.ok = false;
    outcome.error =
        "this daemon has no handler for " + std::string(name_of(kCommandNames, command.name));
  } else {
    ++handled_;
    if (ran_) ran_(command);
    Task<CommandOutcome> handling = handler->second(command);
    outcome = co_await handling;
  }
  remember(command.id, outcome);
  Task<void> reporting = deliver(command.id, std::move(outcome));
  co_await reporting;
}

Task<void> CommandPoller::deliver(std::string command_id, CommandOutcome outcome) {
  std::function<void()> after = std::move(outcome.after_report);
  outcome.after_report = nullptr;
  Backoff retry(config_.retry);
  for (std::int64_t attempt = 1; attempt <= config_.report_attempts_max; ++attempt) {
    Task<Result<void>> reporting = source_.report(command_id, outcome);
    Result<void> reported = co_await reporting;
    if (reported) break;
    log_line(env_, LogLevel::warn, [&] {
      return "commands: cannot report command " + command_id + ": " + reported.error().message;
    });
    // A refusal other than a lost connection will not change with retrying.
    if (reported.error().code != ErrorCode::unavailable &&
        reported.error().code != ErrorCode::timeout) {
      break;
    }
    if (attempt == config_.report_attempts_max) break;  // it comes again; the memory answers
    Sleep pausing = sleep(env_.executor, retry.next(env_.random));
    co_await pausing;
  }
  if (after) after();
}

void CommandPoller::remember(const std::string& command_id, const CommandOutcome& outcome) {
  CommandOutcome kept = outcome;
  kept.after_report = nullptr;
  if (!outcomes_.emplace(command_id, std::move(kept)).second) return;
  remembered_order_.push_back(command_id);
  if (remembered_order_.size() > config_.outcomes_remembered) {
    outcomes_.erase(remembered_order_.front());
    remembered_order_.pop_front();
  }
}

}  // namespace reliant::daemon
