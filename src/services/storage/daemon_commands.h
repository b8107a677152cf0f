// The Commands protocol's durable queue: commands users send to their managed daemons, each
// handed to its daemon (again once its lease runs out, at most kCommandDeliveriesMax times)
// until the daemon reports how it ended. Also the token hash a daemon polls with. Functions run
// inside a Store transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/queued_command.h"
#include "runtime/store.h"

namespace reliant {

struct CommandRecord {
  std::string id;
  std::string daemon_id;
  std::string user_id;
  CommandName name = CommandName::reload;
  std::string args_json = "{}";
  std::int64_t run_time_ms = 0;  // how long its handler may take
  CommandState state = CommandState::queued;
  std::int64_t deliveries = 0;
  std::int64_t lease_until_ms = 0;
  std::string result_json;
  std::string error;
  std::int64_t created_at_ms = 0;
  std::int64_t completed_at_ms = 0;
};

// Queues a command (state queued) and forgets the daemon's oldest ended ones beyond
// kCommandsKeptPerDaemonMax. resource_exhausted when kCommandsPendingPerDaemonMax are pending.
Result<void> insert_command(SqlTransaction& tx, const CommandRecord& command);
// The user's command of that daemon; not_found otherwise (another user's: the same answer).
Result<CommandRecord> owned_command(SqlTransaction& tx, const std::string& user_id,
                                    const std::string& daemon_id, const std::string& command_id);
// The daemon's commands, newest first, at most `limit`.
Result<std::vector<CommandRecord>> list_commands(SqlTransaction& tx, const std::string& daemon_id,
                                                 std::size_t limit);

// --- the daemon's side ----------------------------------------------------------------------

// Hands the daemon its oldest command that is queued, or delivered with its lease run out: it
// becomes delivered until now + its run time + kCommandAnswerGrace. One handed out
// kCommandDeliveriesMax times already fails instead ("never answered"), and the next is looked
// at. nullopt: nothing to do.
Result<std::optional<CommandRecord>> claim_command(SqlTransaction& tx, const std::string& daemon_id,
                                                   std::int64_t now_ms);
// Whether claim_command would hand the daemon a command now (nothing is changed).
Result<bool> command_waiting(SqlTransaction& tx, const std::string& daemon_id, std::int64_t now_ms);
// The daemon's report: the command ends succeeded (with `result_json`) or failed (with
// `error`). Only a delivered command ends: returns false for one that had ended (a repeated
// report), and not_found for another daemon's or an unknown one.
Result<bool> complete_command(SqlTransaction& tx, const std::string& daemon_id,
                              const std::string& command_id, bool succeeded,
                              const std::string& result_json, const std::string& error,
                              std::int64_t now_ms);

// The token's hash a commands-enabled daemon polls with (empty: none).
Result<void> set_commands_token_hash(SqlTransaction& tx, const std::string& daemon_id,
                                     const std::string& hash);
// nullopt: no managed daemon with that id, or it has no token.
Result<std::optional<std::string>> commands_token_hash(SqlTransaction& tx,
                                                       const std::string& daemon_id);

}  // namespace reliant
