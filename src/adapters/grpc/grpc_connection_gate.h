// GrpcConnectionGate: a gRPC port's own accept loop, so that the port has connection caps and
// keeps serving when clients open more than it may hold. gRPC 1.51 (Debian 12) has no cap of its
// own (GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS came later), and its listener stops accepting
// for good after one failed accept4 (EMFILE). The gate accepts on a socket of its own — out of
// descriptors it turns waiting clients away and retries later —, applies the caps of
// core/connection_limits.h (an unauthenticated pool, oldest evicted first, a deadline to
// authenticate), and once a connection's client has sent its first bytes hands it to gRPC
// through ServerBuilder's external connection acceptor, which still does TLS and HTTP/2 (a
// silent connection costs gRPC nothing and the gate little). It keeps a duplicate of each
// connection's descriptor: a thread of its own sees it hang up when gRPC closes it, and the gate
// shuts it down to close it. Both gRPC servers use it: GrpcRpcServer (the api's gRPC port and the
// gateway's frontend) and GrpcTransport's listeners (the gateway's daemon port).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "base/time.h"

namespace grpc {
class ServerBuilder;
class ServerCredentials;
}  // namespace grpc

namespace reliant {

struct GrpcConnectionLimits {
  // Open connections at most; lowered at start to fit the descriptor limit
  // (grpc_connection_cap()). Past it, or past the other caps, room is made as on the HTTP port:
  // an unauthenticated connection of the address holding the most goes first; an authenticated
  // one is never closed to make room (gRPC closes idle ones: idle_timeout).
  std::size_t connections_max = 1024;
  // Of them, not yet authenticated (no call on it has carried a valid credential) at most.
  std::size_t unauthenticated_connections_max = 128;
  // From one client address (an IPv6 client: its /64) at most; 0: no cap.
  std::size_t connections_per_address_max = 256;
  // An unauthenticated connection is closed this long after it was accepted.
  Duration unauthenticated_timeout = seconds(10);
  // TLS and the HTTP/2 preface within this, or gRPC closes the connection (its default: 120 s).
  Duration handshake_timeout = seconds(10);
  // A connection without a call this long is closed by gRPC (a GOAWAY; clients reconnect when
  // they next call). Long calls — update streams, terminals, daemon streams — are not idle.
  Duration idle_timeout = minutes(5);
  // A connection silent this long gets a ping, and is closed when the ping goes unanswered for
  // keepalive_timeout: a peer that vanished holds nothing for long.
  Duration keepalive_time = minutes(1);
  Duration keepalive_timeout = seconds(20);
  // A client's pings: at most one per this interval, with calls or without; two more and gRPC
  // closes the connection (too_many_pings).
  Duration min_ping_interval = seconds(10);
};

// The connection cap of a gRPC port when the process may open `descriptor_limit` files: each
// connection takes two descriptors (gRPC's and the gate's), and a port takes half of what the
// HTTP port leaves (http_server.h, connection_cap()): so a quarter of three quarters of the
// limit in connections, at most `max_connections`, never below 8.
std::size_t grpc_connection_cap(std::size_t connections_max, std::uint64_t descriptor_limit);

class GrpcConnectionGate {
 public:
  // Binds `host` (an IP address or a host name; "::" for IPv6) and `port` (0: any free port)
  // and listens; start() begins accepting. Fails with invalid_argument for a bad address or
  // option and already_exists when the port cannot be bound. Call it, start() and the
  // destructor on the executor's thread, or while it is not running.
  static Result<std::unique_ptr<GrpcConnectionGate>> listen(AsioExecutor& executor,
                                                            const std::string& host, int port,
                                                            GrpcConnectionLimits limits);
  // Stops accepting, then lets go of the connections' duplicates (gRPC keeps its own).
  ~GrpcConnectionGate();
  GrpcConnectionGate(const GrpcConnectionGate&) = delete;
  GrpcConnectionGate& operator=(const GrpcConnectionGate&) = delete;

  int port() const;
  // The cap in force: limits.connections_max, or less for a low descriptor limit.
  std::size_t connections_max() const;
  // Adds the external connection acceptor (with the port's credentials) and the channel
  // arguments of the limits to `builder`, and turns compression off; before BuildAndStart.
  void configure(grpc::ServerBuilder& builder,
                 const std::shared_ptr<grpc::ServerCredentials>& credentials);
  // Begins accepting; after BuildAndStart (gRPC closes what it is handed before it started).
  void start();
  // What a call's or stream's handler calls once it carried a valid credential (RpcCall::
  // authenticated): the connection of `peer` ("ip:port", as peer_address() gives it) leaves the
  // unauthenticated pool. Runs on the executor; harmless after the gate is gone.
  std::function<void()> authenticator(const std::string& peer) const;
  // Held while a call of `peer`'s is being answered: until it is released, an unauthenticated
  // connection is not closed to make room (its call would be cut; the call authenticates or
  // fails soon). Release it on the executor.
  std::shared_ptr<void> call_in_progress(const std::string& peer) const;
  // A call of `peer`'s arrived (its headers, before its message): the connection is closed after
  // the ones that never sent a call (ConnectionLimits::mark_spoken). On the executor.
  void spoke(const std::string& peer) const;
  // Open connections as the caps count them (the executor's thread).
  std::size_t open_connections() const;

 private:
  struct State;
  explicit GrpcConnectionGate(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace reliant
