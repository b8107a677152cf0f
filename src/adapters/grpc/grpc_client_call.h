// The dialing side of the tool stream: a client call on a completion queue the transport drives
// from one thread of its own, and the registry of the calls still alive.
//
// Not gRPC's callback API: gRPC 1.51 takes its completions on a pool of at least two threads
// (CompletionQueue::CallbackAlternativeCQ), which take turns polling and wake each other for
// every event. A tools daemon holds one call: here one thread polls and runs each completion
// itself. At sustained load its context switches a tool call fell from 6 to 1.6, and its CPU a
// call by a fifth to a third (tools/bench_tool_path.sh's sustained phase; architecture.md §5).
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/grpc/grpc_address.h"
#include "adapters/grpc/grpc_stream.h"
#include "base/assert.h"

namespace reliant::grpc_detail {

// The client calls still alive. They post to the executor until their last completion, so the
// transport cancels them and waits for the last one before it lets its owner go on.
class CallRegistry {
 public:
  void add(const std::shared_ptr<StreamCore>& core) {
    std::lock_guard lock(mutex_);
    live_.emplace(core.get(), core);
  }
  void remove(StreamCore* core) {
    std::lock_guard lock(mutex_);
    live_.erase(core);
    if (live_.empty()) idle_.notify_all();
  }
  void abort_all() {
    std::vector<std::shared_ptr<StreamCore>> cores;
    {
      std::lock_guard lock(mutex_);
      for (auto& [raw, weak] : live_) {
        if (auto core = weak.lock()) cores.push_back(std::move(core));
      }
    }
    for (auto& core : cores) core->abort();
  }
  bool wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return live_.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::map<StreamCore*, std::weak_ptr<StreamCore>> live_;
};

// Whether the server answered the call with its status alone (a refusal), which gRPC reports as
// initial metadata that arrived. Asked as gRPC's callback API asks it, through the one public
// door to grpc_call_is_trailers_only.
inline bool trailers_only(grpc::ClientContext& context) {
  struct Probe final : grpc::internal::ClientReactor {
    void OnDone(const grpc::Status&) override {}
  };
  return Probe{}.InternalTrailersOnly(context.c_call());
}

// What a completion queue's event names: one operation of one call.
class CallTag {
 public:
  virtual void completed(bool ok) = 0;

 protected:
  ~CallTag() = default;
};

// A completion queue and the one thread that takes its events. Every call holds it, so it goes
// after the last of them; its thread never drops that last hold (calls are deleted on their
// executor).
class CallQueue {
 public:
  CallQueue() : thread_([this] { run(); }) {}
  ~CallQueue() {
    RELIANT_ASSERT_MSG(std::this_thread::get_id() != thread_.get_id(),
                       "a call queue cannot stop from its own thread");
    queue_.Shutdown();
    thread_.join();
  }
  CallQueue(const CallQueue&) = delete;
  CallQueue& operator=(const CallQueue&) = delete;

  grpc::CompletionQueue* queue() { return &queue_; }

 private:
  void run() {
    void* tag = nullptr;
    bool ok = false;
    while (queue_.Next(&tag, &ok)) static_cast<CallTag*>(tag)->completed(ok);
  }

  grpc::CompletionQueue queue_;
  std::thread thread_;  // last: it starts once the queue exists
};

// One bidi call of raw messages (grpc_bytes.h). The core decides the operations (RpcOps, one
// thread at a time); the queue's thread reports their completions to it. Reads, writes, the
// initial metadata and the status each have a tag of their own, as gRPC allows one operation of
// each kind in flight. The call is over — the core told, the call deleted — once its status
// arrived, the core released it (it starts nothing more) and no operation is in flight.
class ClientStreamCall final : public RpcOps {
 public:
  // `method`: the call's full name, "/package.Service/Method".
  static void start(std::shared_ptr<CallQueue> queue, const std::shared_ptr<grpc::Channel>& channel,
                    const std::string& method, std::shared_ptr<StreamCore> core,
                    const Metadata& metadata, std::shared_ptr<CallRegistry> registry) {
    registry->add(core);
    auto* call =
        new ClientStreamCall(std::move(queue), channel, std::move(core), std::move(registry));
    for (const auto& [key, value] : metadata) call->context_.AddMetadata(key, value);
    call->stream_ = call->client_.PrepareCall(&call->context_, method, call->queue_->queue());
    call->in_flight_ = 3;  // the start, the initial metadata and the status, begun here
    call->stream_->StartCall(&call->started_tag_);
    // Before any read, which would otherwise ask for the metadata itself.
    call->stream_->ReadInitialMetadata(&call->metadata_read_tag_);
    call->stream_->Finish(&call->status_, &call->finished_tag_);
    call->core_->bind(call);
  }

  void start_read(grpc::ByteBuffer* into) override {
    begin();
    stream_->Read(into, &read_tag_);
  }
  void start_write(const grpc::ByteBuffer* message) override { use_write_slot(message); }
  void half_close() override { use_write_slot(nullptr); }
  void try_cancel() override { context_.TryCancel(); }
  void release() override {
    std::unique_lock lock(mutex_);
    released_ = true;
    finish_if_over(lock);
  }
  void send_initial_metadata() override { RELIANT_ASSERT_MSG(false, "client calls send none"); }
  void finish(const grpc::Status&) override { RELIANT_ASSERT_MSG(false, "clients do not finish"); }

 private:
  enum class Op { started, metadata_read, read, written, writes_done, finished };

  class Tag final : public CallTag {
   public:
    Tag(ClientStreamCall* call, Op op) : call_(call), op_(op) {}
    void completed(bool ok) override { call_->completed(op_, ok); }

   private:
    ClientStreamCall* call_;
    Op op_;
  };

  ClientStreamCall(std::shared_ptr<CallQueue> queue, const std::shared_ptr<grpc::Channel>& channel,
                   std::shared_ptr<StreamCore> core, std::shared_ptr<CallRegistry> registry)
      : queue_(std::move(queue)),
        registry_(std::move(registry)),
        client_(channel),
        core_(std::move(core)) {}

  void begin() {
    std::lock_guard lock(mutex_);
    ++in_flight_;
  }

  // A write of `message`, or the half-close when it is null: the two share gRPC's write slot,
  // which the start holds until it completes; meanwhile the operation waits for start_waiting.
  // The core asks for one at a time (it half-closes once no write is in flight).
  void use_write_slot(const grpc::ByteBuffer* message) {
    {
      std::lock_guard lock(mutex_);
      if (!started_) {
        RELIANT_ASSERT(!slot_waiting_);
        slot_waiting_ = true;
        write_waiting_ = message;
        return;
      }
      ++in_flight_;
    }
    write_or_close(message);
  }
  void write_or_close(const grpc::ByteBuffer* message) {
    if (message != nullptr) {
      stream_->Write(*message, &written_tag_);
    } else {
      stream_->WritesDone(&writes_done_tag_);
    }
  }

  void completed(Op op, bool ok) {
    switch (op) {
      case Op::started:
        start_waiting();
        break;
      case Op::metadata_read:
        ok = ok && !trailers_only(context_);
        core_->on_established(ok, ok ? peer_address(context_.peer()) : std::string());
        break;
      case Op::read:
        core_->on_read_done(ok);
        break;
      case Op::written:
        core_->on_write_done(ok);
        break;
      case Op::writes_done:
        break;
      case Op::finished: {
        std::lock_guard lock(mutex_);
        status_arrived_ = true;
        break;
      }
    }
    std::unique_lock lock(mutex_);
    --in_flight_;
    finish_if_over(lock);
  }

  // The start completed: what the core asked for meanwhile goes now (a failed start fails it).
  void start_waiting() {
    const grpc::ByteBuffer* waiting = nullptr;
    {
      std::lock_guard lock(mutex_);
      started_ = true;
      if (!std::exchange(slot_waiting_, false)) return;
      waiting = std::exchange(write_waiting_, nullptr);
      ++in_flight_;
    }
    write_or_close(waiting);
  }

  void finish_if_over(std::unique_lock<std::mutex>& lock) {
    if (!status_arrived_ || !released_ || in_flight_ != 0 || over_) return;
    over_ = true;
    lock.unlock();
    core_->on_done(&status_);
    // Deleted on the executor's thread: the last reference to a channel must not go on the
    // queue's thread, which a channel's end may wait for (and the queue's end joins it).
    std::shared_ptr<CallRegistry> registry = registry_;
    StreamCore* key = core_.get();
    core_->executor().post([doomed = std::shared_ptr<ClientStreamCall>(this)] {});
    registry->remove(key);
  }

  const std::shared_ptr<CallQueue> queue_;  // first: it outlives the call's stream
  std::shared_ptr<CallRegistry> registry_;
  grpc::GenericStub client_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream_;
  std::shared_ptr<StreamCore> core_;
  grpc::Status status_;
  Tag started_tag_{this, Op::started};
  Tag metadata_read_tag_{this, Op::metadata_read};
  Tag read_tag_{this, Op::read};
  Tag written_tag_{this, Op::written};
  Tag writes_done_tag_{this, Op::writes_done};
  Tag finished_tag_{this, Op::finished};

  std::mutex mutex_;
  int in_flight_ = 0;  // operations begun and not yet completed
  bool started_ = false;
  bool slot_waiting_ = false;                        // asked for before the start…
  const grpc::ByteBuffer* write_waiting_ = nullptr;  // …a write; null: the half-close
  bool status_arrived_ = false;
  bool released_ = false;
  bool over_ = false;
};

}  // namespace reliant::grpc_detail
