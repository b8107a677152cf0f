// gRPC callback reactors for the tool stream's accepting side and the unary calls: they translate
// gRPC's callbacks into StreamCore calls and StreamCore's requests into gRPC operations, and own
// nothing else. The dialing side is grpc_client_call.h.
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

// The accepting side, on raw messages (grpc_bytes.h). `done` runs after the reactor is gone.
class ServerStreamReactor final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
      public RpcOps {
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

  void start_read(grpc::ByteBuffer* into) override { this->StartRead(into); }
  void start_write(const grpc::ByteBuffer* message) override { this->StartWrite(message); }
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
class RefusingReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
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
