// Daemons as the gateways record them: identity, labels, and the connection status lifecycle
// (active → idle → disconnected). Functions run inside a Store transaction.
//
// Every write about a connection is conditional on its connection_id, so a gateway that lost a
// daemon to a newer connection (on itself or on another gateway) cannot overwrite newer state.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "core/daemon_selection.h"
#include "core/daemon_status.h"
#include "runtime/store.h"

namespace reliant {

struct DaemonRecord {
  std::string id;
  std::string user_id;
  std::string name;
  DaemonType type = DaemonType::local;
  std::map<std::string, std::string> labels;
  std::string hostname;
  std::string platform;
  std::string working_dir;
  std::string version;
  DaemonStatus status = DaemonStatus::disconnected;
  std::optional<std::int64_t> last_heartbeat_at_ms;
  // When it last served its user, as its heartbeats say (the holding gateway writes it).
  std::optional<std::int64_t> last_activity_at_ms;
  std::string gateway_id;
  std::optional<std::int64_t> connected_at_ms;
  std::string connection_id;
  std::string session_id;
  std::int64_t lease_until_ms = 0;  // renewed by the holding gateway
  // The daemon's own order of the admitted registration (0: a daemon that does not count).
  std::uint64_t registration_seq = 0;
  std::int64_t created_at_ms = 0;
};

Result<std::optional<DaemonRecord>> find_daemon(SqlTransaction& tx, const std::string& id);
// A user's daemons, oldest first.
Result<std::vector<DaemonRecord>> list_daemons(SqlTransaction& tx, const std::string& user_id);
// A user's daemons, oldest first, and the active daemon of the chat `chat_id` (empty when it
// names none, or there is no such chat): one statement when the user has a daemon.
struct ChatDaemons {
  std::string chat_daemon_id;
  std::vector<DaemonRecord> daemons;
};
Result<ChatDaemons> list_daemons_for_chat(SqlTransaction& tx, const std::string& user_id,
                                          const std::string& chat_id);
// list_daemons_for_chat's statement and the reading of its rows (which reads the chat, in `tx`,
// when the user has no daemon), for a caller that sends it with others.
SqlStatement daemons_for_chat_statement(const std::string& user_id, const std::string& chat_id);
Result<ChatDaemons> chat_daemons_from(SqlTransaction& tx, const std::string& chat_id,
                                      const SqlRows& rows);
// A user's connected (active or idle) daemons as the default cascade sees them, best first as
// daemon selection prefers them — local before cloud, then the most recently connected, then by
// id — at most `limit` of them: an indexed read that does not grow with the user's fleet. Only
// the columns selection compares are read, and no labels: the default cascade matches no
// selector (a tool call reads this on every call).
Result<std::vector<DaemonCandidate>> list_connected_candidates(SqlTransaction& tx,
                                                               const std::string& user_id,
                                                               std::size_t limit);

// A new connection of `daemon` (id, user, identity fields, gateway, connection and session ids,
// connected_at, registration_seq): inserts it, or takes over the existing row. Fails with
// `permission_denied` when the id belongs to another user, and with `failed_precondition` when
// the row holds a later registration of the daemon (this one is stale: the daemon gave up on it
// and registered again since). A registration_seq of 0 is never stale.
Result<void> record_daemon_connected(SqlTransaction& tx, const DaemonRecord& daemon);

// Sets the status (and, for `active`, the heartbeat time) while `connection_id` is still the
// daemon's current connection. Returns whether it was.
Result<bool> record_daemon_status(SqlTransaction& tx, const std::string& daemon_id,
                                  const std::string& connection_id, DaemonStatus status,
                                  std::int64_t now_ms);

// A holding gateway's renewal of one daemon's lease.
struct LeaseRenewal {
  std::string daemon_id;
  std::string connection_id;
  DaemonStatus status = DaemonStatus::active;  // the connection's, re-asserted
  std::int64_t lease_until_ms = 0;
  std::int64_t last_activity_at_ms = 0;  // when the daemon last served its user; 0: not known
};
// Renews each row's lease while its connection is still the daemon's current one, re-asserts
// the connection's status (which a sweep may have overwritten while the store was unreachable),
// and records when the daemon last served its user (it never moves back). Returns, for each
// renewal in order, whether its connection is still the daemon's current one. The statements
// of all renewals go out together: on Postgres one round trip for the lot, and one more when a
// status must be written back.
Result<std::vector<bool>> renew_daemon_leases(SqlTransaction& tx,
                                              const std::vector<LeaseRenewal>& renewals);

// The lease of a row no gateway renews: the monolith's embedded daemon, which lives as long as
// its process. No gateway's sweep expires it.
inline constexpr std::int64_t kLeaseWithoutEnd = std::numeric_limits<std::int64_t>::max();

// A connected row's lease as a sweeping gateway sees it.
struct DaemonLease {
  std::string id;
  std::string user_id;
  std::string connection_id;
  std::int64_t lease_until_ms = 0;
};
// Rows recorded connected that `gateway_id` does not renew itself: every other gateway's, and
// its own whose lease ran out by its own clock (`now_ms`) — those of an earlier run of it. Never
// one leased without end (kLeaseWithoutEnd).
Result<std::vector<DaemonLease>> leased_daemons(SqlTransaction& tx, const std::string& gateway_id,
                                                std::int64_t now_ms);
// Marks the row disconnected if it still holds exactly this lease (same connection, not renewed
// since). Returns whether it did.
Result<bool> expire_daemon_lease(SqlTransaction& tx, const DaemonLease& lease);
// Marks the row disconnected if `connection_id` is still its connection and it is not
// disconnected already: a draining gateway's release of a daemon it sent elsewhere, which a
// registration made since, here or elsewhere, outranks. Returns whether it did.
Result<bool> release_daemon_connection(SqlTransaction& tx, const std::string& daemon_id,
                                       const std::string& connection_id);
// Marks disconnected every row `gateway_id` holds, for a process that alone may hold them at its
// start (the monolith's embedded gateway: its data directory's lock says the earlier run that
// held them is gone), so that its daemons are dialled again at once, not when their leases run
// out. Returns how many it released.
Result<std::int64_t> release_daemons_of_gateway(SqlTransaction& tx, const std::string& gateway_id);

}  // namespace reliant
