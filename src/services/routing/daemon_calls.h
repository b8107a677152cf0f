// Typed calls to a daemon by their messages (DaemonRouter::daemon_call carries their bytes), and
// the names of the calls servers make themselves: the pages the api's streams and the terminal
// WebSocket are made of (reliant/daemon/v1/daemon_pages.proto) and the terminal calls beside them.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <google/protobuf/message.h>

#include "protocol/codec.h"
#include "services/routing/daemon_router.h"

namespace reliant::routing {

inline constexpr std::string_view kFollowProcessOutput =
    "/reliant.daemon.v1.DaemonPages/FollowProcessOutput";
inline constexpr std::string_view kOpenTerminal = "/reliant.daemon.v1.DaemonPages/OpenTerminal";
inline constexpr std::string_view kReadTerminal = "/reliant.daemon.v1.DaemonPages/ReadTerminal";
inline constexpr std::string_view kWriteTerminal = "/reliant.daemon.v1.DaemonPages/WriteTerminal";
inline constexpr std::string_view kResizeTerminal = "/reliant.daemon.v1.DaemonPages/ResizeTerminal";
inline constexpr std::string_view kListTerminalSessions =
    "/reliant.api.v1.TerminalService/ListSessions";
inline constexpr std::string_view kCloseTerminalSession =
    "/reliant.api.v1.TerminalService/CloseSession";

template <class Response>
Task<Result<Response>> decoded_answer(Task<Result<std::string>> calling) {
  Result<std::string> bytes = co_await calling;
  if (!bytes) co_return fail(bytes.error());
  co_return protocol::decode<Response>(*bytes);
}

// `method` with `request` (encoded before this returns): its Response, or the daemon's refusal.
// The caller has checked that the daemon is the user's.
template <class Response>
Task<Result<Response>> call_daemon(DaemonRouter& router, std::string user_id, std::string daemon_id,
                                   std::string_view method,
                                   const google::protobuf::Message& request) {
  return decoded_answer<Response>(router.daemon_call(
      std::move(user_id), std::move(daemon_id), std::string(method), protocol::encode(request)));
}

}  // namespace reliant::routing
