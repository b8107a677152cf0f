// GrpcTransport round trip: a 200-byte frame ping-pong through the adapter (daemon dials, the
// gateway's component echoes, each side on its own executor thread, the gateway in a second
// process) against the floor — a bare gRPC callback bidi ping-pong on the same service, same
// processes — measured in the same run.
//   bench_grpc_transport [round_trips]   prints p50/p99 of both and their ratio
#include <grpcpp/grpcpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_transport.h"
#include "percentile.h"
#include "reliant/daemon/v1/daemon.grpc.pb.h"
#include "runtime/scope.h"

namespace reliant {
namespace {

namespace v1 = daemon::v1;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kFrameBytes = 200;

v1::DaemonFrame ping_message() {
  v1::DaemonFrame frame;
  frame.mutable_output_chunk()->set_request_id("bench");
  const std::size_t header = frame.ByteSizeLong() + 3;  // + data's tag and length
  frame.mutable_output_chunk()->set_data(std::string(kFrameBytes - header, 'p'));
  return frame;
}

v1::GatewayFrame pong_message() {
  v1::GatewayFrame frame;
  frame.mutable_tool_request()->set_request_id("bench");
  const std::size_t header = frame.ByteSizeLong() + 3;
  frame.mutable_tool_request()->set_input_json(std::string(kFrameBytes - header, 'q'));
  return frame;
}

struct Percentiles {
  double p50_us;
  double p99_us;
};

Percentiles percentiles(const std::vector<double>& samples) {
  return {bench::percentile(samples, 0.50), bench::percentile(samples, 0.99)};
}

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// ---- the floor: bare gRPC callback API ----

class EchoReactor final : public grpc::ServerBidiReactor<v1::DaemonFrame, v1::GatewayFrame> {
 public:
  EchoReactor() : reply_(pong_message()) { StartRead(&request_); }
  void OnReadDone(bool ok) override {
    if (ok) {
      StartWrite(&reply_);
    } else {
      Finish(grpc::Status::OK);
    }
  }
  void OnWriteDone(bool ok) override {
    if (ok) {
      StartRead(&request_);
    } else {
      Finish(grpc::Status::CANCELLED);
    }
  }
  void OnDone() override { delete this; }

 private:
  v1::DaemonFrame request_;
  v1::GatewayFrame reply_;
};

class EchoService final : public v1::ToolsDaemonService::CallbackService {
 public:
  grpc::ServerBidiReactor<v1::DaemonFrame, v1::GatewayFrame>* ConnectDaemon(
      grpc::CallbackServerContext*) override {
    return new EchoReactor();
  }
};

class PingReactor final : public grpc::ClientBidiReactor<v1::DaemonFrame, v1::GatewayFrame> {
 public:
  PingReactor(v1::ToolsDaemonService::Stub& stub, int round_trips, std::vector<double>* rtts)
      : ping_(ping_message()), left_(round_trips), rtts_(rtts) {
    stub.async()->ConnectDaemon(&context_, this);
    next();
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    rtts_->push_back(micros_since(sent_at_));
    step_done();
  }
  // gRPC allows one write in flight: the next ping waits for both the pong and the write.
  void OnWriteDone(bool ok) override {
    if (ok) step_done();
  }
  void OnDone(const grpc::Status&) override {
    std::lock_guard lock(mutex_);
    done_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  void step_done() {
    if (events_.fetch_add(1) != 1) return;
    events_.store(0);
    if (--left_ > 0) {
      next();
    } else {
      StartWritesDone();
    }
  }
  void next() {
    sent_at_ = Clock::now();
    StartWrite(&ping_);
    StartRead(&pong_);
  }

  grpc::ClientContext context_;
  v1::DaemonFrame ping_;
  v1::GatewayFrame pong_;
  int left_;
  std::atomic<int> events_{0};
  std::vector<double>* rtts_;
  Clock::time_point sent_at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
};

std::vector<double> floor_round_trips(const std::string& address, int round_trips) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::ToolsDaemonService::NewStub(channel);
  std::vector<double> rtts;
  rtts.reserve(static_cast<std::size_t>(round_trips));
  PingReactor reactor(*stub, round_trips, &rtts);
  reactor.wait();
  return rtts;
}

// ---- through the adapter ----

Task<void> echo(StreamPtr stream, std::string reply) {
  for (;;) {
    Task<Result<std::string>> next = stream->receive();
    Result<std::string> frame = co_await next;
    if (!frame) co_return;
    if (!stream->send(reply)) co_return;
  }
}

Task<void> ping(Stream& stream, std::string frame, int round_trips, std::vector<double>* rtts,
                bool* done) {
  for (int i = 0; i < round_trips; ++i) {
    const auto start = Clock::now();
    if (!stream.send(frame)) break;
    Task<Result<std::string>> next = stream.receive();
    Result<std::string> reply = co_await next;
    if (!reply) break;
    rtts->push_back(micros_since(start));
  }
  *done = true;
}

template <class T>
Task<void> await_into(Task<T> task, std::optional<T>* out) {
  T value = co_await task;
  *out = std::move(value);
}

// The gateway side: its own executor thread, echoing every accepted stream.
class EchoGateway {
 public:
  EchoGateway() {
    auto transport = GrpcTransport::create(executor_, GrpcTransportOptions{});
    if (!transport) std::abort();
    transport_ = std::move(*transport);
    auto listener = transport_->listen("127.0.0.1:0", [this](StreamPtr stream) {
      scope_->spawn(echo(std::move(stream), pong_message().SerializeAsString()));
    });
    if (!listener) std::abort();
    listener_ = std::move(*listener);
    thread_ = std::thread([this] { executor_.run(); });
  }
  ~EchoGateway() {
    executor_.post([this] {
      scope_.reset();
      listener_.reset();
      transport_.reset();
      executor_.stop();
    });
    thread_.join();
  }
  std::string address() const { return listener_->address(); }

 private:
  AsioExecutor executor_;
  std::unique_ptr<Scope> scope_ = std::make_unique<Scope>(executor_);
  std::unique_ptr<GrpcTransport> transport_;
  ListenerPtr listener_;
  std::thread thread_;
};

std::vector<double> adapter_round_trips(const std::string& address, int round_trips) {
  AsioExecutor executor;
  std::vector<double> rtts;
  {
    GrpcTransportOptions options;
    options.role = GrpcRole::daemon;
    auto transport = GrpcTransport::create(executor, options);
    if (!transport) std::abort();
    Scope scope(executor);
    std::optional<Result<StreamPtr>> dialed;
    scope.spawn(await_into((*transport)->dial(address, {}, seconds(5)), &dialed));
    executor.run_until([&] { return dialed.has_value(); });
    if (!*dialed) {
      std::fprintf(stderr, "dial failed: %s\n", dialed->error().describe().c_str());
      std::abort();
    }
    StreamPtr stream = std::move(**dialed);
    rtts.reserve(static_cast<std::size_t>(round_trips));
    bool done = false;
    scope.spawn(ping(*stream, ping_message().SerializeAsString(), round_trips, &rtts, &done));
    executor.run_until([&] { return done; });
    stream.reset();
  }
  return rtts;
}

void report(const char* name, const Percentiles& p) {
  std::printf("%-28s p50 %8.1f us   p99 %8.1f us\n", name, p.p50_us, p.p99_us);
}

// The child process: both echo servers, until the parent closes `stop_fd`.
void serve(int ports_fd, int stop_fd) {
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  {
    EchoGateway gateway;
    const std::string addresses =
        "127.0.0.1:" + std::to_string(port) + " " + gateway.address() + "\n";
    if (::write(ports_fd, addresses.data(), addresses.size()) < 0) std::abort();
    char byte = 0;
    while (::read(stop_fd, &byte, 1) > 0) {
    }
  }
  server->Shutdown();
}

int run(int argc, char** argv) {
  const int round_trips = argc > 1 ? std::atoi(argv[1]) : 5000;
  if (round_trips <= 0) return 2;

  // The servers live in another process, as a gateway does: in one process a single gRPC
  // thread could bounce both ends of the floor's ping-pong without ever switching threads.
  // Forked before gRPC starts any thread.
  int ports[2];
  int stop[2];
  if (::pipe(ports) != 0 || ::pipe(stop) != 0) return 1;
  const pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::close(ports[0]);
    ::close(stop[1]);
    serve(ports[1], stop[0]);
    ::_exit(0);
  }
  ::close(ports[1]);
  ::close(stop[0]);
  std::string line;
  char c = 0;
  while (::read(ports[0], &c, 1) == 1 && c != '\n') line += c;
  const auto space = line.find(' ');
  if (space == std::string::npos) return 1;
  const std::string floor_address = line.substr(0, space);
  const std::string adapter_address = line.substr(space + 1);

  // Warm both paths up, then alternate rounds so drift hits both alike.
  (void)floor_round_trips(floor_address, 500);
  (void)adapter_round_trips(adapter_address, 500);
  std::vector<double> floor_rtts;
  std::vector<double> adapter_rtts;
  for (int round = 0; round < 4; ++round) {
    auto f = floor_round_trips(floor_address, round_trips / 4);
    floor_rtts.insert(floor_rtts.end(), f.begin(), f.end());
    auto a = adapter_round_trips(adapter_address, round_trips / 4);
    adapter_rtts.insert(adapter_rtts.end(), a.begin(), a.end());
  }
  ::close(stop[1]);
  int status = 0;
  ::waitpid(child, &status, 0);

  const Percentiles floor = percentiles(floor_rtts);
  const Percentiles adapter = percentiles(adapter_rtts);
  std::printf(
      "%d round trips of a %zu-byte frame each way, loopback, server in a second "
      "process, one outstanding\n",
      round_trips, kFrameBytes);
  report("bare gRPC callback bidi", floor);
  report("GrpcTransport (adapter)", adapter);
  std::printf("%-28s p50 %8.2fx     p99 %8.2fx\n", "ratio adapter / floor",
              adapter.p50_us / floor.p50_us, adapter.p99_us / floor.p99_us);
  return 0;
}

}  // namespace
}  // namespace reliant

int main(int argc, char** argv) { return reliant::run(argc, argv); }
