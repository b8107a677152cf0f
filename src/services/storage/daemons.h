// Daemons as the gateways record them: identity, labels, and the connection status lifecycle
// (active → idle → disconnected). Functions run inside a Store transaction.
//
// Every write about a connection is conditional on its connection_id, so a gateway that lost a
// daemon to a newer connection (on itself or on another gateway) cannot overwrite newer state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

struct DaemonRecord {
  std::string id;
  std::string user_id;
  std::string name;
  std::string type = "local";  // local | cloud
  std::map<std::string, std::string> labels;
  std::string hostname;
  std::string platform;
  std::string working_dir;
  std::string version;
  std::string status = "disconnected";  // active | idle | disconnected
  std::optional<std::int64_t> last_heartbeat_at_ms;
  std::string gateway_id;
  std::optional<std::int64_t> connected_at_ms;
  std::string connection_id;
  std::string session_id;
  std::int64_t lease_until_ms = 0;  // renewed by the holding gateway
  std::int64_t created_at_ms = 0;
};

Result<std::optional<DaemonRecord>> find_daemon(SqlTransaction& tx, const std::string& id);
// A user's daemons, oldest first.
Result<std::vector<DaemonRecord>> list_daemons(SqlTransaction& tx, const std::string& user_id);

// A new connection of `daemon` (id, user, identity fields, gateway, connection and session ids,
// connected_at): inserts it, or takes over the existing row. Fails with `permission_denied`
// when the id belongs to another user.
Result<void> record_daemon_connected(SqlTransaction& tx, const DaemonRecord& daemon);

// Sets the status (and, for `active`, the heartbeat time) while `connection_id` is still the
// daemon's current connection. Returns whether it was.
Result<bool> record_daemon_status(SqlTransaction& tx, const std::string& daemon_id,
                                  const std::string& connection_id, const std::string& status,
                                  std::int64_t now_ms);

// Renews the holding gateway's lease on the row and re-asserts the connection's status (which
// a sweep may have overwritten while the store was unreachable). Returns whether
// `connection_id` is still the daemon's current connection.
Result<bool> renew_daemon_lease(SqlTransaction& tx, const std::string& daemon_id,
                                const std::string& connection_id, const std::string& status,
                                std::int64_t lease_until_ms);

struct ExpiredDaemon {
  std::string id;
  std::string user_id;
};
// Marks disconnected every connected row whose lease ran out before `now_ms` (its gateway
// died), and returns them.
Result<std::vector<ExpiredDaemon>> expire_daemon_leases(SqlTransaction& tx, std::int64_t now_ms);

}  // namespace reliant
