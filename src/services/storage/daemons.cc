// Daemon rows: registration on connect and conditional status writes.
#include "services/storage/daemons.h"

#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/chats.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

// `suspended`: the control plane stopped it (looked up only for a row without a stream); its own
// row knows only that it has no stream (shown_status, docs/architecture.md §1).
constexpr const char* kDaemonColumns =
    "id, user_id, name, type, labels_json, hostname, platform, working_dir, version, status, "
    "CASE WHEN status = 'disconnected' AND EXISTS (SELECT 1 FROM managed_daemons m "
    "WHERE m.id = daemons.id AND m.observed_state = 'suspended') THEN 1 ELSE 0 END AS suspended, "
    "last_heartbeat_at_ms, last_activity_at_ms, gateway_id, connected_at_ms, connection_id, "
    "session_id, created_at_ms";

std::map<std::string, std::string> labels_from(const std::string& text) {
  std::map<std::string, std::string> labels;
  const auto json = parse_json_or_discarded(text, kStoredJsonDepthMax);
  if (!json.is_object()) return labels;
  for (const auto& [key, value] : json.items()) {
    if (value.is_string()) labels[key] = value.get<std::string>();
  }
  return labels;
}

Result<DaemonRecord> daemon_from(const SqlRecord& r) {
  DaemonRecord d;
  d.id = r.text("id");
  d.user_id = r.text("user_id");
  d.name = r.text("name");
  auto type = r.enumerated("type", kDaemonTypeNames);
  if (!type) return fail(type.error());
  d.type = *type;
  d.labels = labels_from(r.text("labels_json"));
  d.hostname = r.text("hostname");
  d.platform = r.text("platform");
  d.working_dir = r.text("working_dir");
  d.version = r.text("version");
  auto status = r.enumerated("status", kDaemonStatusNames);
  if (!status) return fail(status.error());
  d.status = shown_status(*status, r.integer("suspended") != 0);
  d.last_heartbeat_at_ms = r.optional_integer("last_heartbeat_at_ms");
  d.last_activity_at_ms = r.optional_integer("last_activity_at_ms");
  d.gateway_id = r.text_or_empty("gateway_id");
  d.connected_at_ms = r.optional_integer("connected_at_ms");
  d.connection_id = r.text_or_empty("connection_id");
  d.session_id = r.text_or_empty("session_id");
  d.created_at_ms = r.integer("created_at_ms");
  return d;
}

}  // namespace

Result<std::optional<DaemonRecord>> find_daemon(SqlTransaction& tx, const std::string& id) {
  auto rows =
      tx.query(std::string("SELECT ") + kDaemonColumns + " FROM daemons WHERE id = $1", {id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<DaemonRecord>();
  auto daemon = daemon_from(first_record(*rows));
  if (!daemon) return fail(daemon.error());
  return std::optional<DaemonRecord>(std::move(*daemon));
}

namespace {

Result<std::vector<DaemonRecord>> daemons_from(const SqlRows& rows) {
  std::vector<DaemonRecord> out;
  for (const SqlRecord& r : records(rows)) {
    auto daemon = daemon_from(r);
    if (!daemon) return fail(daemon.error());
    out.push_back(std::move(*daemon));
  }
  return out;
}

}  // namespace

Result<std::vector<DaemonRecord>> list_daemons(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query(std::string("SELECT ") + kDaemonColumns +
                           " FROM daemons WHERE user_id = $1 ORDER BY created_at_ms, id",
                       {user_id});
  if (!rows) return fail(rows.error());
  return daemons_from(*rows);
}

Result<ChatDaemons> list_daemons_for_chat(SqlTransaction& tx, const std::string& user_id,
                                          const std::string& chat_id) {
  const SqlStatement statement = daemons_for_chat_statement(user_id, chat_id);
  auto rows = tx.query(statement.sql, statement.params);
  if (!rows) return fail(rows.error());
  return chat_daemons_from(tx, chat_id, *rows);
}

SqlStatement daemons_for_chat_statement(const std::string& user_id, const std::string& chat_id) {
  static const std::string sql =
      std::string("SELECT ") + kDaemonColumns +
      ", (SELECT active_daemon_id FROM chats WHERE id = $2) AS chat_daemon_id "
      "FROM daemons WHERE user_id = $1 ORDER BY created_at_ms, id";
  return {sql, {user_id, chat_id}};
}

Result<ChatDaemons> chat_daemons_from(SqlTransaction& tx, const std::string& chat_id,
                                      const SqlRows& rows) {
  ChatDaemons read;
  if (rows.rows.empty()) {
    // No daemon row to carry the chat's column: the chat read on its own, rarely.
    auto chat = find_chat(tx, chat_id);
    if (!chat) return fail(chat.error());
    if (*chat) read.chat_daemon_id = (*chat)->active_daemon_id;
    return read;
  }
  read.chat_daemon_id = first_record(rows).text_or_empty("chat_daemon_id");
  auto daemons = daemons_from(rows);
  if (!daemons) return fail(daemons.error());
  read.daemons = std::move(*daemons);
  return read;
}

Result<std::vector<DaemonCandidate>> list_connected_candidates(SqlTransaction& tx,
                                                               const std::string& user_id,
                                                               std::size_t limit) {
  // The order of core/daemon_selection's `preferred` among connected daemons. A connected row
  // is never shown as suspended (shown_status), so the managed_daemons lookup is not needed.
  auto rows = tx.query(
      "SELECT id, name, type, status, connected_at_ms, created_at_ms FROM daemons "
      "WHERE user_id = $1 AND status IN ('active', 'idle') "
      "ORDER BY CASE WHEN type = 'local' THEN 0 ELSE 1 END, COALESCE(connected_at_ms, 0) DESC, "
      "id LIMIT " +
          std::to_string(limit),
      {user_id});
  if (!rows) return fail(rows.error());
  std::vector<DaemonCandidate> out;
  out.reserve(rows->rows.size());
  for (const SqlRecord& r : records(*rows)) {
    DaemonCandidate& c = out.emplace_back();
    c.id = r.text("id");
    c.user_id = user_id;
    c.name = r.text("name");
    auto type = r.enumerated("type", kDaemonTypeNames);
    if (!type) return fail(type.error());
    c.type = *type;
    auto status = r.enumerated("status", kDaemonStatusNames);
    if (!status) return fail(status.error());
    c.status = *status;
    c.connected_at_ms = r.optional_integer("connected_at_ms").value_or(0);
    c.created_at_ms = r.integer("created_at_ms");
  }
  return out;
}

Result<void> record_daemon_connected(SqlTransaction& tx, const DaemonRecord& d) {
  const std::string labels = nlohmann::json(d.labels).dump();
  const auto seq = static_cast<std::int64_t>(d.registration_seq);
  RELIANT_ASSERT(seq >= 0);
  // Compare-and-set on the daemon's own order: only a later registration (or one that does not
  // count) takes the row over. A counted one keeps the highest number seen.
  auto updated = tx.execute(
      "UPDATE daemons SET name = $3, type = $4, labels_json = $5, hostname = $6, platform = $7, "
      "working_dir = $8, version = $9, status = 'active', last_heartbeat_at_ms = $10, "
      "gateway_id = $11, connected_at_ms = $10, connection_id = $12, session_id = $13, "
      "lease_until_ms = $14, "
      "registration_seq = CASE WHEN CAST($15 AS BIGINT) = 0 THEN registration_seq "
      "ELSE CAST($15 AS BIGINT) END "
      "WHERE id = $1 AND user_id = $2 AND "
      "(CAST($15 AS BIGINT) = 0 OR registration_seq < CAST($15 AS BIGINT))",
      {d.id, d.user_id, d.name, std::string(to_string(d.type)), labels, d.hostname, d.platform,
       d.working_dir, d.version, d.connected_at_ms.value_or(0), d.gateway_id, d.connection_id,
       d.session_id, d.lease_until_ms, seq});
  if (!updated) return fail(updated.error());
  if (*updated == 1) return {};
  auto owner = tx.query("SELECT user_id, registration_seq FROM daemons WHERE id = $1", {d.id});
  if (!owner) return fail(owner.error());
  if (!owner->rows.empty()) {
    const SqlRecord row = first_record(*owner);
    if (row.text("user_id") != d.user_id) {
      return fail(ErrorCode::permission_denied, "daemon " + d.id + " belongs to another user");
    }
    return fail(ErrorCode::failed_precondition,
                "registration " + std::to_string(seq) + " of daemon " + d.id +
                    " is stale: registration " + std::to_string(row.integer("registration_seq")) +
                    " was admitted already");
  }
  auto inserted = tx.execute(
      "INSERT INTO daemons (id, user_id, name, type, labels_json, hostname, platform, "
      "working_dir, version, status, last_heartbeat_at_ms, gateway_id, connected_at_ms, "
      "connection_id, session_id, created_at_ms, lease_until_ms, registration_seq) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $10, $12, $13, $10, $14, "
      "$15)",
      {d.id, d.user_id, d.name, std::string(to_string(d.type)), labels, d.hostname, d.platform,
       d.working_dir, d.version, d.connected_at_ms.value_or(0), d.gateway_id, d.connection_id,
       d.session_id, d.lease_until_ms, seq});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<bool> record_daemon_status(SqlTransaction& tx, const std::string& daemon_id,
                                  const std::string& connection_id, DaemonStatus status,
                                  std::int64_t now_ms) {
  std::string sql = "UPDATE daemons SET status = $3";
  if (status == DaemonStatus::active) sql += ", last_heartbeat_at_ms = $4";
  sql += " WHERE id = $1 AND connection_id = $2";
  std::vector<SqlValue> params{daemon_id, connection_id, std::string(to_string(status))};
  if (status == DaemonStatus::active) params.emplace_back(now_ms);
  auto updated = tx.execute(sql, params);
  if (!updated) return fail(updated.error());
  return *updated == 1;
}

Result<std::vector<bool>> renew_daemon_leases(SqlTransaction& tx,
                                              const std::vector<LeaseRenewal>& renewals) {
  // Each lease is renewed and its row read back (all sent together); a status is written only
  // where it differs, which is rare (a sweep wrote 'disconnected' while the store was
  // unreachable). SQLite rewrites the row's entries in daemons_user and daemons_connected and
  // evaluates the status's CHECK (an ephemeral table for its IN list) whenever an UPDATE sets
  // the column, even to the value it holds, and it buffers a RETURNING clause's rows in an
  // ephemeral table too: those were two thirds of a renewal's work there. Activity only moves
  // forward: two gateways' clocks may disagree by a little.
  static constexpr std::string_view kRenew =
      "UPDATE daemons SET lease_until_ms = $3, last_activity_at_ms = CASE WHEN "
      "last_activity_at_ms IS NULL OR last_activity_at_ms < CAST($4 AS BIGINT) THEN "
      "NULLIF(CAST($4 AS BIGINT), 0) ELSE last_activity_at_ms END "
      "WHERE id = $1 AND connection_id = $2";
  static constexpr std::string_view kReadBack =
      "SELECT status FROM daemons WHERE id = $1 AND connection_id = $2";
  std::vector<SqlStatement> statements;
  statements.reserve(renewals.size() * 2);
  for (const LeaseRenewal& r : renewals) {
    statements.push_back(
        {kRenew, {r.daemon_id, r.connection_id, r.lease_until_ms, r.last_activity_at_ms}});
    statements.push_back({kReadBack, {r.daemon_id, r.connection_id}});
  }
  auto renewed = tx.query_together(statements);
  if (!renewed) return fail(renewed.error());
  RELIANT_ASSERT(renewed->size() == statements.size());
  std::vector<bool> owned(renewals.size(), false);
  std::vector<SqlStatement> restores;
  for (std::size_t i = 0; i < renewals.size(); ++i) {
    const SqlRows& read = (*renewed)[2 * i + 1];
    if (read.rows.empty()) continue;  // the daemon's connection is another one now
    owned[i] = true;
    const std::string_view wanted = to_string(renewals[i].status);
    if (first_record(read).text("status") == wanted) continue;
    restores.push_back({"UPDATE daemons SET status = $3 WHERE id = $1 AND connection_id = $2",
                        {renewals[i].daemon_id, renewals[i].connection_id, std::string(wanted)}});
  }
  if (!restores.empty()) {
    auto restored = tx.query_together(restores);
    if (!restored) return fail(restored.error());
  }
  return owned;
}

Result<std::vector<DaemonLease>> leased_daemons(SqlTransaction& tx, const std::string& gateway_id,
                                                std::int64_t now_ms) {
  // Another gateway's lease is compared with nothing here: its clock is not ours.
  auto rows = tx.query(
      "SELECT id, user_id, connection_id, lease_until_ms FROM daemons "
      "WHERE status <> 'disconnected' AND lease_until_ms IS NOT NULL AND connection_id IS NOT NULL "
      "AND lease_until_ms < $3 AND (gateway_id IS NULL OR gateway_id <> $1 OR lease_until_ms < $2) "
      "ORDER BY id",
      {gateway_id, now_ms, kLeaseWithoutEnd});
  if (!rows) return fail(rows.error());
  std::vector<DaemonLease> out;
  out.reserve(rows->rows.size());
  for (const SqlRecord& r : records(*rows)) {
    out.push_back(DaemonLease{r.text("id"), r.text("user_id"), r.text("connection_id"),
                              r.integer("lease_until_ms")});
  }
  return out;
}

Result<bool> expire_daemon_lease(SqlTransaction& tx, const DaemonLease& lease) {
  auto updated = tx.execute(
      "UPDATE daemons SET status = 'disconnected' WHERE id = $1 AND connection_id = $2 AND "
      "lease_until_ms = $3 AND status <> 'disconnected'",
      {lease.id, lease.connection_id, lease.lease_until_ms});
  if (!updated) return fail(updated.error());
  return *updated == 1;
}

Result<bool> release_daemon_connection(SqlTransaction& tx, const std::string& daemon_id,
                                       const std::string& connection_id) {
  auto updated = tx.execute(
      "UPDATE daemons SET status = 'disconnected' WHERE id = $1 AND connection_id = $2 AND "
      "status <> 'disconnected'",
      {daemon_id, connection_id});
  if (!updated) return fail(updated.error());
  return *updated == 1;
}

Result<std::int64_t> release_daemons_of_gateway(SqlTransaction& tx, const std::string& gateway_id) {
  return tx.execute(
      "UPDATE daemons SET status = 'disconnected' WHERE gateway_id = $1 AND status <> "
      "'disconnected'",
      {gateway_id});
}

}  // namespace reliant
