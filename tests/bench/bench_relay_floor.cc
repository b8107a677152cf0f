// The sustained floor of the tool path (issue 44): the same relay — a caller on the bus, a
// gateway holding daemon streams, the daemons — built from bare nats.c and bare gRPC, with
// nothing of ours in between: of gRPC's APIs, the cheaper one on each side as measured here (the
// callback API for the gateway, the synchronous one for the daemons). tools/bench_tool_path.sh
// runs it beside the real path, so the real path's calls per second and CPU a call have what the
// machine can do at all next to them, measured in the same run.
//
//   bench_relay_floor relay --nats-url U --port P
//     The gateway: a gRPC server (ConnectDaemon) and one nats.c subscription on floor.request.*;
//     a request on floor.request.<i> goes to daemon i's stream as a ToolRequest whose request_id
//     is the bus reply subject, and the daemon's ToolResponse is published to that subject.
//   bench_relay_floor daemon --address A --index I
//     A daemon: dials the relay, registers as I, answers each ToolRequest with its input.
//   bench_relay_floor load --nats-url U --daemons N [--calls C] [--concurrency K]
//     C requests, K at a time, spread over the N daemons; prints calls/s, p50 and p99.
#include <grpcpp/grpcpp.h>
#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "percentile.h"
#include "reliant/daemon/v1/daemon.grpc.pb.h"

namespace {

namespace v1 = reliant::daemon::v1;
using reliant::bench::percentile;
using Clock = std::chrono::steady_clock;
constexpr std::size_t kPayloadBytes = 200;  // as bench_tool_path's echo calls
constexpr std::string_view kRequestPrefix = "floor.request.";
constexpr std::size_t kQueuedWritesMax =
    4096;  // a stream's writes waiting behind the one in flight

natsConnection* connect_nats(const std::string& url) {
  natsOptions* options = nullptr;
  natsOptions_Create(&options);
  natsOptions_SetURL(options, url.c_str());
  natsOptions_SetSendAsap(options, true);  // as NatsBus: no flusher's delay per message
  natsConnection* connection = nullptr;
  const natsStatus status = natsConnection_Connect(&connection, options);
  natsOptions_Destroy(options);
  if (status != NATS_OK) {
    std::fprintf(stderr, "cannot connect to %s: %s\n", url.c_str(), natsStatus_GetText(status));
    std::exit(1);
  }
  return connection;
}

// gRPC allows one write in flight a stream: the others wait in a bounded queue.
template <class Frame>
class WriteQueue {
 public:
  // Returns the frame to start writing now, or null when a write is in flight.
  const Frame* push(Frame frame) {
    std::lock_guard lock(mutex_);
    if (queued_.size() >= kQueuedWritesMax) {
      std::fprintf(stderr, "floor: a stream's write queue is full\n");
      std::exit(1);
    }
    queued_.push_back(std::move(frame));
    if (writing_) return nullptr;
    writing_ = true;
    return &queued_.front();
  }
  // After a write is done: the next frame to write, or null.
  const Frame* pop() {
    std::lock_guard lock(mutex_);
    queued_.pop_front();
    if (queued_.empty()) {
      writing_ = false;
      return nullptr;
    }
    return &queued_.front();
  }

 private:
  std::mutex mutex_;
  std::deque<Frame> queued_;  // the front is in flight while writing_
  bool writing_ = false;
};

// ---- the gateway ----

// gRPC's callback API, as the real gateway's server side (its synchronous API, a thread a stream
// reading and nats.c's thread writing, cost the relay half as much CPU again a call).
class Relay;

class DaemonStream final : public grpc::ServerBidiReactor<v1::DaemonFrame, v1::GatewayFrame> {
 public:
  DaemonStream(Relay& relay, natsConnection* bus) : relay_(relay), bus_(bus) { StartRead(&in_); }
  void send(const char* reply_subject, const char* data, int size) {
    v1::GatewayFrame frame;
    frame.mutable_tool_request()->set_request_id(reply_subject);
    frame.mutable_tool_request()->set_input_json(data, static_cast<std::size_t>(size));
    if (const auto* first = writes_.push(std::move(frame))) StartWrite(first);
  }
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override {
    if (!ok) return;
    if (const auto* next = writes_.pop()) StartWrite(next);
  }
  void OnDone() override;

 private:
  Relay& relay_;
  natsConnection* bus_;
  v1::DaemonFrame in_;
  WriteQueue<v1::GatewayFrame> writes_;
  int index_ = -1;
};

class Relay final : public v1::ToolsDaemonService::CallbackService {
 public:
  explicit Relay(natsConnection* bus) : bus_(bus) {}
  grpc::ServerBidiReactor<v1::DaemonFrame, v1::GatewayFrame>* ConnectDaemon(
      grpc::CallbackServerContext*) override {
    return new DaemonStream(*this, bus_);
  }
  void hold(int index, DaemonStream* stream) {
    std::lock_guard lock(mutex_);
    streams_[index] = stream;
  }
  void release(int index, DaemonStream* stream) {
    std::lock_guard lock(mutex_);
    if (auto it = streams_.find(index); it != streams_.end() && it->second == stream)
      streams_.erase(it);
  }
  // On nats.c's delivery thread. The lock keeps the stream from ending (OnDone) meanwhile.
  static void on_request(natsConnection*, natsSubscription*, natsMsg* message, void* self) {
    auto* relay = static_cast<Relay*>(self);
    const std::string_view subject = natsMsg_GetSubject(message);
    const int index = std::atoi(subject.substr(kRequestPrefix.size()).data());
    {
      std::lock_guard lock(relay->mutex_);
      if (auto it = relay->streams_.find(index); it != relay->streams_.end())
        it->second->send(natsMsg_GetReply(message), natsMsg_GetData(message),
                         natsMsg_GetDataLength(message));
    }
    natsMsg_Destroy(message);
  }

 private:
  natsConnection* bus_;
  std::mutex mutex_;
  std::map<int, DaemonStream*> streams_;
};

void DaemonStream::OnReadDone(bool ok) {
  if (!ok) {
    Finish(grpc::Status::OK);
    return;
  }
  if (in_.has_register_()) {
    index_ = std::stoi(in_.register_().name());
    relay_.hold(index_, this);
  } else if (in_.has_tool_response()) {
    const v1::ToolResponse& response = in_.tool_response();
    natsConnection_Publish(bus_, response.request_id().c_str(), response.content().data(),
                           static_cast<int>(response.content().size()));
  }
  StartRead(&in_);
}

void DaemonStream::OnDone() {
  relay_.release(index_, this);
  delete this;
}

int relay(const std::string& nats_url, int port) {
  natsConnection* bus = connect_nats(nats_url);
  Relay service(bus);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials());
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return std::fprintf(stderr, "cannot listen on port %d\n", port), 1;
  natsSubscription* subscription = nullptr;
  natsConnection_Subscribe(&subscription, bus, "floor.request.*", Relay::on_request, &service);
  natsConnection_Flush(bus);
  std::printf("relaying\n");
  std::fflush(stdout);
  server->Wait();  // until killed
  return 0;
}

// ---- a daemon ----

// gRPC's synchronous API: one thread reads a request and writes its answer, the least a daemon
// can do (the callback API's reactors cost it about three times the context switches a call).
int daemon(const std::string& address, int index) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::ToolsDaemonService::NewStub(channel);
  grpc::ClientContext context;
  auto stream = stub->ConnectDaemon(&context);
  v1::DaemonFrame out;
  out.mutable_register_()->set_name(std::to_string(index));
  if (!stream->Write(out)) return std::fprintf(stderr, "floor daemon: cannot register\n"), 1;
  v1::GatewayFrame in;
  while (stream->Read(&in)) {
    if (!in.has_tool_request()) continue;
    v1::ToolResponse& response = *out.mutable_tool_response();
    response.set_request_id(in.tool_request().request_id());
    response.set_success(true);
    response.set_content(in.tool_request().input_json());
    if (!stream->Write(out)) break;
  }
  const grpc::Status status = stream->Finish();
  std::fprintf(stderr, "floor daemon: stream ended: %s\n", status.error_message().c_str());
  return status.ok() ? 0 : 1;
}

// ---- the caller ----

struct Load {
  natsConnection* bus = nullptr;
  int calls = 0;
  int daemons = 0;
  std::string payload = std::string(kPayloadBytes, 'x');
  // Under `mutex`: the first requests go out on the main thread, the rest on nats.c's.
  std::mutex mutex;
  int sent = 0;
  std::vector<Clock::time_point> started;  // by slot
  std::vector<double> rtts_us;
  std::condition_variable all_done;
  int done = 0;

  void send(int slot) {
    const std::string subject = std::string(kRequestPrefix) + std::to_string(sent % daemons);
    const std::string reply = "floor.reply." + std::to_string(slot);
    ++sent;
    started[static_cast<std::size_t>(slot)] = Clock::now();
    natsConnection_PublishRequest(bus, subject.c_str(), reply.c_str(), payload.data(),
                                  static_cast<int>(payload.size()));
  }
  static void on_reply(natsConnection*, natsSubscription*, natsMsg* message, void* self) {
    auto* load = static_cast<Load*>(self);
    const std::string_view subject = natsMsg_GetSubject(message);
    const int slot = std::atoi(subject.substr(subject.rfind('.') + 1).data());
    const bool echoed = natsMsg_GetDataLength(message) == static_cast<int>(kPayloadBytes);
    natsMsg_Destroy(message);
    if (!echoed) {
      std::fprintf(stderr, "floor: a reply is not the request's payload\n");
      std::exit(1);
    }
    const auto now = Clock::now();
    std::lock_guard lock(load->mutex);
    load->rtts_us.push_back(std::chrono::duration<double, std::micro>(
                                now - load->started[static_cast<std::size_t>(slot)])
                                .count());
    if (load->sent < load->calls) load->send(slot);
    if (++load->done == load->calls) load->all_done.notify_all();
  }
};

int load(const std::string& nats_url, int daemons, int calls, int concurrency) {
  Load load;
  load.bus = connect_nats(nats_url);
  load.calls = calls;
  load.daemons = daemons;
  load.started.resize(static_cast<std::size_t>(concurrency));
  load.rtts_us.reserve(static_cast<std::size_t>(calls));
  natsSubscription* subscription = nullptr;
  natsConnection_Subscribe(&subscription, load.bus, "floor.reply.*", Load::on_reply, &load);
  natsConnection_Flush(load.bus);
  // Every daemon answers before the clock starts: a request for a daemon the relay does not hold
  // yet is dropped.
  const auto ready_by = Clock::now() + std::chrono::seconds(30);
  for (int d = 0; d < daemons; ++d) {
    const std::string subject = std::string(kRequestPrefix) + std::to_string(d);
    natsMsg* reply = nullptr;
    while (natsConnection_Request(&reply, load.bus, subject.c_str(), load.payload.data(),
                                  static_cast<int>(load.payload.size()), 100) != NATS_OK) {
      if (Clock::now() > ready_by) return std::fprintf(stderr, "floor: daemon %d not held\n", d), 1;
    }
    natsMsg_Destroy(reply);
  }
  const auto start = Clock::now();
  {
    std::unique_lock lock(load.mutex);
    for (int slot = 0; slot < std::min(concurrency, calls); ++slot) load.send(slot);
    if (!load.all_done.wait_for(lock, std::chrono::seconds(120),
                                [&] { return load.done == load.calls; })) {
      std::fprintf(stderr, "floor: %d of %d calls answered in 120 s\n", load.done, calls);
      return 1;
    }
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  natsSubscription_Destroy(subscription);
  std::printf("%-44s %7.0f calls/s  p50 %7.0f us  p99 %7.0f us  (%d daemons)\n",
              ("floor, " + std::to_string(concurrency) + " callers").c_str(), calls / wall_s,
              percentile(load.rtts_us, 0.5), percentile(load.rtts_us, 0.99), daemons);
  natsConnection_Destroy(load.bus);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The tool path's sustained floor (see tools/bench_tool_path.sh)"};
  app.require_subcommand(1);
  std::string nats_url;
  std::string address;
  int port = 0;
  int index = 0;
  int daemons = 1;
  int calls = 10000;
  int concurrency = 32;
  auto* relaying = app.add_subcommand("relay", "The gateway: bus requests to daemon streams");
  relaying->add_option("--nats-url", nats_url)->required();
  relaying->add_option("--port", port)->required();
  auto* echoing = app.add_subcommand("daemon", "A daemon: answers each request with its input");
  echoing->add_option("--address", address)->required();
  echoing->add_option("--index", index)->required();
  auto* loading = app.add_subcommand("load", "Requests through the relay, K at a time");
  loading->add_option("--nats-url", nats_url)->required();
  loading->add_option("--daemons", daemons)->required()->check(CLI::PositiveNumber);
  loading->add_option("--calls", calls)->capture_default_str()->check(CLI::PositiveNumber);
  loading->add_option("--concurrency", concurrency)
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (relaying->parsed()) return relay(nats_url, port);
  if (echoing->parsed()) return daemon(address, index);
  return load(nats_url, daemons, calls, concurrency);
}
