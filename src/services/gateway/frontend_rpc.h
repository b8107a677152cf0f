// FrontendRpc: what the gateway serves browsers and tools on its frontend port (seed 001: 9191)
// — DaemonService.ListDaemons (reliant.daemon.v1) and a daemon's own services
// (FileSystemService, BackgroundService, TerminalService, MCPService: api/daemon_services_rpc.h),
// which reach whichever gateway holds the daemon over the bus, so a client connected to gateway
// B works with a daemon held by gateway A. Calls authenticate with `authorization: Bearer
// <token>`: a personal access token, or a JWT when the gateway has the identity provider's key.
#pragma once

#include <string_view>

#include "runtime/bearer_verifier.h"
#include "runtime/env.h"
#include "runtime/rpc.h"
#include "services/api/daemon_services_rpc.h"
#include "services/gateway/gateway.h"
#include "services/routing/daemon_router.h"

namespace reliant::gateway {

class FrontendRpc final : public RpcHandler {
 public:
  // `gateway`, `router` and `jwt` (null: PATs only) must outlive this.
  FrontendRpc(Env& env, Gateway& gateway, routing::DaemonRouter& router, const BearerVerifier* jwt);

  bool knows(std::string_view method) const override;
  bool is_server_streaming(std::string_view method) const override;
  bool is_bidi_streaming(std::string_view method) const override;
  Task<Result<std::string>> unary(RpcCall call) override;
  Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) override;
  Task<Result<void>> bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out) override;

 private:
  Task<Result<api::Credential>> authenticate(const RpcCall& call);

  Env& env_;
  Gateway& gateway_;
  const BearerVerifier* jwt_;
  api::CredentialWatches watches_;  // of the streams: revoked credentials end them
  api::DaemonServicesRpc services_;
};

}  // namespace reliant::gateway
