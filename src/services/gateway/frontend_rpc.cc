// The gateway's frontend port: ListDaemons from the store, the daemon services through the bus.
#include "services/gateway/frontend_rpc.h"

#include "protocol/codec.h"
#include "services/api/api_support.h"

namespace reliant::gateway {
namespace {

constexpr std::string_view kListDaemons = "/reliant.daemon.v1.DaemonService/ListDaemons";
// How often the streams' credentials are looked up again, beside revocations announced on the
// bus (a lost announcement): as the api's default.
constexpr Duration kCredentialRecheck = seconds(10);

}  // namespace

FrontendRpc::FrontendRpc(Env& env, Gateway& gateway, routing::DaemonRouter& router,
                         const BearerVerifier* jwt)
    : env_(env),
      gateway_(gateway),
      jwt_(jwt),
      watches_(env, kCredentialRecheck),
      services_(env, &router, watches_) {}

bool FrontendRpc::knows(std::string_view method) const {
  return method == kListDaemons || services_.knows(method);
}

bool FrontendRpc::is_server_streaming(std::string_view method) const {
  return services_.is_server_streaming(method);
}

bool FrontendRpc::is_bidi_streaming(std::string_view method) const {
  return services_.is_bidi_streaming(method);
}

Task<Result<api::Credential>> FrontendRpc::authenticate(const RpcCall& call) {
  Task<Result<api::Credential>> checking =
      api::authenticate_credential(env_, jwt_, bearer_token(call.metadata));
  Result<api::Credential> credential = co_await checking;
  if (credential) call.mark_authenticated();
  co_return credential;
}

Task<Result<std::string>> FrontendRpc::unary(RpcCall call) {
  if (call.method == kListDaemons) {
    Task<Result<daemon::v1::ListDaemonsResponse>> listing =
        gateway_.list_daemons(bearer_token(call.metadata));
    Result<daemon::v1::ListDaemonsResponse> listed = co_await listing;
    if (!listed) co_return fail(listed.error());
    call.mark_authenticated();  // the gateway checked the token
    co_return protocol::encode(*listed);
  }
  Task<Result<api::Credential>> authenticating = authenticate(call);
  Result<api::Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  Task<Result<std::string>> serving =
      services_.unary(std::move(credential->user_id), std::move(call));
  co_return co_await serving;
}

Task<Result<void>> FrontendRpc::server_stream(RpcCall call, RpcWriter& out) {
  Task<Result<api::Credential>> authenticating = authenticate(call);
  Result<api::Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  Task<Result<void>> serving =
      services_.server_stream(std::move(*credential), std::move(call), out);
  co_return co_await serving;
}

Task<Result<void>> FrontendRpc::bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out) {
  Task<Result<api::Credential>> authenticating = authenticate(call);
  Result<api::Credential> credential = co_await authenticating;
  if (!credential) co_return fail(credential.error());
  Task<Result<void>> serving =
      services_.bidi_stream(std::move(*credential), std::move(call), in, out);
  co_return co_await serving;
}

}  // namespace reliant::gateway
