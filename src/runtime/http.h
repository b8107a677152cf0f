// HTTP as a port: the api component answers requests without touching a socket
// (docs/architecture.md §2). The Beast adapter (adapters/http/http_server.h) parses requests and
// writes responses; a test or the simulator can call a handler directly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/task.h"
#include "runtime/websocket.h"

namespace reliant {

struct HttpRequest {
  std::string method;  // "GET", "POST", … (upper case)
  std::string path;    // without the query, percent-decoded: "/api/v1/chats/abc"
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote_address;
  // What per-client limits count the client under, as the server's own connection caps do:
  // its address, an IPv6 client's /64 (one host commonly holds the whole prefix). Set by the
  // Beast adapter; empty elsewhere, where limit_key() falls back on the address.
  std::string client_key;
  // Set by a server that keeps unauthenticated connections apart (the Beast adapter's caps,
  // docs/architecture.md §5): the handler calls it once the request carried a valid credential,
  // and the connection is no longer closed to make room for others. A WebSocket session may
  // call it later (its credential comes in a message). Unset in tests and the simulator.
  std::function<void()> authenticated;

  const std::string& limit_key() const { return client_key.empty() ? remote_address : client_key; }

  // Tells the server the request carried a valid credential (when it wants to know).
  void mark_authenticated() const {
    if (authenticated) authenticated();
  }

  std::string header(const std::string& lower_case_name) const {
    auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Where a streaming response writes its body, chunk by chunk, as the data arrives.
class HttpBodyWriter {
 public:
  virtual ~HttpBodyWriter() = default;
  // Resolves once the chunk is handed to the connection: true, or false when the client is gone
  // (then the stream should end).
  virtual Task<bool> write(std::string chunk) = 0;
};

// A response body produced over time (server-sent events). The server runs it after sending the
// head and closes the connection when it returns.
class HttpBodyStream {
 public:
  virtual ~HttpBodyStream() = default;
  virtual Task<void> run(HttpBodyWriter& out) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<HttpBodyStream> stream;  // set: `body` is ignored and the body is streamed
  // Set, for a WebSocket upgrade request: the server completes the handshake (status and body
  // are ignored) and runs the session on the connection. A request that is not an upgrade gets
  // a 426 instead.
  std::shared_ptr<WebSocketSession> websocket;
  // For the server's log, never sent: what an error answer leaves out (the full error when the
  // client got only a generic message). Empty: nothing to log.
  std::string log_note;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Called on the server's executor; the returned task runs there too.
  virtual Task<HttpResponse> handle(HttpRequest request) = 0;
};

}  // namespace reliant
