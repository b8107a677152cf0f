// RPC as a port: the api component answers gRPC calls without touching gRPC
// (docs/architecture.md §2). The gRPC adapter (adapters/grpc/grpc_rpc_server.h) receives calls and
// writes answers as serialized protobuf bytes; a test or the simulator can call a handler directly.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"
#include "runtime/task.h"

namespace reliant {

struct RpcCall {
  std::string method;                           // "/reliant.api.v1.ChatService/SendMessage"
  std::map<std::string, std::string> metadata;  // the caller's, keys in lower case
  std::string request;                          // the serialized request message
  std::string peer;                             // "ip:port"
};

// Where a server-streaming call writes its messages, one at a time.
class RpcWriter {
 public:
  virtual ~RpcWriter() = default;
  // Resolves once the message is handed to the connection: true; false when the client is
  // gone or cancelled (then the handler should return). One write at a time.
  virtual Task<bool> write(std::string message_bytes) = 0;
};

// Serves the calls; everything here is called, and every task runs, on the server's executor.
class RpcHandler {
 public:
  virtual ~RpcHandler() = default;
  // Whether `method` exists at all (others are answered UNIMPLEMENTED without a call), and
  // whether it answers with a stream of messages rather than one.
  virtual bool knows(std::string_view method) const = 0;
  virtual bool is_server_streaming(std::string_view method) const = 0;
  // The serialized response, or an Error that becomes the call's status (invalid_argument →
  // INVALID_ARGUMENT, not_found → NOT_FOUND, …). The task runs to the end even when the
  // client cancels meanwhile (its answer is then dropped); only the server's shutdown
  // destroys it.
  virtual Task<Result<std::string>> unary(RpcCall call) = 0;
  // Writes the stream; returning ends the call (an Error becomes its status). When the client
  // cancels, writes return false and the task is destroyed soon after (Task cancellation), so
  // a stream that waits for something to write ends promptly too.
  virtual Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) = 0;
};

}  // namespace reliant
