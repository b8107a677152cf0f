// DaemonServicesRpc: a daemon's own services over gRPC (proto/reliant/api/v1/
// daemon_services.proto) — FileSystemService, BackgroundService, TerminalService and MCPService,
// the gateway's frontend proxy services of seed 001. Each call names a daemon; its owner is
// checked in the store, then a unary call is forwarded as it came, a typed call through the
// DaemonRouter (the bus to whichever gateway holds the daemon, or the monolith's embedded
// daemon), as the REST DaemonRoutes make them. Streams are long-polls underneath, on the pages
// of daemon_pages.proto: StreamProcessOutput follows FollowProcessOutput, StreamTerminal reads
// with ReadTerminal while it forwards the client's keys with WriteTerminal — one outstanding
// request each way, over any request-reply path.
//
// It serves already authenticated calls: the gRPC face that owns it (GrpcApi on the api, the
// gateway's FrontendRpc) authenticates and passes the credential on. A stream lives no longer
// than that credential: once it is revoked or expires (CredentialWatches), the stream ends with
// UNAUTHENTICATED at its next turn — within one long-poll — and a terminal's input half sends
// nothing more.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reliant/api/v1/daemon_services.pb.h"
#include "runtime/env.h"
#include "runtime/rpc.h"
#include "services/api/credential_watch.h"
#include "services/routing/daemon_router.h"

namespace reliant::api {

// A new terminal on a daemon whose owner was checked (rows, cols 0: 24×80), and an open one by
// its id (not_found when it is not open): what a terminal stream or WebSocket starts with.
Task<Result<v1::TerminalSession>> open_terminal(routing::DaemonRouter& router, std::string user_id,
                                                std::string daemon_id, std::int32_t rows,
                                                std::int32_t cols);
Task<Result<v1::TerminalSession>> find_terminal(routing::DaemonRouter& router, std::string user_id,
                                                std::string daemon_id, std::string session_id);

class DaemonServicesRpc {
 public:
  // `router` null: every call is UNAVAILABLE (a deployment that reaches no daemon). `watches`
  // outlives this.
  DaemonServicesRpc(Env& env, routing::DaemonRouter* router, CredentialWatches& watches);

  bool knows(std::string_view method) const;
  bool is_server_streaming(std::string_view method) const;
  bool is_bidi_streaming(std::string_view method) const;

  Task<Result<std::string>> unary(std::string user_id, RpcCall call);
  Task<Result<void>> server_stream(Credential credential, RpcCall call, RpcWriter& out);
  Task<Result<void>> bidi_stream(Credential credential, RpcCall call, RpcReader& in,
                                 RpcWriter& out);

  // How long one long-poll read waits on the daemon (below the bus's request timeout).
  static constexpr Duration kPollWait = milliseconds(1500);

 private:
  Env& env_;
  routing::DaemonRouter* router_;
  CredentialWatches& watches_;
};

}  // namespace reliant::api
