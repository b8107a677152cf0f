// HttpServer: the Beast HTTP/1.1 adapter for the HTTP port (runtime/http.h): parses requests,
// hands them to an HttpHandler on the process's io_context and writes plain or streamed answers.
// Reading a request has deadlines and open connections have caps, so that idle or slow clients
// cannot lock others out; a request whose framing is ambiguous (request smuggling) gets a 400.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "base/time.h"
#include "runtime/http.h"

namespace reliant {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: any free port (see HttpServer::port())
  // A larger request body is refused with 413 before it is buffered.
  std::size_t body_bytes_max = 1 << 20;
  // Origins browsers may call from: empty = no CORS headers at all; "*" = any origin.
  std::vector<std::string> cors_origins;
  // PEM certificate chain and private key: both set, HTTPS (TLS 1.2+); both empty, plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Deadlines on reading requests, so that idle and slow clients cannot hold connections. Each
  // bounds a whole phase, not the gap between two bytes: a client trickling a byte a second is
  // cut like a silent one. Answers are never cut by them: a handler may take its time and a
  // streamed body (server-sent events) may run for hours.
  //
  // A connection that has not finished its TLS handshake this long after it was accepted.
  Duration tls_handshake_timeout = seconds(10);
  // The request line and headers: from the end of the handshake (or the accept) for a
  // connection's first request, from the request's first byte for a later one.
  Duration header_read_timeout = seconds(10);
  // The whole body, from the end of the headers; 60 s for body_bytes_max (1 MiB) asks for
  // about 17 KiB/s.
  Duration body_read_timeout = seconds(60);
  // A kept-alive connection waiting for its next request. Above the 60 s idle timeout common
  // load balancers use, so that the balancer closes an idle connection first, rather than send
  // a request on one we are closing.
  Duration keep_alive_idle_timeout = seconds(75);
  // One piece of a streamed body that the client has not taken in this long (it stopped
  // reading, and the socket's buffers are full) ends the connection: a slow reader holds at
  // most one piece, never a growing backlog.
  Duration stream_write_timeout = seconds(60);

  // A connection is unauthenticated until a request on it carries a valid credential (the
  // handler calls HttpRequest::authenticated). Unauthenticated connections get a pool of their
  // own, and when a cap is reached room is made by closing idle connections — unauthenticated
  // ones first, those of the address holding the most of them, oldest first; then
  // authenticated ones waiting between two requests — never one being answered, nor an
  // authenticated stream or WebSocket session (core/connection_limits.h). Only when nothing can
  // make room is a new connection refused: accepted and closed at once (over plain HTTP after a
  // 503 with Retry-After), rather than left in the listen backlog, and accepting goes on.
  //
  // Open connections at most. At start it is lowered to fit the process's descriptor limit: see
  // HttpServer::max_connections().
  std::size_t connections_max = 4096;
  // Of them, unauthenticated at most.
  std::size_t unauthenticated_connections_max = 128;
  // An unauthenticated connection is closed this long after it was accepted (after its answer,
  // when one is being written): clients that never sign in hold no connection for long.
  Duration unauthenticated_timeout = seconds(10);
  // Open connections from one client address (an IPv6 client: its /64) at most; 0: no cap.
  // Behind a load balancer or a reverse proxy every connection comes from the proxy's address:
  // set 0 there (or above what the proxy opens), or the proxy's connections are refused.
  std::size_t connections_per_address_max = 256;
};

// The connection cap a server applies when the process may open `descriptor_limit` files
// (RLIMIT_NOFILE): `max_connections`, lowered so that a quarter of the limit (at least 64
// descriptors) stays free for the store, the daemon's processes and a connection being turned
// away, and half of the rest for the gRPC port (GrpcConnectionGate); never below 8.
std::size_t connection_cap(std::size_t connections_max, std::uint64_t descriptor_limit);

class HttpServer {
 public:
  // Listens on options.bind_address:options.port and serves on `executor` (its io_context
  // thread runs every handler call). Fails with `invalid_argument` when the address is not an IP
  // address, a TLS file cannot be used, a deadline is not positive or max_connections is 0, and
  // `unavailable` when it cannot be bound. `executor` and
  // `handler` must outlive the server. Call start() and the destructor on the executor's thread, or
  // while it is not running.
  static Result<std::unique_ptr<HttpServer>> start(AsioExecutor& executor,
                                                   HttpServerOptions options, HttpHandler& handler);
  // Stops accepting and closes every open connection; handler tasks and running body streams
  // are cancelled (their frames destroyed).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // The connection cap in force: options.connections_max, or less when the descriptor limit
  // is low (connection_cap()).
  std::size_t connections_max() const { return connections_max_; }

 private:
  struct State;
  HttpServer(std::unique_ptr<State> state, int port, std::size_t connections_max);
  std::unique_ptr<State> state_;
  int port_;
  std::size_t connections_max_;
};

}  // namespace reliant
