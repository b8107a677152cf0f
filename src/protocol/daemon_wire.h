// A daemon's type and status as the wire's enums (reliant.daemon.v1.DaemonType and
// DaemonStatus), next to the core enums they carry: the gateway and the daemon convert here only.
#pragma once

#include <string_view>

#include "core/daemon_status.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::protocol {

namespace daemon_v1 = reliant::daemon::v1;

// The StreamError code of a gateway going away (asked to stop: a rolling update). Its daemon
// connects to another gateway at once and counts it no failure: nothing is wrong with either.
inline constexpr std::string_view kShuttingDownCode = "shutting_down";

inline daemon_v1::DaemonType wire_type(DaemonType type) {
  return type == DaemonType::cloud ? daemon_v1::DAEMON_TYPE_CLOUD : daemon_v1::DAEMON_TYPE_LOCAL;
}

// UNSPECIFIED (an older daemon) is a local daemon.
inline DaemonType type_from_wire(daemon_v1::DaemonType type) {
  return type == daemon_v1::DAEMON_TYPE_CLOUD ? DaemonType::cloud : DaemonType::local;
}

inline daemon_v1::DaemonStatus wire_status(DaemonStatus status) {
  switch (status) {
    case DaemonStatus::active:
      return daemon_v1::DAEMON_STATUS_ACTIVE;
    case DaemonStatus::idle:
      return daemon_v1::DAEMON_STATUS_IDLE;
    case DaemonStatus::disconnected:
      return daemon_v1::DAEMON_STATUS_DISCONNECTED;
    case DaemonStatus::suspended:
      return daemon_v1::DAEMON_STATUS_SUSPENDED;
  }
  return daemon_v1::DAEMON_STATUS_UNSPECIFIED;
}

}  // namespace reliant::protocol
