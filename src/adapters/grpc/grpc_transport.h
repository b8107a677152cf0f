// GrpcTransport: the Transport port on real gRPC bidi streams (ToolsDaemonService), for the
// distributed deployment — daemons dial gateways, gateways dial managed daemons.
//
// Frames are serialized protobuf messages: the daemon side sends DaemonFrame bytes and receives
// GatewayFrame bytes, the gateway side the reverse, whichever of the two dialed. The role says
// which RPC each direction uses (docs/architecture.md §4):
//
//   role      listen() serves               dial() calls
//   gateway   ConnectDaemon (daemons dial)  ConnectGateway (reverse: a managed daemon)
//   daemon    ConnectGateway (reverse)      ConnectDaemon (to a gateway)
//
// gRPC runs its callbacks on its own threads; everything the component sees (accepted streams,
// frames, on_close, dial results, unary handlers) is posted to the executor, whose post() must
// therefore be thread-safe (AsioExecutor). Stream methods are called on that executor's thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_address.h"
#include "adapters/grpc/grpc_connection_gate.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/executor.h"
#include "runtime/transport.h"

namespace reliant {

namespace grpc_detail {
class CallQueue;
class CallRegistry;
struct ServerEntry;
struct Handlers;
}  // namespace grpc_detail

enum class GrpcRole {
  gateway,  // sends GatewayFrames
  daemon,   // sends DaemonFrames
};

struct GrpcTransportOptions {
  GrpcRole role = GrpcRole::gateway;
  // dial(): how to secure the connection (infer: from the URL's scheme).
  GrpcTlsMode tls_mode = GrpcTlsMode::infer;
  // dial() with verified TLS: PEM roots to trust; empty: the system's roots.
  std::string tls_ca_file;
  // listen(): PEM certificate chain and private key. Both set: TLS; both empty: plaintext h2c.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Largest frame either way; gRPC refuses larger messages.
  std::size_t message_bytes_max = 4u << 20;
  // listen(): the caps and timeouts of each listener's connections. A connection counts as
  // authenticated once a stream on it is marked so (Stream::mark_authenticated: the gateway, after
  // the daemon's token) or a unary call on it succeeded; on a daemon's listener (managed daemons)
  // once a gateway's stream is accepted.
  GrpcConnectionLimits limits;
};

class GrpcTransport final : public Transport {
 public:
  // Reads the TLS files `options` names; fails with invalid_argument when one is unreadable or
  // only one of cert and key is given.
  static Result<std::unique_ptr<GrpcTransport>> create(AsioExecutor& executor,
                                                       GrpcTransportOptions options);
  // Call on the executor's thread. Stops every server and cancels every call still open (their
  // streams report `closed`), and returns once gRPC no longer calls back into anything here.
  ~GrpcTransport() override;
  GrpcTransport(const GrpcTransport&) = delete;
  GrpcTransport& operator=(const GrpcTransport&) = delete;

  // `host:port` ("0.0.0.0:9190"; port 0 picks a free one, which Listener::address() reports).
  // Serves TLS when the options carry a certificate and key. The accepted stream's metadata()
  // is the dialer's gRPC metadata (without gRPC's own headers); peer() is "ip:port".
  Result<ListenerPtr> listen(std::string address, AcceptHandler on_accept) override;

  // `https://host:port`, `http://host:port` or `host:port` (see GrpcTlsMode). Metadata keys are
  // sent lower-cased; a key or value gRPC cannot carry fails with invalid_argument. Completes
  // once the peer's component has accepted the stream: `unavailable` (naming the address) when
  // nobody listens or the TLS handshake fails, `timeout` when nothing answers in time.
  Task<Result<StreamPtr>> dial(std::string address, Metadata metadata, Duration timeout) override;

  // Unary RPCs served next to the streams by every listener of this transport; each handler
  // runs on the executor. Until one is set the RPC answers UNIMPLEMENTED. An Error reply
  // becomes the matching gRPC status.
  using ReportHandler =
      std::function<Task<Result<void>>(Metadata metadata, daemon::v1::ToolResponse response)>;
  using ListDaemonsHandler = std::function<Task<Result<daemon::v1::ListDaemonsResponse>>(
      Metadata metadata, daemon::v1::ListDaemonsRequest request)>;
  // ToolsDaemonService.ReportToolResult (a result reported while the stream is down).
  Result<void> set_report_handler(ReportHandler handler);
  // DaemonService.ListDaemons.
  Result<void> set_list_daemons_handler(ListDaemonsHandler handler);

  const GrpcTransportOptions& options() const { return options_; }

 private:
  GrpcTransport(AsioExecutor& executor, GrpcTransportOptions options, std::string ca_pem,
                std::string cert_pem, std::string key_pem);

  AsioExecutor& executor_;
  const GrpcTransportOptions options_;
  const std::string ca_pem_;
  const std::string cert_pem_;
  const std::string key_pem_;
  std::shared_ptr<grpc_detail::CallRegistry> calls_;
  std::shared_ptr<grpc_detail::CallQueue> call_queue_;  // dial()'s, made by the first dial
  std::shared_ptr<grpc_detail::Handlers> handlers_;
  std::vector<std::shared_ptr<grpc_detail::ServerEntry>> servers_;
};

}  // namespace reliant
