// GrpcStream: the Stream port over one gRPC bidi call — the state both sides of the thread
// boundary share, and the Stream the component holds.
//
// Two worlds meet here. gRPC calls the reactors (grpc_reactors.h) on its own threads; they
// report to a StreamCore, which keeps the call's state under one mutex and starts the next read
// or write itself. The component calls the Stream from its executor's handlers; whatever it
// must learn from gRPC (a frame for a waiting receive, the end of the stream, a dial's outcome)
// reaches it through Executor::hand_over — run by the gRPC thread itself when the executor is
// idle, as one of the executor's handlers, and never beside one. The reactor and the Stream each
// hold the core, so either may go first: the core never calls a reactor after its OnDone (the
// pointer is cleared under the mutex) and never calls the component after the Stream is gone.
#pragma once

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <coroutine>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/transport.h"

namespace reliant::grpc_detail {

// What the core asks of its reactor. Called without the core's mutex (gRPC may finish an
// operation on another thread before the call returns, and that thread's reaction needs the
// mutex), one thread at a time, in the order the core decided them, and only while the
// reactor is alive (before its OnDone).
class RpcOps {
 public:
  virtual ~RpcOps() = default;
  virtual void start_read(grpc::ByteBuffer* into) = 0;
  virtual void start_write(const grpc::ByteBuffer* message) = 0;
  virtual void try_cancel() = 0;
  // Client only: half-close (no more writes), and drop the hold that keeps OnDone away while
  // the core may still start operations from outside a reaction.
  virtual void half_close() = 0;
  virtual void release() = 0;
  // Server only: tell the dialer the stream is accepted, and end the call with a status.
  virtual void send_initial_metadata() = 0;
  virtual void finish(const grpc::Status& status) = 0;
};

enum class RpcSide { client, server };

class StreamCore;

// What receive() awaits. Resumed straight from the executor turn that found its frame (one
// hand-over per frame, not the two a Promise/Future would take: this is the hot path).
// Destroying it while it waits (its frame was cancelled) withdraws it.
class FrameAwaiter {
 public:
  explicit FrameAwaiter(std::shared_ptr<StreamCore> core) : core_(std::move(core)) {}
  FrameAwaiter(const FrameAwaiter&) = delete;
  FrameAwaiter& operator=(const FrameAwaiter&) = delete;
  ~FrameAwaiter();

  bool await_ready();
  bool await_suspend(std::coroutine_handle<> waiter);
  Result<std::string> await_resume();

 private:
  friend class StreamCore;
  std::shared_ptr<StreamCore> core_;
  std::optional<Result<std::string>> result_;
  std::coroutine_handle<> waiter_;
};

// A gRPC status as the Error the component sees (dial failures, unary handler replies).
Error error_of(const grpc::Status& status);
// The status a peer is sent for `error`, with the message it may see (client_message).
grpc::Status status_of(const Error& error);

class StreamCore : public std::enable_shared_from_this<StreamCore> {
 public:
  // Unread frames beyond these bounds pause reading, so a peer that sends faster than the
  // component reads fills gRPC's flow-control window instead of our memory.
  static constexpr std::size_t kArrivalsMax = 1024;
  static constexpr std::size_t kArrivalsBytesMax = 16u << 20;
  // Frames accepted by send() and not yet handed to gRPC; beyond this send() refuses.
  static constexpr std::size_t kOutboxBytesMax = 64u << 20;
  // After close(), how long the peer gets to finish the call before it is cancelled (a peer
  // that went half-open would otherwise keep the call, and its memory, forever).
  static constexpr Duration kCloseGrace = seconds(10);

  // `out_type`: the message type this side sends (for the error a malformed frame gets); a
  // descriptor's name, which lives as long as the program.
  StreamCore(Executor& executor, RpcSide side, std::string_view out_type, Metadata metadata,
             std::string peer, std::size_t message_bytes_max);
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  // ---- gRPC threads (reactors) ----
  // The reactor is ready for operations: reading starts.
  void bind(RpcOps* rpc);
  // Client: the server accepted the stream (its initial metadata arrived) — or did not.
  void on_established(bool ok, std::string peer);
  void on_read_done(bool ok);
  void on_write_done(bool ok);
  void on_cancel();
  // The reactor is about to be deleted; `status` is the call's outcome on the client side.
  void on_done(const grpc::Status* status);

  // ---- the executor's thread ----
  Result<void> send(std::string frame);
  // For FrameAwaiter: the next frame (or the end) if there is one now; else `awaiter` (when
  // given) is registered and false returned.
  bool take_or_wait(FrameAwaiter& awaiter, bool register_if_empty);
  void withdraw(FrameAwaiter& awaiter);
  // Orderly: frames already sent go first, then the peer is told (a server ends the call with
  // `status`; a client can only half-close).
  void close(Error reason, grpc::Status status = grpc::Status::OK);
  void set_on_close(std::function<void(const Error&)> callback);
  // The Stream is gone: close, and never call the component again.
  void detach();
  // Server: the component takes the stream; the dialer's dial() completes.
  void accepted();
  // Client: `promise` gets the outcome of the call's start (established, or why not).
  void await_established(Promise<Result<void>> promise);
  // Ends the call now (a dial that timed out, a transport shutting down, a close the peer did
  // not complete in time): cancelled, or — server only — refused with another `status`.
  // Safe from any thread.
  void abort(const grpc::Status& status = grpc::Status::CANCELLED);

  Executor& executor() const { return executor_; }
  const Metadata& metadata() const { return metadata_; }
  std::string peer() const;

 private:
  struct Queued {
    grpc::ByteBuffer message;
    std::size_t bytes;
  };

  // The gRPC operations pump_locked() decided and no thread has started yet.
  struct PendingOps {
    grpc::ByteBuffer* read = nullptr;
    const grpc::ByteBuffer* write = nullptr;
    bool cancel = false;
    bool initial_metadata = false;
    bool half_close = false;
    bool finish = false;
    bool release = false;
    bool any() const {
      return read != nullptr || write != nullptr || cancel || initial_metadata || half_close ||
             finish || release;
    }
  };

  // Decides the next gRPC operations (under the mutex): see start_pending.
  void pump_locked();
  // Starts the pending operations, and hands over a kick decided under the mutex, with the mutex
  // released — unless another thread is already starting some, which then starts these too (so
  // they reach gRPC in the order decided, the ones a kick run here decided included). Returns
  // with the mutex held.
  void start_pending(std::unique_lock<std::mutex>& lock);
  void pump(std::unique_lock<std::mutex>& lock);
  std::string take_arrival_locked();
  void end_locked(Error reason);
  // Decides a kick: the executor's next handler hands frames, the end and a dial's outcome to
  // the component. start_pending hands it over once the mutex is released: the kick takes the
  // mutex (and a woken executor would find it still held by the gRPC thread and sleep again).
  void kick_locked();
  void kick();
  // The executor's turn after the one that took a frame: reading goes on.
  void resume_reading();
  void arm_close_grace();

  Executor& executor_;
  const RpcSide side_;
  const std::string_view out_type_;  // not a string: a gateway holds thousands of streams
  const Metadata metadata_;
  const std::size_t message_bytes_max_;

  // ---- shared with gRPC threads, under mutex_ ----
  mutable std::mutex mutex_;
  RpcOps* rpc_ = nullptr;    // cleared by on_done
  bool ops_closed_ = false;  // server: Finish called; client: hold released
  bool reading_ = false;
  bool read_deferred_ = false;  // the next read waits for resume_reading (see on_read_done)
  bool read_ended_ = false;
  bool writing_ = false;
  bool write_ended_ = false;  // a write failed, or the local side half-closed
  bool write_failed_ = false;
  bool closing_ = false;      // close() asked for an orderly end
  bool discard_ = false;      // closed locally: frames that still arrive are dropped
  bool established_ = false;  // client: the server accepted the call
  bool rpc_done_ = false;
  PendingOps pending_;
  bool starting_ = false;                      // a thread is in start_pending's loop
  std::optional<grpc::Status> finish_status_;  // server: finish once no write is in flight
  grpc::Status close_status_;                  // server: how an orderly close finishes
  std::optional<Error> ended_;                 // why the wire can carry no more frames
  Error dial_error_{ErrorCode::unavailable, "the call ended before the server accepted it"};
  std::string peer_;
  // Lists, not deques: a deque allocates half a kilobyte up front, and a gateway holds
  // thousands of streams whose queues are empty nearly all the time.
  std::list<Queued> outbox_;
  std::size_t outbox_bytes_ = 0;
  // gRPC's until the operation completes: the frame being written, the one being read.
  grpc::ByteBuffer write_message_;
  grpc::ByteBuffer read_message_;
  std::list<std::string> arrivals_;
  std::size_t arrivals_bytes_ = 0;
  bool receiver_waiting_ = false;
  bool dial_waiting_ = false;
  bool kick_posted_ = false;  // a kick is decided or posted and has not run yet
  bool kick_due_ = false;     // decided, not yet posted

  // ---- the executor's thread only ----
  FrameAwaiter* receiver_ = nullptr;
  Promise<Result<void>> dialer_;
  std::shared_ptr<std::function<void(const Error&)>> on_close_;
  bool close_notified_ = false;
  bool closed_locally_ = false;
  std::optional<Error> close_reason_;
  TimerId close_grace_timer_ = 0;
};

class GrpcStream final : public Stream {
 public:
  // `authenticated`: what mark_authenticated() tells (an accepted stream's connection gate).
  explicit GrpcStream(std::shared_ptr<StreamCore> core, std::function<void()> authenticated = {})
      : core_(std::move(core)), authenticated_(std::move(authenticated)) {}
  ~GrpcStream() override;

  Result<void> send(std::string frame) override;
  Task<Result<std::string>> receive() override;
  void close() override;
  void on_close(std::function<void(const Error&)> callback) override;
  const Metadata& metadata() const override { return core_->metadata(); }
  std::string peer() const override { return core_->peer(); }
  void mark_authenticated() override {
    if (authenticated_) authenticated_();
  }

 private:
  std::shared_ptr<StreamCore> core_;
  std::function<void()> authenticated_;
};

}  // namespace reliant::grpc_detail
