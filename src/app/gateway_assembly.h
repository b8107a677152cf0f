// What every process that runs a Gateway assembles around it (`reliant server gateway`, the
// monolith): the gRPC transport daemons dial in on, and the unary fallbacks served beside the
// streams from the gateway.
#pragma once

#include <memory>
#include <optional>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_transport.h"
#include "app/http_limits.h"
#include "app/self_signed_tls.h"
#include "services/gateway/gateway.h"

namespace reliant {

// Serves daemons with `tls` (none: h2c) within `limits`.
Result<std::unique_ptr<GrpcTransport>> gateway_transport(AsioExecutor& executor,
                                                         const GrpcLimitOptions& limits,
                                                         const std::optional<TlsFiles>& tls);
// ReportToolResult and ListDaemons on `transport`, answered by `gateway` (which outlives them).
Result<void> serve_gateway_unaries(GrpcTransport& transport, gateway::Gateway& gateway);

}  // namespace reliant
