// What a daemon is and how it is connected: one enum each, used from the gateway's presence
// machine to the stored row, the wire and daemon selection (spec S0.20, S5.1). Their names are
// the text the store and the JSON APIs hold.
#pragma once

#include <optional>
#include <string_view>

#include "base/enum_names.h"

namespace reliant {

// Where it runs: the user's machine, or a pod the control plane manages.
enum class DaemonType { local, cloud };
inline constexpr EnumNames<DaemonType, 2> kDaemonTypeNames{{
    {DaemonType::local, "local"},
    {DaemonType::cloud, "cloud"},
}};

// Active: heard from recently. Idle: connected but silent for a while. Disconnected: no stream.
// Suspended: a managed daemon the control plane stopped (idle, or its user asked); no stream,
// and a call to it resumes it. The gateways write the first three; the fourth is read from the
// control plane's row (storage/daemons.h), never stored in the daemon's own.
enum class DaemonStatus { active, idle, disconnected, suspended };
inline constexpr EnumNames<DaemonStatus, 4> kDaemonStatusNames{{
    {DaemonStatus::active, "active"},
    {DaemonStatus::idle, "idle"},
    {DaemonStatus::disconnected, "disconnected"},
    {DaemonStatus::suspended, "suspended"},
}};

RELIANT_JSON_BY_NAME(DaemonType, kDaemonTypeNames)
RELIANT_JSON_BY_NAME(DaemonStatus, kDaemonStatusNames)

// The status users see: a daemon without a stream that its control plane suspended is
// `suspended`; otherwise its connection's status.
constexpr DaemonStatus shown_status(DaemonStatus connection, bool suspended_by_control_plane) {
  return connection == DaemonStatus::disconnected && suspended_by_control_plane
             ? DaemonStatus::suspended
             : connection;
}

constexpr std::string_view to_string(DaemonType type) { return name_of(kDaemonTypeNames, type); }
constexpr std::string_view to_string(DaemonStatus status) {
  return name_of(kDaemonStatusNames, status);
}
constexpr std::optional<DaemonType> daemon_type_named(std::string_view name) {
  return value_named(kDaemonTypeNames, name);
}

}  // namespace reliant
