// Managed daemon rows: the user's wishes, and the control plane's leased observations.
#include "services/storage/managed_daemons.h"

#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

// The managed row with what its daemons row says of the connection and of activity.
constexpr const char* kSelectManaged =
    "SELECT m.id, m.user_id, m.spec_json, m.desired_state, m.observed_state, m.address, "
    "m.restarts, m.next_attempt_at_ms, m.last_error, m.active_at_ms, m.lease_owner, "
    "m.lease_until_ms, m.created_at_ms, m.updated_at_ms, d.status, d.last_activity_at_ms, "
    "d.connected_at_ms, "
    "(SELECT MAX(t.created_at_ms + t.timeout_ms) FROM tool_requests t WHERE t.user_id = m.user_id "
    "AND t.daemon_id = m.id AND t.status <> 'completed') AS requests_wait_until_ms "
    "FROM managed_daemons m JOIN daemons d ON d.id = m.id ";

Result<ManagedDaemonRecord> managed_from(const SqlRecord& r) {
  ManagedDaemonRecord m;
  m.id = r.text("id");
  m.user_id = r.text("user_id");
  auto spec =
      parse_managed_daemon_spec(parse_json_or_discarded(r.text("spec_json"), kStoredJsonDepthMax));
  if (!spec) {
    return fail(ErrorCode::internal,
                "managed daemon " + m.id +
                    " has a stored spec that does not parse: " + spec.error().message);
  }
  m.spec = std::move(*spec);
  auto desired = r.enumerated("desired_state", kDesiredStateNames);
  if (!desired) return fail(desired.error());
  m.desired = *desired;
  auto observed = r.enumerated("observed_state", kObservedStateNames);
  if (!observed) return fail(observed.error());
  m.observed = *observed;
  m.address = r.text("address");
  m.restarts = r.integer("restarts");
  m.next_attempt_at_ms = r.integer("next_attempt_at_ms");
  m.last_error = r.text("last_error");
  // Not idle before it has been reachable for a while: a (re)connection counts as activity.
  m.active_at_ms =
      std::max({r.integer("active_at_ms"), r.optional_integer("last_activity_at_ms").value_or(0),
                r.optional_integer("connected_at_ms").value_or(0)});
  m.requests_wait_until_ms = r.optional_integer("requests_wait_until_ms").value_or(0);
  auto status = r.enumerated("status", kDaemonStatusNames);
  if (!status) return fail(status.error());
  m.status = shown_status(*status, m.observed == ObservedState::suspended);
  m.lease_owner = r.text_or_empty("lease_owner");
  m.lease_until_ms = r.integer("lease_until_ms");
  m.created_at_ms = r.integer("created_at_ms");
  m.updated_at_ms = r.integer("updated_at_ms");
  return m;
}

Result<std::vector<ManagedDaemonRecord>> managed_rows(SqlTransaction& tx, const std::string& where,
                                                      std::vector<SqlValue> params) {
  auto rows = tx.query(kSelectManaged + where, std::move(params));
  if (!rows) return fail(rows.error());
  std::vector<ManagedDaemonRecord> out;
  for (const SqlRecord& r : records(*rows)) {
    auto managed = managed_from(r);
    if (!managed) return fail(managed.error());
    out.push_back(std::move(*managed));
  }
  return out;
}

Result<ManagedDaemonRecord> reread(SqlTransaction& tx, const std::string& id) {
  auto row = find_managed_daemon(tx, id);
  if (!row) return fail(row.error());
  if (!*row) return fail(ErrorCode::not_found, "no managed daemon " + id);
  return std::move(**row);
}

}  // namespace

Result<void> insert_managed_daemon(SqlTransaction& tx, const ManagedDaemonRecord& m) {
  RELIANT_ASSERT(!m.id.empty() && !m.user_id.empty() && !m.spec.name.empty());
  auto taken =
      tx.query("SELECT id FROM daemons WHERE user_id = $1 AND name = $2", {m.user_id, m.spec.name});
  if (!taken) return fail(taken.error());
  if (!taken->rows.empty()) {
    return fail(ErrorCode::already_exists, "you have a daemon named \"" + m.spec.name +
                                               "\" already (" + first_record(*taken).text("id") +
                                               "): names pick daemons, so each is one's");
  }
  auto daemon = tx.execute(
      "INSERT INTO daemons (id, user_id, name, type, labels_json, status, created_at_ms) "
      "VALUES ($1, $2, $3, 'cloud', $4, 'disconnected', $5)",
      {m.id, m.user_id, m.spec.name, nlohmann::json(m.spec.labels).dump(), m.created_at_ms});
  if (!daemon) return fail(daemon.error());
  auto managed = tx.execute(
      "INSERT INTO managed_daemons (id, user_id, name, platform, spec_json, desired_state, "
      "observed_state, active_at_ms, created_at_ms, updated_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, 'running', 'pending', $6, $6, $6)",
      {m.id, m.user_id, m.spec.name, std::string(name_of(kDaemonPlatformNames, m.spec.platform)),
       to_json(m.spec).dump(), m.created_at_ms});
  if (!managed) return fail(managed.error());
  return {};
}

Result<std::int64_t> count_live_managed_daemons(SqlTransaction& tx, SqlDialect dialect,
                                                const std::string& user_id) {
  if (dialect == SqlDialect::postgres) {
    auto locked = tx.query("SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", {user_id});
    if (!locked) return fail(locked.error());
  }
  auto rows = tx.query(
      "SELECT COUNT(*) AS live FROM managed_daemons WHERE user_id = $1 AND desired_state <> "
      "'deleted'",
      {user_id});
  if (!rows) return fail(rows.error());
  return first_record(*rows).integer("live");
}

Result<void> insert_managed_daemon_within_limit(SqlTransaction& tx, SqlDialect dialect,
                                                const ManagedDaemonRecord& daemon,
                                                std::int64_t per_user_max) {
  if (per_user_max > 0) {
    auto live = count_live_managed_daemons(tx, dialect, daemon.user_id);
    if (!live) return fail(live.error());
    if (*live >= per_user_max) {
      return fail(ErrorCode::failed_precondition,
                  "you are at this server's limit of managed daemons for one user (" +
                      std::to_string(per_user_max) + "): delete one first");
    }
  }
  return insert_managed_daemon(tx, daemon);
}

Result<std::optional<ManagedDaemonRecord>> find_managed_daemon(SqlTransaction& tx,
                                                               const std::string& id) {
  auto rows = managed_rows(tx, "WHERE m.id = $1", {id});
  if (!rows) return fail(rows.error());
  if (rows->empty()) return std::optional<ManagedDaemonRecord>();
  return std::optional<ManagedDaemonRecord>(std::move(rows->front()));
}

Result<ManagedDaemonRecord> owned_managed_daemon(SqlTransaction& tx, const std::string& user_id,
                                                 const std::string& id_or_name) {
  auto rows = managed_rows(tx, "WHERE m.user_id = $1 AND (m.id = $2 OR m.name = $2)",
                           {user_id, id_or_name});
  if (!rows) return fail(rows.error());
  if (rows->empty()) return fail(ErrorCode::not_found, "no managed daemon " + id_or_name);
  return std::move(rows->front());
}

Result<std::vector<ManagedDaemonRecord>> list_managed_daemons(SqlTransaction& tx,
                                                              const std::string& user_id) {
  return managed_rows(tx, "WHERE m.user_id = $1 ORDER BY m.created_at_ms, m.id", {user_id});
}

Result<ManagedDaemonRecord> set_desired_state(SqlTransaction& tx, const std::string& id,
                                              DesiredState desired, std::int64_t now_ms) {
  const std::string state(name_of(kDesiredStateNames, desired));
  // Resuming marks it active, so that it is not suspended again before anyone could use it,
  // and makes its start due now whatever backoff an earlier failure left.
  auto updated = desired == DesiredState::running
                     ? tx.execute(
                           "UPDATE managed_daemons SET desired_state = $2, updated_at_ms = $3, "
                           "active_at_ms = $3, next_attempt_at_ms = 0, restarts = 0 "
                           "WHERE id = $1 AND desired_state <> 'deleted'",
                           {id, state, now_ms})
                     : tx.execute(
                           "UPDATE managed_daemons SET desired_state = $2, updated_at_ms = $3 "
                           "WHERE id = $1 AND desired_state <> 'deleted'",
                           {id, state, now_ms});
  if (!updated) return fail(updated.error());
  if (*updated == 0) return fail(ErrorCode::not_found, "no managed daemon " + id);
  return reread(tx, id);
}

Result<ManagedDaemonRecord> replace_managed_spec(SqlTransaction& tx, const std::string& id,
                                                 const ManagedDaemonSpec& spec,
                                                 std::int64_t now_ms) {
  auto updated = tx.execute(
      "UPDATE managed_daemons SET spec_json = $2, updated_at_ms = $3 "
      "WHERE id = $1 AND desired_state <> 'deleted'",
      {id, to_json(spec).dump(), now_ms});
  if (!updated) return fail(updated.error());
  if (*updated == 0) return fail(ErrorCode::not_found, "no managed daemon " + id);
  auto labels = tx.execute("UPDATE daemons SET labels_json = $2 WHERE id = $1",
                           {id, nlohmann::json(spec.labels).dump()});
  if (!labels) return fail(labels.error());
  return reread(tx, id);
}

Result<bool> note_call_to_daemon(SqlTransaction& tx, const std::string& id, std::int64_t now_ms) {
  auto wish = tx.query("SELECT desired_state FROM managed_daemons WHERE id = $1", {id});
  if (!wish) return fail(wish.error());
  if (wish->rows.empty()) return false;  // not managed: nothing to do (one indexed read)
  const std::string desired = first_record(*wish).text("desired_state");
  if (desired == "deleted") return false;
  const bool suspended = desired == "suspended";
  auto updated = tx.execute(
      suspended
          ? "UPDATE managed_daemons SET desired_state = 'running', active_at_ms = $2, "
            "next_attempt_at_ms = 0, restarts = 0, updated_at_ms = $2 WHERE id = $1"
          : "UPDATE managed_daemons SET active_at_ms = $2 WHERE id = $1 AND active_at_ms < $2",
      {id, now_ms});
  if (!updated) return fail(updated.error());
  return suspended;
}

Result<std::vector<ManagedDaemonRecord>> lease_managed_daemons(SqlTransaction& tx,
                                                               const std::string& owner,
                                                               std::int64_t now_ms,
                                                               std::int64_t lease_until_ms,
                                                               std::size_t limit) {
  RELIANT_ASSERT(limit > 0);
  // The lease's condition is checked again on the row itself, so two replicas claiming at once
  // cannot both win one daemon.
  auto claimed = tx.execute(
      "UPDATE managed_daemons SET lease_owner = $1, lease_until_ms = $3 "
      "WHERE (lease_owner = $1 OR lease_owner IS NULL OR lease_until_ms < $2) AND id IN "
      "(SELECT id FROM managed_daemons "
      "WHERE lease_owner = $1 OR lease_owner IS NULL OR lease_until_ms < $2 ORDER BY id LIMIT " +
          std::to_string(limit) + ")",
      {owner, now_ms, lease_until_ms});
  if (!claimed) return fail(claimed.error());
  return managed_rows(tx, "WHERE m.lease_owner = $1 ORDER BY m.id", {owner});
}

Result<bool> record_observed(SqlTransaction& tx, const std::string& id, const std::string& owner,
                             const ObservedUpdate& u, std::int64_t now_ms) {
  std::string desired_sql;
  std::vector<SqlValue> params{
      id,           owner,      std::string(name_of(kObservedStateNames, u.observed)),
      u.address,    u.restarts, u.next_attempt_at_ms,
      u.last_error, now_ms};
  if (u.desired) {
    // Only while nothing used it since the round looked: a resume or a call that came meanwhile
    // wins over the round's idle suspension.
    desired_sql = ", desired_state = $9";
    params.emplace_back(std::string(name_of(kDesiredStateNames, *u.desired)));
    params.emplace_back(u.active_at_ms);
  }
  auto updated = tx.execute(
      "UPDATE managed_daemons SET observed_state = $3, address = $4, restarts = $5, "
      "next_attempt_at_ms = $6, last_error = $7, updated_at_ms = $8" +
          desired_sql + " WHERE id = $1 AND lease_owner = $2" +
          // Activity as managed_from reads it: none of its three marks is later than seen.
          (u.desired ? " AND desired_state = 'running' AND active_at_ms <= $10 AND NOT EXISTS "
                       "(SELECT 1 FROM daemons d WHERE d.id = $1 AND "
                       "(COALESCE(d.last_activity_at_ms, 0) > $10 OR "
                       "COALESCE(d.connected_at_ms, 0) > $10))"
                     : ""),
      std::move(params));
  if (!updated) return fail(updated.error());
  return *updated == 1;
}

Result<bool> delete_managed_daemon(SqlTransaction& tx, const std::string& id,
                                   const std::string& owner) {
  auto owned = tx.query(
      "SELECT id FROM managed_daemons WHERE id = $1 AND lease_owner = $2 AND "
      "desired_state = 'deleted'",
      {id, owner});
  if (!owned) return fail(owned.error());
  if (owned->rows.empty()) return false;
  // The managed row goes with its daemon (ON DELETE CASCADE).
  auto deleted = tx.execute("DELETE FROM daemons WHERE id = $1", {id});
  if (!deleted) return fail(deleted.error());
  return *deleted == 1;
}

}  // namespace reliant
