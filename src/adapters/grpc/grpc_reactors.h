// gRPC callback reactors for the tool stream: they translate gRPC's callbacks into StreamCore
// calls and StreamCore's requests into gRPC operations, and own nothing else.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "adapters/grpc/grpc_address.h"
#include "adapters/grpc/grpc_stream.h"
#include "base/assert.h"
#include "reliant/daemon/v1/daemon.grpc.pb.h"

namespace reliant::grpc_detail {

// Defined in grpc_transport.cc, shared with the RPC server (grpc_rpc_server.cc):
// The dialer's metadata as the component sees it: without HTTP/2 pseudo-headers and gRPC's own.
Metadata client_metadata(const grpc::CallbackServerContext& context);
// A PEM file's text (`what` names it in errors); invalid_argument when unreadable or not PEM.
Result<std::string> read_pem(const std::string& path, const char* what);

// The client calls still alive. Their reactors post to the executor until their OnDone, so the
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

// The dialing side: sends Out, receives In.
template <class Out, class In>
class ClientStreamReactor final : public grpc::ClientBidiReactor<Out, In>, public RpcOps {
 public:
  using Stub = daemon::v1::ToolsDaemonService::Stub;
  using StartRpc = void (*)(Stub::async_interface*, grpc::ClientContext*,
                            grpc::ClientBidiReactor<Out, In>*);

  // Starts the call; the reactor is deleted (on the executor's thread) once gRPC is done with it.
  static void start(const std::shared_ptr<grpc::Channel>& channel, StartRpc rpc,
                    std::shared_ptr<StreamCore> core, const Metadata& metadata,
                    std::shared_ptr<CallRegistry> registry) {
    registry->add(core);
    auto* reactor = new ClientStreamReactor(channel, std::move(core), std::move(registry));
    for (const auto& [key, value] : metadata) reactor->context_.AddMetadata(key, value);
    rpc(reactor->stub_->async(), &reactor->context_, reactor);
    // The core starts reads and writes from the executor's thread too: that needs a hold.
    reactor->AddHold();
    reactor->core_->bind(reactor);
    reactor->StartCall();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    core_->on_established(ok, ok ? peer_address(context_.peer()) : std::string());
  }
  void OnReadDone(bool ok) override { core_->on_read_done(ok); }
  void OnWriteDone(bool ok) override { core_->on_write_done(ok); }
  void OnDone(const grpc::Status& status) override {
    core_->on_done(&status);
    // Not deleted here: the context and stub hold the channel, and dropping the last reference
    // to a channel on one of gRPC's callback threads makes gRPC join that very thread and
    // crash (grpc/grpc#32584). The executor's thread lets go of it instead.
    std::shared_ptr<CallRegistry> registry = registry_;
    StreamCore* key = core_.get();
    core_->executor().post([doomed = std::shared_ptr<ClientStreamReactor>(this)] {});
    // Nothing of ours runs on gRPC's threads for this call any more.
    registry->remove(key);
  }

  void start_read(google::protobuf::Message* into) override {
    this->StartRead(static_cast<In*>(into));
  }
  void start_write(const google::protobuf::Message* message) override {
    this->StartWrite(static_cast<const Out*>(message));
  }
  void try_cancel() override { context_.TryCancel(); }
  void half_close() override { this->StartWritesDone(); }
  void release() override { this->RemoveHold(); }
  void send_initial_metadata() override { RELIANT_ASSERT_MSG(false, "client calls send none"); }
  void finish(const grpc::Status&) override { RELIANT_ASSERT_MSG(false, "clients do not finish"); }

 private:
  ClientStreamReactor(const std::shared_ptr<grpc::Channel>& channel,
                      std::shared_ptr<StreamCore> core, std::shared_ptr<CallRegistry> registry)
      : registry_(std::move(registry)),
        stub_(daemon::v1::ToolsDaemonService::NewStub(channel)),
        core_(std::move(core)) {}

  std::shared_ptr<CallRegistry> registry_;
  std::unique_ptr<Stub> stub_;
  grpc::ClientContext context_;
  std::shared_ptr<StreamCore> core_;
};

// The accepting side: receives In, sends Out. `done` runs after the reactor is gone.
template <class In, class Out>
class ServerStreamReactor final : public grpc::ServerBidiReactor<In, Out>, public RpcOps {
 public:
  ServerStreamReactor(grpc::CallbackServerContext* context, std::shared_ptr<StreamCore> core,
                      std::function<void()> done)
      : context_(context), core_(std::move(core)), done_(std::move(done)) {
    core_->bind(this);
  }

  void OnReadDone(bool ok) override { core_->on_read_done(ok); }
  void OnWriteDone(bool ok) override { core_->on_write_done(ok); }
  void OnCancel() override { core_->on_cancel(); }
  void OnDone() override {
    core_->on_done(nullptr);
    auto done = std::move(done_);
    delete this;
    if (done) done();
  }

  void start_read(google::protobuf::Message* into) override {
    this->StartRead(static_cast<In*>(into));
  }
  void start_write(const google::protobuf::Message* message) override {
    this->StartWrite(static_cast<const Out*>(message));
  }
  void try_cancel() override { context_->TryCancel(); }
  void half_close() override { RELIANT_ASSERT_MSG(false, "servers finish instead"); }
  void release() override { RELIANT_ASSERT_MSG(false, "servers hold no holds"); }
  void send_initial_metadata() override { this->StartSendInitialMetadata(); }
  void finish(const grpc::Status& status) override { this->Finish(status); }

 private:
  grpc::CallbackServerContext* context_;
  std::shared_ptr<StreamCore> core_;
  std::function<void()> done_;
};

// Ends a call at once with `status` (wrong role, or the listener stopped accepting).
template <class In, class Out>
class RefusingReactor final : public grpc::ServerBidiReactor<In, Out> {
 public:
  explicit RefusingReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// A unary call answered from the executor, finished exactly once: by its handler, or at once
// when gRPC cancels it — a server shutting down waits for its calls and must not have to wait
// for the executor (which may be the very thread shutting it down).
class UnaryAnswer {
 public:
  explicit UnaryAnswer(google::protobuf::Message* response) : response_(response) {}
  void bind(grpc::ServerUnaryReactor* reactor) { reactor_ = reactor; }
  // The first call wins; later ones (a handler finishing after a cancel) change nothing.
  void finish(const grpc::Status& status, const google::protobuf::Message* reply = nullptr) {
    std::lock_guard lock(mutex_);
    if (reactor_ == nullptr) return;
    if (status.ok() && reply != nullptr) response_->CopyFrom(*reply);
    std::exchange(reactor_, nullptr)->Finish(status);
  }

 private:
  std::mutex mutex_;
  grpc::ServerUnaryReactor* reactor_ = nullptr;
  google::protobuf::Message* response_;  // gRPC's, valid until Finish
};

class UnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit UnaryReactor(std::shared_ptr<UnaryAnswer> answer) : answer_(std::move(answer)) {
    answer_->bind(this);
  }
  void OnCancel() override {
    answer_->finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }
  void OnDone() override { delete this; }

 private:
  std::shared_ptr<UnaryAnswer> answer_;
};

}  // namespace reliant::grpc_detail
