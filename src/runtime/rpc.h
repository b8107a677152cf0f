// RPC as a port: the api component answers gRPC calls without touching gRPC
// (docs/architecture.md §2). The gRPC adapter (adapters/grpc/grpc_rpc_server.h) receives calls and
// writes answers as serialized protobuf bytes; a test or the simulator can call a handler directly.
#pragma once

#include <functional>
#include <map>
#include <optional>
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
  // Set by a server that keeps unauthenticated connections apart (GrpcRpcServer): the handler
  // calls it once the call carried a valid credential, and the call's connection leaves the
  // pool of unauthenticated ones (docs/architecture.md §5). Unset in tests and the simulator.
  std::function<void()> authenticated;

  void mark_authenticated() const {
    if (authenticated) authenticated();
  }
};

// Where a server-streaming call writes its messages, one at a time.
class RpcWriter {
 public:
  virtual ~RpcWriter() = default;
  // Resolves once the message is handed to the connection: true; false when the client is
  // gone or cancelled (then the handler should return). One write at a time.
  virtual Task<bool> write(std::string message_bytes) = 0;
};

// Where a bidirectional-streaming call reads the client's messages, one at a time.
class RpcReader {
 public:
  virtual ~RpcReader() = default;
  // The next message; nullopt once the client has finished sending (or is gone). One read at a
  // time; a read may wait while a write is in flight, and the other way round.
  virtual Task<std::optional<std::string>> read() = 0;
};

// Serves the calls; everything here is called, and every task runs, on the server's executor.
class RpcHandler {
 public:
  virtual ~RpcHandler() = default;
  // Whether `method` exists at all (others are answered UNIMPLEMENTED without a call), and
  // whether it answers with a stream of messages rather than one.
  virtual bool knows(std::string_view method) const = 0;
  virtual bool is_server_streaming(std::string_view method) const = 0;
  // Whether the client streams messages too. Such a call reaches the handler once the client's
  // first message arrives; the handler reads every message, that first one included, from its
  // RpcReader.
  virtual bool is_bidi_streaming(std::string_view /*method*/) const { return false; }
  // The serialized response, or an Error that becomes the call's status (invalid_argument →
  // INVALID_ARGUMENT, not_found → NOT_FOUND, …). The task runs to the end even when the
  // client cancels meanwhile (its answer is then dropped); only the server's shutdown
  // destroys it.
  virtual Task<Result<std::string>> unary(RpcCall call) = 0;
  // Writes the stream; returning ends the call (an Error becomes its status). When the client
  // cancels, writes return false and the task is destroyed soon after (Task cancellation), so
  // a stream that waits for something to write ends promptly too.
  virtual Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) = 0;
  // Reads and writes until done; returning ends the call (an Error becomes its status). When the
  // client cancels, reads end, writes return false, and the task is destroyed soon after.
  // `call.request` is empty: the first message is the first `in.read()`.
  virtual Task<Result<void>> bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out);
};

inline Task<Result<void>> RpcHandler::bidi_stream(RpcCall call, RpcReader&, RpcWriter&) {
  co_return fail(ErrorCode::not_found, "no bidirectional method " + call.method);
}

}  // namespace reliant
