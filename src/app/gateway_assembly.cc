// The gateway's transport and unary fallbacks, one assembly for each process that runs one.
#include "app/gateway_assembly.h"

#include "core/bearer_token.h"

namespace reliant {

Result<std::unique_ptr<GrpcTransport>> gateway_transport(AsioExecutor& executor,
                                                         const GrpcLimitOptions& limits,
                                                         const std::optional<TlsFiles>& tls) {
  GrpcTransportOptions options;
  options.role = GrpcRole::gateway;
  options.limits = grpc_limits(limits);
  if (tls) {
    options.tls_cert_file = tls->cert_file;
    options.tls_key_file = tls->key_file;
  }
  return GrpcTransport::create(executor, options);
}

Result<void> serve_gateway_unaries(GrpcTransport& transport, gateway::Gateway& gateway) {
  gateway::Gateway* gw = &gateway;
  if (auto set =
          transport.set_report_handler([gw](Metadata metadata, daemon::v1::ToolResponse response) {
            return gw->report_result(bearer_token(metadata), std::move(response));
          });
      !set) {
    return set;
  }
  return transport.set_list_daemons_handler(
      [gw](Metadata metadata, daemon::v1::ListDaemonsRequest) {
        return gw->list_daemons(bearer_token(metadata));
      });
}

}  // namespace reliant
