// WebSocket as a port: a handler that accepts an upgrade answers with a WebSocketSession
// (HttpResponse::websocket), and the HTTP adapter completes the handshake and runs it over the
// connection. A test runs a session on an in-memory WebSocket.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/task.h"

namespace reliant {

struct WebSocketMessage {
  std::string data;
  bool binary = false;  // a binary frame; else text (UTF-8)
};

class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // The next whole message. Fails with `closed` once the peer closed or the connection broke,
  // and with `resource_exhausted` for a message over the adapter's size limit (then closed).
  // One read at a time.
  virtual Task<Result<WebSocketMessage>> read() = 0;
  // Queues a message; resolves once it is handed to the connection: true, or false when the
  // peer is gone. Writes go out in the order they were made.
  virtual Task<bool> write(WebSocketMessage message) = 0;
  // Sends a close frame with `reason` (after what was written before); later writes fail.
  virtual void close(std::string reason) = 0;
};

// What runs over an accepted WebSocket connection. The connection closes when run() returns.
class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  virtual Task<void> run(WebSocket& socket) = 0;
};

}  // namespace reliant
