// Managed daemons as the control plane keeps them: the user's spec, the state the user wants,
// the state last seen, and the lease of the control plane replica acting on each. Every managed
// daemon also has its row in `daemons` (same id, type cloud), which the gateways write as for
// any daemon. Functions run inside a Store transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/daemon_status.h"
#include "core/managed_daemon.h"
#include "runtime/store.h"

namespace reliant {

struct ManagedDaemonRecord {
  std::string id;
  std::string user_id;
  ManagedDaemonSpec spec;
  DesiredState desired = DesiredState::running;
  ObservedState observed = ObservedState::pending;
  std::string address;  // where a gateway dials it, once provisioned
  std::int64_t restarts = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::string last_error;
  // When it last served its user: the latest of the control plane's mark (created, resumed),
  // what its gateway heard, and when it last connected (it is not idle before it was reachable).
  std::int64_t active_at_ms = 0;
  // Until when a durable tool call stored for it may still wait for it (0: none waits).
  std::int64_t requests_wait_until_ms = 0;
  DaemonStatus status = DaemonStatus::disconnected;  // as the daemons row shows it
  std::string lease_owner;
  std::int64_t lease_until_ms = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// A new managed daemon (desired running, observed pending) and its daemons row (type cloud,
// disconnected, the spec's labels). already_exists when the user has a daemon of that name.
Result<void> insert_managed_daemon(SqlTransaction& tx, const ManagedDaemonRecord& daemon);
// How many managed daemons the user has that are not deleted. On Postgres the user's row is
// locked first (FOR NO KEY UPDATE, which foreign keys' checks do not wait for), so that two
// creations for one user count one after the other and a limit on the count holds; SQLite has
// one writer at a time already.
Result<std::int64_t> count_live_managed_daemons(SqlTransaction& tx, SqlDialect dialect,
                                                const std::string& user_id);
// insert_managed_daemon, unless the user has `per_user_max` managed daemons not deleted already
// (failed_precondition; 0: no limit). The count's lock (count_live_managed_daemons) is held
// until the transaction ends, so two creations at once cannot both pass the limit.
Result<void> insert_managed_daemon_within_limit(SqlTransaction& tx, SqlDialect dialect,
                                                const ManagedDaemonRecord& daemon,
                                                std::int64_t per_user_max);

Result<std::optional<ManagedDaemonRecord>> find_managed_daemon(SqlTransaction& tx,
                                                               const std::string& id);
// `user_id`'s managed daemon with that id or name: not_found when there is none (also when the id
// is another user's: one answer for both).
Result<ManagedDaemonRecord> owned_managed_daemon(SqlTransaction& tx, const std::string& user_id,
                                                 const std::string& id_or_name);
// The user's managed daemons, oldest first.
Result<std::vector<ManagedDaemonRecord>> list_managed_daemons(SqlTransaction& tx,
                                                              const std::string& user_id);

// The user's wish. Resuming (running) marks it active now and makes a start due at once.
// Returns the updated row.
Result<ManagedDaemonRecord> set_desired_state(SqlTransaction& tx, const std::string& id,
                                              DesiredState desired, std::int64_t now_ms);
// A new spec (the name and platform stay); the control plane restarts the daemon with it.
Result<ManagedDaemonRecord> replace_managed_spec(SqlTransaction& tx, const std::string& id,
                                                 const ManagedDaemonSpec& spec,
                                                 std::int64_t now_ms);

// A call is on its way to daemon `id`: when it is a managed daemon, it counts as activity (it is
// not suspended for idleness under the call), and a suspended one is wanted running again
// (spec S0.12's auto-resume). Returns whether it was suspended; a daemon that is not managed,
// or is being deleted, is left alone (false).
Result<bool> note_call_to_daemon(SqlTransaction& tx, const std::string& id, std::int64_t now_ms);

// --- the control plane's side --------------------------------------------------------------

// Takes the lease of up to `limit` daemons that no replica holds (or whose lease ran out by
// `now_ms`), renews `owner`'s own, and returns every row `owner` now holds.
Result<std::vector<ManagedDaemonRecord>> lease_managed_daemons(SqlTransaction& tx,
                                                               const std::string& owner,
                                                               std::int64_t now_ms,
                                                               std::int64_t lease_until_ms,
                                                               std::size_t limit);

// What one round saw or did, written only while `owner` holds the lease (returns whether it
// did: a replica that lost it writes nothing).
struct ObservedUpdate {
  ObservedState observed = ObservedState::pending;
  std::string address;
  std::int64_t restarts = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::string last_error;
  // Idle suspension changes the wish too, only while the daemon is still running-wanted and was
  // last active at or before `active_at_ms` (what the round saw).
  std::optional<DesiredState> desired;
  std::int64_t active_at_ms = 0;
};
Result<bool> record_observed(SqlTransaction& tx, const std::string& id, const std::string& owner,
                             const ObservedUpdate& update, std::int64_t now_ms);
// Deletes the managed daemon's rows once its provisioner removed it (while `owner` holds the
// lease and it is still wanted deleted). Chats that chose it forget it (ON DELETE SET NULL).
Result<bool> delete_managed_daemon(SqlTransaction& tx, const std::string& id,
                                   const std::string& owner);

}  // namespace reliant
