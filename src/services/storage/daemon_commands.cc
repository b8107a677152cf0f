// Daemon command rows. A claim rewrites a row only if it is still as it was read, so two polls
// at once (two api replicas, a daemon's old poll and its new one) never both take a command.
#include "services/storage/daemon_commands.h"

#include "base/assert.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kSelectCommand =
    "SELECT id, daemon_id, user_id, name, args_json, run_time_ms, state, deliveries, "
    "lease_until_ms, result_json, error, created_at_ms, completed_at_ms FROM daemon_commands ";

// The daemon's ($1) commands a poll may be handed at $2: queued, or delivered with the lease
// run out.
constexpr const char* kHandable =
    "WHERE daemon_id = $1 AND (state = 'queued' OR (state = 'delivered' AND lease_until_ms <= "
    "$2)) ";

Result<CommandRecord> command_from(const SqlRecord& r) {
  CommandRecord c;
  c.id = r.text("id");
  c.daemon_id = r.text("daemon_id");
  c.user_id = r.text("user_id");
  auto name = r.enumerated("name", kCommandNames);
  if (!name) return fail(name.error());
  c.name = *name;
  c.args_json = r.text("args_json");
  c.run_time_ms = r.integer("run_time_ms");
  auto state = r.enumerated("state", kCommandStateNames);
  if (!state) return fail(state.error());
  c.state = *state;
  c.deliveries = r.integer("deliveries");
  c.lease_until_ms = r.integer("lease_until_ms");
  c.result_json = r.text("result_json");
  c.error = r.text("error");
  c.created_at_ms = r.integer("created_at_ms");
  c.completed_at_ms = r.integer("completed_at_ms");
  return c;
}

Result<std::vector<CommandRecord>> command_rows(SqlTransaction& tx, const std::string& where,
                                                std::vector<SqlValue> params) {
  auto rows = tx.query(kSelectCommand + where, std::move(params));
  if (!rows) return fail(rows.error());
  std::vector<CommandRecord> out;
  for (const SqlRecord& r : records(*rows)) {
    auto command = command_from(r);
    if (!command) return fail(command.error());
    out.push_back(std::move(*command));
  }
  return out;
}

// Rewrites the command only while it is still in the state and delivery count read.
Result<bool> rewrite_if_unchanged(SqlTransaction& tx, const CommandRecord& was,
                                  const std::string& set, std::vector<SqlValue> params) {
  params.insert(params.begin(),
                {was.id, std::string(name_of(kCommandStateNames, was.state)), was.deliveries});
  auto updated = tx.execute(
      "UPDATE daemon_commands SET " + set + " WHERE id = $1 AND state = $2 AND deliveries = $3",
      params);
  if (!updated) return fail(updated.error());
  return *updated == 1;
}

}  // namespace

Result<void> insert_command(SqlTransaction& tx, const CommandRecord& c) {
  RELIANT_ASSERT(!c.id.empty() && !c.daemon_id.empty() && !c.user_id.empty());
  auto pending = tx.query(
      "SELECT COUNT(*) AS n FROM daemon_commands WHERE daemon_id = $1 AND state IN ('queued', "
      "'delivered')",
      {c.daemon_id});
  if (!pending) return fail(pending.error());
  if (first_record(*pending).integer("n") >=
      static_cast<std::int64_t>(kCommandsPendingPerDaemonMax)) {
    return fail(ErrorCode::resource_exhausted,
                std::to_string(kCommandsPendingPerDaemonMax) +
                    " commands wait for this daemon already: let it catch up first");
  }
  auto inserted = tx.execute(
      "INSERT INTO daemon_commands (id, daemon_id, user_id, name, args_json, run_time_ms, state, "
      "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7)",
      {c.id, c.daemon_id, c.user_id, std::string(name_of(kCommandNames, c.name)), c.args_json,
       c.run_time_ms, c.created_at_ms});
  if (!inserted) return fail(inserted.error());
  // Ended commands are history: the newest are kept for the user to read.
  auto pruned = tx.execute(
      "DELETE FROM daemon_commands WHERE daemon_id = $1 AND state IN ('succeeded', 'failed') "
      "AND id NOT IN (SELECT id FROM daemon_commands WHERE daemon_id = $1 AND state IN "
      "('succeeded', 'failed') ORDER BY id DESC LIMIT " +
          std::to_string(kCommandsKeptPerDaemonMax) + ")",
      {c.daemon_id});
  if (!pruned) return fail(pruned.error());
  return {};
}

Result<CommandRecord> owned_command(SqlTransaction& tx, const std::string& user_id,
                                    const std::string& daemon_id, const std::string& command_id) {
  auto rows = command_rows(tx, "WHERE id = $1 AND daemon_id = $2 AND user_id = $3",
                           {command_id, daemon_id, user_id});
  if (!rows) return fail(rows.error());
  if (rows->empty()) return fail(ErrorCode::not_found, "no command " + command_id);
  return std::move(rows->front());
}

Result<std::vector<CommandRecord>> list_commands(SqlTransaction& tx, const std::string& daemon_id,
                                                 std::size_t limit) {
  RELIANT_ASSERT(limit > 0);
  return command_rows(tx, "WHERE daemon_id = $1 ORDER BY id DESC LIMIT " + std::to_string(limit),
                      {daemon_id});
}

Result<std::optional<CommandRecord>> claim_command(SqlTransaction& tx, const std::string& daemon_id,
                                                   std::int64_t now_ms) {
  // Ids are ULIDs: their order is the order commands were sent in. A few candidates at a time;
  // the ones that fail for want of an answer make room for the next.
  for (std::size_t rounds = 0; rounds < kCommandsPendingPerDaemonMax; ++rounds) {
    auto candidates =
        command_rows(tx, std::string(kHandable) + "ORDER BY id LIMIT 8", {daemon_id, now_ms});
    if (!candidates) return fail(candidates.error());
    if (candidates->empty()) return std::optional<CommandRecord>();
    for (CommandRecord& c : *candidates) {
      if (c.deliveries >= kCommandDeliveriesMax) {
        const std::string why = "the daemon was handed it " +
                                std::to_string(kCommandDeliveriesMax) + " times and never answered";
        auto failed = rewrite_if_unchanged(
            tx, c, "state = 'failed', error = $4, completed_at_ms = $5", {why, now_ms});
        if (!failed) return fail(failed.error());
        continue;
      }
      const std::int64_t lease_until =
          now_ms + c.run_time_ms +
          std::chrono::duration_cast<milliseconds>(kCommandAnswerGrace).count();
      auto taken = rewrite_if_unchanged(
          tx, c, "state = 'delivered', deliveries = deliveries + 1, lease_until_ms = $4",
          {lease_until});
      if (!taken) return fail(taken.error());
      if (!*taken) continue;  // another poll took it
      c.state = CommandState::delivered;
      c.deliveries += 1;
      c.lease_until_ms = lease_until;
      return std::optional<CommandRecord>(std::move(c));
    }
  }
  return std::optional<CommandRecord>();
}

Result<bool> command_waiting(SqlTransaction& tx, const std::string& daemon_id,
                             std::int64_t now_ms) {
  auto rows = tx.query(std::string("SELECT 1 FROM daemon_commands ") + kHandable + "LIMIT 1",
                       {daemon_id, now_ms});
  if (!rows) return fail(rows.error());
  return !rows->rows.empty();
}

Result<bool> complete_command(SqlTransaction& tx, const std::string& daemon_id,
                              const std::string& command_id, bool succeeded,
                              const std::string& result_json, const std::string& error,
                              std::int64_t now_ms) {
  auto rows = command_rows(tx, "WHERE id = $1 AND daemon_id = $2", {command_id, daemon_id});
  if (!rows) return fail(rows.error());
  if (rows->empty()) return fail(ErrorCode::not_found, "no command " + command_id);
  const CommandRecord& c = rows->front();
  if (command_ended(c.state)) return false;
  // A report for a command whose lease ran out still counts: the daemon ran it.
  auto ended = rewrite_if_unchanged(
      tx, c, "state = $4, result_json = $5, error = $6, completed_at_ms = $7",
      {std::string(succeeded ? "succeeded" : "failed"), succeeded ? result_json : std::string(),
       succeeded ? std::string() : error, now_ms});
  if (!ended) return fail(ended.error());
  return *ended;
}

Result<void> set_commands_token_hash(SqlTransaction& tx, const std::string& daemon_id,
                                     const std::string& hash) {
  auto updated = tx.execute("UPDATE managed_daemons SET commands_token_hash = $2 WHERE id = $1",
                            {daemon_id, hash});
  if (!updated) return fail(updated.error());
  if (*updated == 0) return fail(ErrorCode::not_found, "no managed daemon " + daemon_id);
  return {};
}

Result<std::optional<std::string>> commands_token_hash(SqlTransaction& tx,
                                                       const std::string& daemon_id) {
  auto rows =
      tx.query("SELECT commands_token_hash FROM managed_daemons WHERE id = $1", {daemon_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<std::string>();
  std::string hash = first_record(*rows).text("commands_token_hash");
  if (hash.empty()) return std::optional<std::string>();
  return std::optional<std::string>(std::move(hash));
}

}  // namespace reliant
