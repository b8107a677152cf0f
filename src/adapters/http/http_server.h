// HttpServer: the Beast HTTP/1.1 adapter for the HTTP port (runtime/http.h): parses requests,
// hands them to an HttpHandler on the process's io_context and writes plain or streamed answers.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "runtime/http.h"

namespace reliant {

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: any free port (see HttpServer::port())
  // A larger request body is refused with 413 before it is buffered.
  std::size_t max_body_bytes = 1 << 20;
  // Origins browsers may call from: empty = no CORS headers at all; "*" = any origin.
  std::vector<std::string> cors_origins;
  // PEM certificate chain and private key: both set, HTTPS (TLS 1.2+); both empty, plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  // Listens on options.bind_address:options.port and serves on `executor` (its io_context
  // thread runs every handler call). Fails with `invalid_argument` when the address is not an IP
  // address or a TLS file cannot be used, and `unavailable` when it cannot be bound. `executor` and
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

 private:
  struct State;
  HttpServer(std::unique_ptr<State> state, int port);
  std::unique_ptr<State> state_;
  int port_;
};

}  // namespace reliant
