// Transport: bidirectional, ordered frame streams with metadata (docs/architecture.md §4).
//
// The daemon dials the gateway; the gateway listens (and dials managed daemons in reverse).
// A stream may break without either side being told (half-open): heartbeats are the caller's
// job. Implementations: gRPC bidi streams (real), simulated streams (latency, reset, half-open).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/time.h"
#include "runtime/task.h"

namespace reliant {

// Sent by the dialer, visible to the acceptor (e.g. "authorization": "Bearer rlnt_pat_…").
using Metadata = std::map<std::string, std::string>;

class Stream {
 public:
  // Destroying a stream closes it.
  virtual ~Stream() = default;

  // Queues one frame for the peer. Fails with `closed` once the stream is closed on this side
  // or known to be closed by the peer. Success does not mean the peer received it.
  virtual Result<void> send(std::string frame) = 0;

  // The next frame, in the order the peer sent them. Fails with `closed` once the stream ended
  // and every frame that arrived before the end was read. One receive at a time.
  virtual Task<Result<std::string>> receive() = 0;

  // Closes this side; the peer is told (unless the link is broken). Idempotent.
  virtual void close() = 0;

  // Called once, on the owner's executor, when the stream ends for any reason this side can see
  // (local close, peer close, reset). Not called for a half-open break that nobody noticed.
  virtual void on_close(std::function<void(const Error&)> callback) = 0;

  // The dialer's metadata (on both sides).
  virtual const Metadata& metadata() const = 0;
  // Who is at the other end ("node:port" in the simulator, "ip:port" for real sockets).
  virtual std::string peer() const = 0;

  // An accepted stream's dialer proved who it is (the gateway checked its token): a transport
  // that keeps unauthenticated connections apart stops counting its connection among them
  // (docs/architecture.md §5). Nothing for a transport that does not.
  virtual void mark_authenticated() {}
};
using StreamPtr = std::unique_ptr<Stream>;

// Stops accepting when destroyed; streams already accepted stay open.
class Listener {
 public:
  virtual ~Listener() = default;
  virtual std::string address() const = 0;
};
using ListenerPtr = std::unique_ptr<Listener>;

// Receives each accepted stream, on the listener owner's executor.
using AcceptHandler = std::function<void(StreamPtr)>;

class Transport {
 public:
  virtual ~Transport() = default;

  // Starts accepting streams on `address`. Fails with `already_exists` when the address is taken
  // and `invalid_argument` when it is malformed.
  virtual Result<ListenerPtr> listen(std::string address, AcceptHandler on_accept) = 0;

  // Opens a stream to `address`. Fails with `unavailable` (nobody listening, connection refused)
  // or `timeout` (no answer within `timeout`, e.g. a partition).
  virtual Task<Result<StreamPtr>> dial(std::string address, Metadata metadata,
                                       Duration timeout) = 0;
};

}  // namespace reliant
