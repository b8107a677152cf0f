// StreamCore: one gRPC bidi call's state machine — at most one read and one write in flight,
// an orderly close, and every hand-over to the component posted to its executor.
#include "adapters/grpc/grpc_stream.h"

#include <utility>

#include "adapters/grpc/grpc_bytes.h"
#include "base/assert.h"

namespace reliant::grpc_detail {
namespace {

std::string code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "code " + std::to_string(static_cast<int>(code));
  }
}

// How a client learns its call ended: the status the server (or gRPC) gave.
Error end_reason(const grpc::Status& status) {
  if (status.ok()) return Error{ErrorCode::closed, "the peer closed the stream"};
  return Error{ErrorCode::closed,
               "stream ended: " + code_name(status.error_code()) + ": " + status.error_message()};
}

Task<Result<std::string>> receive_frame(std::shared_ptr<StreamCore> core) {
  FrameAwaiter next(std::move(core));
  Result<std::string> frame = co_await next;
  co_return frame;
}

}  // namespace

Error error_of(const grpc::Status& status) {
  ErrorCode code = ErrorCode::internal;
  switch (status.error_code()) {
    case grpc::StatusCode::CANCELLED:
      code = ErrorCode::cancelled;
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      code = ErrorCode::invalid_argument;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      code = ErrorCode::timeout;
      break;
    case grpc::StatusCode::NOT_FOUND:
      code = ErrorCode::not_found;
      break;
    case grpc::StatusCode::ALREADY_EXISTS:
      code = ErrorCode::already_exists;
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
      code = ErrorCode::permission_denied;
      break;
    case grpc::StatusCode::UNAUTHENTICATED:
      code = ErrorCode::unauthenticated;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      code = ErrorCode::resource_exhausted;
      break;
    case grpc::StatusCode::FAILED_PRECONDITION:
      code = ErrorCode::failed_precondition;
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      code = ErrorCode::unimplemented;
      break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::ABORTED:
      code = ErrorCode::unavailable;
      break;
    default:
      break;
  }
  std::string message = status.error_message();
  if (message.empty()) message = code_name(status.error_code());
  return Error{code, std::move(message)};
}

grpc::Status status_of(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.code) {
    case ErrorCode::invalid_argument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCode::not_found:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case ErrorCode::already_exists:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case ErrorCode::unavailable:
    case ErrorCode::no_responders:
    case ErrorCode::closed:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorCode::timeout:
      code = grpc::StatusCode::DEADLINE_EXCEEDED;
      break;
    case ErrorCode::cancelled:
      code = grpc::StatusCode::CANCELLED;
      break;
    case ErrorCode::unauthenticated:
      code = grpc::StatusCode::UNAUTHENTICATED;
      break;
    case ErrorCode::permission_denied:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    case ErrorCode::resource_exhausted:
      code = grpc::StatusCode::RESOURCE_EXHAUSTED;
      break;
    case ErrorCode::failed_precondition:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case ErrorCode::outcome_unknown:
      code = grpc::StatusCode::UNKNOWN;
      break;
    case ErrorCode::internal:
      break;
    case ErrorCode::unimplemented:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
  }
  // Never a database's text or an internal failure's detail: those are for the server's log.
  return grpc::Status(code, client_message(error));
}

StreamCore::StreamCore(Executor& executor, RpcSide side, std::string_view out_type,
                       Metadata metadata, std::string peer, std::size_t message_bytes_max)
    : executor_(executor),
      side_(side),
      out_type_(out_type),
      metadata_(std::move(metadata)),
      message_bytes_max_(message_bytes_max),
      peer_(std::move(peer)) {}

// ---- gRPC threads ----

void StreamCore::bind(RpcOps* rpc) {
  RELIANT_ASSERT(rpc != nullptr);
  std::unique_lock lock(mutex_);
  RELIANT_ASSERT(rpc_ == nullptr && !rpc_done_);
  rpc_ = rpc;
  pump(lock);
}

void StreamCore::on_established(bool ok, std::string peer) {
  std::unique_lock lock(mutex_);
  if (ok) {
    established_ = true;
    peer_ = std::move(peer);
  }
  if (dial_waiting_) kick_locked();
  start_pending(lock);
}

void StreamCore::on_read_done(bool ok) {
  // The buffer is ours until the next start_read, which only this path triggers.
  std::string frame;
  if (ok) {
    frame = bytes_of(read_message_);
    read_message_.Clear();
  }
  std::unique_lock lock(mutex_);
  reading_ = false;
  if (!ok) {
    read_ended_ = true;
    // A server's read fails when the client half-closed (or the call died: on_cancel says so).
    // A client learns why from the status, in on_done.
    if (side_ == RpcSide::server) {
      end_locked(Error{ErrorCode::closed, "the peer closed the stream"});
      if (!finish_status_) finish_status_ = grpc::Status::OK;
    }
  } else if (!discard_ && !ended_) {
    arrivals_bytes_ += frame.size();
    arrivals_.push_back(std::move(frame));
    // A receiver waits: the executor takes this frame at once, and the next read starts after
    // the executor has acted on it — after the answer it may write. gRPC 1.51 announces the
    // stream's flow-control window as soon as a read starts after a message, in a write of its
    // own unless a write is being made: a read started here, before the answer, cost one more
    // TCP segment per frame, and the peer one more wake-up (measured: 2.4 segments per tool
    // call each way; the bare gRPC ping-pong, which starts its read after its write, sends 1).
    // With frames queued (a busy executor) reading goes on here, as fast as gRPC delivers.
    read_deferred_ = receiver_waiting_;
    if (receiver_waiting_) kick_locked();
  }
  pump(lock);
}

void StreamCore::on_write_done(bool ok) {
  std::unique_lock lock(mutex_);
  writing_ = false;
  write_message_.Clear();  // gRPC is done with it: a stream idle after a large frame holds none
  if (!ok) {
    // The call is dead for writing. A client may still read what the server sent before it
    // ended (so reading goes on, past the bound, to reach the end); a server's call is over.
    write_ended_ = true;
    write_failed_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    if (side_ == RpcSide::server) {
      end_locked(Error{ErrorCode::closed, "stream broken: a write failed"});
      if (!finish_status_) finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "broken");
    }
  }
  pump(lock);
}

void StreamCore::on_cancel() {
  std::unique_lock lock(mutex_);
  end_locked(
      Error{ErrorCode::closed, "stream reset: cancelled by the peer, or the connection was lost"});
  if (!finish_status_) finish_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  pump(lock);
}

void StreamCore::on_done(const grpc::Status* status) {
  std::unique_lock lock(mutex_);
  RELIANT_ASSERT_MSG(!pending_.any(), "an operation was decided after the call's last one");
  rpc_ = nullptr;
  rpc_done_ = true;
  if (status != nullptr) {
    if (!established_) dial_error_ = error_of(*status);
    end_locked(end_reason(*status));
  } else {
    end_locked(Error{ErrorCode::closed, "stream ended"});
  }
  kick_locked();  // also lets the executor drop the close grace timer
  start_pending(lock);
}

// ---- the executor's thread ----

Result<void> StreamCore::send(std::string frame) {
  if (closed_locally_) return fail(ErrorCode::closed, "stream closed");
  if (frame.size() > message_bytes_max_) {
    return fail(ErrorCode::resource_exhausted,
                "frame of " + std::to_string(frame.size()) + " bytes exceeds the " +
                    std::to_string(message_bytes_max_) + "-byte message limit");
  }
  // The frame goes to gRPC as it is: a component's bug that makes a frame no message at all is
  // caught here, and what the fields hold is checked by the peer that decodes them.
  if (!well_formed_message(frame)) {
    Error error{ErrorCode::invalid_argument, "frame of " + std::to_string(frame.size()) +
                                                 " bytes is not a valid " + std::string(out_type_) +
                                                 ": stream closed"};
    close(error, status_of(error));
    return fail(std::move(error));
  }
  const std::size_t bytes = frame.size();
  grpc::ByteBuffer message = buffer_of(std::move(frame));  // before the lock: it allocates
  std::unique_lock lock(mutex_);
  if (ended_) return fail(*ended_);
  if (write_ended_) return fail(ErrorCode::closed, "stream closed: the connection broke");
  if (outbox_bytes_ + bytes > kOutboxBytesMax) {
    return fail(ErrorCode::resource_exhausted,
                "stream send queue full (" + std::to_string(outbox_bytes_) +
                    " bytes not yet written): the peer is not reading");
  }
  outbox_bytes_ += bytes;
  // Swapped, not copied: ByteBuffer has no move, and a copy allocates gRPC's buffer again.
  outbox_.emplace_back().message.Swap(&message);
  outbox_.back().bytes = bytes;
  pump(lock);
  return {};
}

bool StreamCore::take_or_wait(FrameAwaiter& awaiter, bool register_if_empty) {
  std::unique_lock lock(mutex_);
  if (!arrivals_.empty()) {
    awaiter.result_ = take_arrival_locked();
    start_pending(lock);
  } else if (closed_locally_) {
    awaiter.result_ = fail(ErrorCode::closed, "stream closed");
  } else if (ended_) {
    awaiter.result_ = fail(*ended_);
  } else {
    if (register_if_empty) {
      RELIANT_ASSERT_MSG(receiver_ == nullptr, "one receive at a time");
      receiver_ = &awaiter;
      receiver_waiting_ = true;
    }
    return false;
  }
  return true;
}

void StreamCore::withdraw(FrameAwaiter& awaiter) {
  if (receiver_ != &awaiter) return;
  receiver_ = nullptr;
  std::lock_guard lock(mutex_);
  receiver_waiting_ = false;
}

void StreamCore::close(Error reason, grpc::Status status) {
  if (closed_locally_) return;
  closed_locally_ = true;
  bool rpc_alive = false;
  {
    std::unique_lock lock(mutex_);
    close_reason_ = ended_ ? *ended_ : reason;
    close_status_ = std::move(status);
    discard_ = true;
    arrivals_.clear();
    arrivals_bytes_ = 0;
    closing_ = true;
    rpc_alive = rpc_ != nullptr;
    // A waiting receive and on_close run from a fresh executor turn, never inside close().
    if (receiver_waiting_ || (on_close_ && !close_notified_)) kick_locked();
    pump(lock);
  }
  if (rpc_alive) arm_close_grace();
}

void StreamCore::set_on_close(std::function<void(const Error&)> callback) {
  on_close_ = std::make_shared<std::function<void(const Error&)>>(std::move(callback));
  std::unique_lock lock(mutex_);
  if ((ended_ || closed_locally_) && !close_notified_) kick_locked();
  start_pending(lock);
}

void StreamCore::detach() {
  close(Error{ErrorCode::closed, "stream closed"});
  on_close_.reset();
}

void StreamCore::accepted() {
  std::unique_lock lock(mutex_);
  if (rpc_ == nullptr || ops_closed_) return;
  pending_.initial_metadata = true;
  start_pending(lock);
}

void StreamCore::await_established(Promise<Result<void>> promise) {
  std::optional<Result<void>> now;
  {
    std::lock_guard lock(mutex_);
    if (established_) {
      now = Result<void>{};
    } else if (rpc_done_) {
      now = fail(dial_error_);
    } else {
      dial_waiting_ = true;
      dialer_ = std::move(promise);
      return;
    }
  }
  promise.set(std::move(*now));
}

void StreamCore::abort(const grpc::Status& status) {
  std::unique_lock lock(mutex_);
  if (rpc_ == nullptr) return;
  discard_ = true;
  arrivals_.clear();
  arrivals_bytes_ = 0;
  const bool cancel = status.error_code() == grpc::StatusCode::CANCELLED;
  if (side_ == RpcSide::server) {
    end_locked(Error{ErrorCode::closed, "stream cancelled"});
    if (!finish_status_) finish_status_ = status;
  } else {
    write_ended_ = true;
    outbox_.clear();
    outbox_bytes_ = 0;
    // With no read in flight nothing would ever report the end: stop reading now.
    if (!reading_) read_ended_ = true;
  }
  // A refusal is a status the dialer should see; a cancel overrides any status.
  // Once the last operation is decided, gRPC may delete the reactor any moment: no cancel then
  // (nor any need for one — the call is ending).
  if ((cancel || side_ == RpcSide::client) && !ops_closed_) pending_.cancel = true;
  pump(lock);
}

std::string StreamCore::peer() const {
  std::lock_guard lock(mutex_);
  return peer_;
}

// ---- internals ----

void StreamCore::pump_locked() {
  if (rpc_ == nullptr || ops_closed_) return;
  const bool room = arrivals_.size() < kArrivalsMax && arrivals_bytes_ < kArrivalsBytesMax;
  if (!reading_ && !read_ended_ && ((room && !read_deferred_) || discard_ || write_failed_)) {
    reading_ = true;
    pending_.read = &read_message_;
  }
  if (!writing_ && !write_ended_ && !outbox_.empty()) {
    write_message_.Clear();
    write_message_.Swap(&outbox_.front().message);
    outbox_bytes_ -= outbox_.front().bytes;
    outbox_.pop_front();
    writing_ = true;
    pending_.write = &write_message_;
  }
  if (closing_ && !writing_ && outbox_.empty() && !write_ended_) {
    // Everything sent before close() is on its way: now the peer may be told.
    write_ended_ = true;
    if (side_ == RpcSide::client) {
      pending_.half_close = true;
    } else if (!finish_status_) {
      finish_status_ = close_status_;
    }
  }
  if (side_ == RpcSide::server) {
    // gRPC wants no write in flight when the call is finished.
    if (finish_status_ && !writing_) {
      ops_closed_ = true;
      pending_.finish = true;
    }
  } else if (read_ended_ && !writing_) {
    // The server ended the call (or it was cancelled): nothing more will be started from
    // outside a reaction, so gRPC may call OnDone once its own operations are over.
    ops_closed_ = true;
    pending_.release = true;
  }
}

void StreamCore::pump(std::unique_lock<std::mutex>& lock) {
  pump_locked();
  start_pending(lock);
}

void StreamCore::start_pending(std::unique_lock<std::mutex>& lock) {
  if (starting_) return;
  starting_ = true;
  while (pending_.any() || kick_due_) {
    // Within one batch the order is fixed, and it is the order the core needs: the kick first
    // (the executor is the critical path), a cancel before the finish it precedes, the initial
    // metadata before the first write, a read after the write, and the finish or release —
    // after which gRPC may delete the reactor — last of all.
    const PendingOps ops = std::exchange(pending_, {});
    const bool kick_due = std::exchange(kick_due_, false);
    RpcOps* rpc = rpc_;
    std::optional<grpc::Status> finish_status;
    if (ops.finish) finish_status = *finish_status_;
    lock.unlock();
    if (kick_due) executor_.hand_over([self = shared_from_this()] { self->kick(); });
    if (ops.cancel) rpc->try_cancel();
    if (ops.initial_metadata) rpc->send_initial_metadata();
    if (ops.write != nullptr) rpc->start_write(ops.write);
    if (ops.read != nullptr) rpc->start_read(ops.read);  // after the write: see on_read_done
    if (ops.half_close) rpc->half_close();
    if (finish_status) rpc->finish(*finish_status);
    if (ops.release) rpc->release();
    lock.lock();
  }
  starting_ = false;
}

std::string StreamCore::take_arrival_locked() {
  std::string frame = std::move(arrivals_.front());
  arrivals_.pop_front();
  arrivals_bytes_ -= frame.size();
  pump_locked();  // reading may have paused at the bound
  return frame;
}

void StreamCore::end_locked(Error reason) {
  if (ended_) return;
  ended_ = std::move(reason);
  outbox_.clear();
  outbox_bytes_ = 0;
  kick_locked();
}

void StreamCore::kick_locked() {
  if (kick_posted_) return;
  kick_posted_ = true;
  kick_due_ = true;
}

void StreamCore::kick() {
  FrameAwaiter* receiver = nullptr;
  Promise<Result<void>> dialer;
  std::optional<Result<void>> dial_result;
  bool rpc_done = false;
  bool read_deferred = false;
  {
    std::unique_lock lock(mutex_);
    kick_posted_ = false;
    if (receiver_waiting_) {
      if (!arrivals_.empty()) {
        receiver_->result_ = take_arrival_locked();
      } else if (closed_locally_) {
        receiver_->result_ = fail(ErrorCode::closed, "stream closed");
      } else if (ended_) {
        receiver_->result_ = fail(*ended_);
      }
      if (receiver_->result_) {
        receiver_waiting_ = false;
        receiver = std::exchange(receiver_, nullptr);
      }
    }
    if (dial_waiting_ && (established_ || rpc_done_)) {
      dial_waiting_ = false;
      dialer = std::move(dialer_);
      dial_result = established_ ? Result<void>{} : Result<void>(fail(dial_error_));
    }
    rpc_done = rpc_done_;
    // Only resume_reading, on this thread, clears it, and no frame arrives meanwhile.
    read_deferred = read_deferred_;
    start_pending(lock);  // taking a frame may have resumed reading
  }
  if (rpc_done && close_grace_timer_ != 0) {
    executor_.cancel(close_grace_timer_);
    close_grace_timer_ = 0;
  }
  if (dial_result) dialer.set(std::move(*dial_result));
  // The frame first, then the end. The resumed component may close or destroy the stream
  // meanwhile: what on_close needs is read afterwards.
  if (receiver != nullptr) receiver->waiter_.resume();
  // Reading goes on from the turn after the ones the frame started (a tool that answers at
  // once has written by then): see on_read_done.
  if (read_deferred) executor_.post([self = shared_from_this()] { self->resume_reading(); });
  std::shared_ptr<std::function<void(const Error&)>> notify;
  std::optional<Error> reason;
  {
    std::lock_guard lock(mutex_);
    if (on_close_ && !close_notified_ && (closed_locally_ || ended_)) {
      close_notified_ = true;
      notify = on_close_;
      reason = closed_locally_ ? *close_reason_ : *ended_;
    }
  }
  // The callback may destroy the Stream (and so clear on_close_): `notify` keeps it alive.
  if (notify) (*notify)(*reason);
}

void StreamCore::resume_reading() {
  std::unique_lock lock(mutex_);
  if (!read_deferred_) return;
  read_deferred_ = false;
  pump(lock);
}

void StreamCore::arm_close_grace() {
  if (close_grace_timer_ != 0) return;
  close_grace_timer_ = executor_.after(kCloseGrace, [weak = weak_from_this()] {
    if (auto core = weak.lock()) {
      core->close_grace_timer_ = 0;
      core->abort();
    }
  });
}

// ---- FrameAwaiter ----

FrameAwaiter::~FrameAwaiter() {
  if (waiter_) core_->withdraw(*this);
}

bool FrameAwaiter::await_ready() { return core_->take_or_wait(*this, false); }

bool FrameAwaiter::await_suspend(std::coroutine_handle<> waiter) {
  waiter_ = waiter;
  if (core_->take_or_wait(*this, true)) {
    waiter_ = {};
    return false;  // arrived in between: go on without suspending
  }
  return true;
}

Result<std::string> FrameAwaiter::await_resume() {
  RELIANT_ASSERT(result_.has_value());
  waiter_ = {};
  return std::move(*result_);
}

// ---- GrpcStream ----

GrpcStream::~GrpcStream() { core_->detach(); }

Result<void> GrpcStream::send(std::string frame) { return core_->send(std::move(frame)); }

Task<Result<std::string>> GrpcStream::receive() { return receive_frame(core_); }

void GrpcStream::close() { core_->close(Error{ErrorCode::closed, "stream closed"}); }

void GrpcStream::on_close(std::function<void(const Error&)> callback) {
  core_->set_on_close(std::move(callback));
}

}  // namespace reliant::grpc_detail
