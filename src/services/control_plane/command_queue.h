// CommandQueue: the Commands protocol as the api role serves it (seed 004). Users send commands
// to their managed daemons that have commands enabled, and read how they ended; a daemon, with
// the token its control plane started it with, takes its next command (a long poll: it waits
// for one a while) and reports how it ended. Durable: a command lives in the store
// (services/storage/daemon_commands.h) from the moment it is accepted, so neither an api nor a
// daemon crash loses it, and one handed out but never answered is handed out again — the
// daemon's journal keeps its effect to one.
#pragma once

#include <optional>
#include <string>

#include "runtime/env.h"
#include "runtime/ids.h"
#include "services/storage/daemon_commands.h"

namespace reliant::control_plane {

class CommandQueue {
 public:
  explicit CommandQueue(Env& env);

  // --- the user's side ----------------------------------------------------------------------
  // Queues `name` with `args_json` (an object; empty: {}) for the user's daemon `daemon` (an id
  // or a name). not_found: no such daemon of the user's; failed_precondition: not a managed
  // daemon, one without commands enabled, or one being deleted; invalid_argument: the command
  // (core/queued_command.h); resource_exhausted: too many wait already. Like a tool call, it
  // counts as activity, and a suspended daemon is wanted running again to take it.
  Task<Result<CommandRecord>> send(std::string user_id, std::string daemon, std::string name,
                                   std::string args_json);
  Task<Result<CommandRecord>> get(std::string user_id, std::string daemon, std::string command_id);
  Task<Result<std::vector<CommandRecord>>> list(std::string user_id, std::string daemon);

  // --- the daemon's side --------------------------------------------------------------------
  // The daemon the token is for: unauthenticated for anything but a daemon's current token.
  Task<Result<std::string>> authenticate(std::string token);
  // The daemon's next command, if one waits now; otherwise nullopt once one comes (the daemon
  // asks again at once and takes it) or after `wait` (at most kPollWaitMax).
  Task<Result<std::optional<CommandRecord>>> next(std::string daemon_id, Duration wait);
  // How the command ended; false when it had ended already (a repeated report). `result_json`
  // is JSON its caller made (the feed parsed what the daemon sent).
  Task<Result<bool>> report(std::string daemon_id, std::string command_id, bool succeeded,
                            std::string result_json, std::string error);

  static constexpr Duration kPollWaitMax = seconds(60);
  // A waiting poll looks again this often even without a wake-up: a lost bus message, or a
  // delivered command whose lease ran out, costs at most this much.
  static constexpr Duration kPollRecheck = seconds(2);

 private:
  Env& env_;
  IdGenerator ids_;
};

}  // namespace reliant::control_plane
