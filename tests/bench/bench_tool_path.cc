// Tool-path benchmark client, driven by tools/bench_tool_path.sh against real processes (a
// nats-server, a gateway, daemons) on loopback.
//
//   bench_tool_path round-trip --nats-url U --db-url F --user EMAIL [--calls N]
//       [--concurrency C] [--grpc-floor-p50 US --grpc-floor-p99 US]
//     The floor first: a bare nats.c request-reply through the same nats-server (a responder on
//     a second connection of this process). Then `echo` tool calls through the bus router
//     (request-reply) → gateway → daemon → back: one at a time (p50/p99 and the ratio to the
//     floor = nats.c + the given gRPC ping-pong floor), or C at a time over every active
//     daemon of the user (calls per second).
//
//   bench_tool_path hold-streams --gateway URL --token T --streams N
//     Opens N daemon streams to a gateway, registers each, heartbeats every 15 s, prints
//     "holding N streams" and waits to be killed: what a gateway's memory per idle daemon is
//     measured with.
#include <nats/nats.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/grpc/grpc_transport.h"
#include "adapters/nats/nats_bus.h"
#include "app/db_config.h"
#include "core/daemon_status.h"
#include "percentile.h"
#include "protocol/codec.h"
#include "runtime/ids.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"

namespace reliant {
namespace {

namespace v1 = daemon::v1;
using bench::percentile;
using Clock = std::chrono::steady_clock;
constexpr std::size_t kPayloadBytes = 200;

// ---- the floor: bare nats.c request-reply ----

void on_floor_request(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  natsConnection_Publish(nc, natsMsg_GetReply(msg), natsMsg_GetData(msg),
                         natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

std::vector<double> nats_floor(const std::string& url, int round_trips) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetSendAsap(opts, true);  // without it nats.c adds ~1 ms per request
  natsConnection* responder = nullptr;
  natsConnection* requester = nullptr;
  std::vector<double> rtts;
  if (natsConnection_Connect(&responder, opts) != NATS_OK ||
      natsConnection_Connect(&requester, opts) != NATS_OK) {
    std::fprintf(stderr, "cannot connect to %s\n", url.c_str());
    std::exit(1);
  }
  natsSubscription* sub = nullptr;
  natsConnection_Subscribe(&sub, responder, "bench.floor", on_floor_request, nullptr);
  natsConnection_Flush(responder);
  const std::string payload(kPayloadBytes, 'f');
  for (int i = 0; i < round_trips; ++i) {
    natsMsg* reply = nullptr;
    const auto start = Clock::now();
    if (natsConnection_Request(&reply, requester, "bench.floor", payload.data(),
                               static_cast<int>(payload.size()), 2000) == NATS_OK) {
      rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      natsMsg_Destroy(reply);
    }
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(requester);
  natsConnection_Destroy(responder);
  natsOptions_Destroy(opts);
  return rtts;
}

// ---- the bus adapter alone: NatsBus request-reply, a NatsBus responder on its own thread ----

Task<void> bus_requests(Bus& bus, int round_trips, std::vector<double>* rtts) {
  const std::string payload(kPayloadBytes, 'b');
  for (int i = 0; i < round_trips; ++i) {
    const auto start = Clock::now();
    Task<Result<BusMessage>> asking = bus.request("bench.bus", payload, seconds(2));
    Result<BusMessage> reply = co_await asking;
    if (reply)
      rtts->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
}

std::vector<double> bus_adapter_round_trips(const std::string& url, int round_trips) {
  AsioExecutor responder_executor;
  auto responder = NatsBus::connect(responder_executor, NatsOptions{url, "bench-bus-responder"});
  AsioExecutor executor;
  auto requester = NatsBus::connect(executor, NatsOptions{url, "bench-bus-requester"});
  if (!responder || !requester) {
    std::fprintf(stderr, "cannot connect to %s\n", url.c_str());
    std::exit(1);
  }
  Bus& answering = **responder;
  auto subscription = answering.subscribe("bench.bus", [&answering](const BusMessage& m) {
    (void)answering.publish(m.reply_to, m.data);
  });
  std::thread responder_thread([&responder_executor] { responder_executor.run(); });
  std::vector<double> rtts;
  {
    Scope scope(executor);
    scope.spawn(bus_requests(**requester, round_trips, &rtts));
    executor.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  responder_executor.post([&] {
    subscription->reset();
    responder_executor.stop();
  });
  responder_thread.join();
  return rtts;
}

// ---- tool calls through the router ----

struct Target {
  std::string user_id;
  std::vector<std::string> daemons;
};

Task<void> caller(routing::DaemonRouter& router, IdGenerator& ids, const Target& target,
                  int* remaining, std::size_t offset, std::vector<double>* rtts, int* errors) {
  const std::string text(kPayloadBytes, 'x');
  // Made once, as a worker passes on the input a model wrote: encoding it again for every call
  // was the caller's largest cost (a sixth of its instructions), which the floor's caller does
  // not pay, and on 2 cores it took from the path under test.
  const std::string input = nlohmann::json{{"text", text}}.dump();
  for (std::size_t n = offset; *remaining > 0; ++n) {
    --*remaining;
    routing::ToolCall call;
    call.user_id = target.user_id;
    call.daemon_id = target.daemons[n % target.daemons.size()];
    call.request_id = ids.next();
    call.tool_name = "echo";
    call.input_json = input;
    call.timeout = seconds(10);
    const auto start = Clock::now();
    Task<Result<v1::ToolResponse>> pending = router.send_tool_request_sync(std::move(call));
    Result<v1::ToolResponse> response = co_await pending;
    if (!response || response->content() != text) {
      ++*errors;
      continue;
    }
    rtts->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
}

struct RoundTripOptions {
  DbConfig db{"sqlite", "", "./data", "NORMAL"};
  std::string nats_url;
  std::string user;
  int calls = 2000;
  int concurrency = 1;
  double grpc_floor_p50 = 0;
  double grpc_floor_p99 = 0;
};

int round_trip(const RoundTripOptions& o) {
  // The floors are for the one-at-a-time round trip; sustained calls are reported alone.
  const bool one_at_a_time = o.concurrency == 1;
  const auto floor = one_at_a_time ? nats_floor(o.nats_url, o.calls) : std::vector<double>{};
  const auto bus_adapter =
      one_at_a_time ? bus_adapter_round_trips(o.nats_url, o.calls) : std::vector<double>{};
  AsioExecutor executor;
  auto store = open_store(executor, o.db);
  if (!store) return std::fprintf(stderr, "%s\n", store.error().message.c_str()), 1;
  auto target = std::make_shared<Target>();
  auto read =
      run_blocking(executor, (*store)->transact([o, target](SqlTransaction& tx) -> Result<void> {
        auto user = find_user_by_id_or_email(tx, o.user);
        if (!user || !*user) return fail(ErrorCode::not_found, "no user " + o.user);
        target->user_id = (*user)->id;
        auto daemons = list_daemons(tx, target->user_id);
        if (!daemons) return fail(daemons.error());
        for (const auto& d : *daemons)
          if (d.status == DaemonStatus::active) target->daemons.push_back(d.id);
        return {};
      }));
  if (!read) return std::fprintf(stderr, "%s\n", read.error().message.c_str()), 1;
  if (target->daemons.empty()) return std::fprintf(stderr, "no active daemon\n"), 1;

  auto bus = NatsBus::connect(executor, NatsOptions{o.nats_url, "bench-tool-path"});
  if (!bus) return std::fprintf(stderr, "%s\n", bus.error().message.c_str()), 1;
  Random random(42);
  IdGenerator ids(executor, random);
  Env env{executor, random, bus->get(), nullptr, store->get(), nullptr};
  routing::BusDaemonRouter router(env);
  // Warm-up: connections, subscriptions, caches.
  {
    int warm = 200;
    std::vector<double> ignored;
    int errors = 0;
    Scope scope(executor);
    scope.spawn(caller(router, ids, *target, &warm, 0, &ignored, &errors));
    executor.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  std::vector<double> rtts;
  int errors = 0;
  int remaining = o.calls;
  const auto start = Clock::now();
  {
    Scope scope(executor);
    for (int c = 0; c < o.concurrency; ++c)
      scope.spawn(
          caller(router, ids, *target, &remaining, static_cast<std::size_t>(c), &rtts, &errors));
    executor.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  const double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  const double p50 = percentile(rtts, 0.5);
  const double p99 = percentile(rtts, 0.99);
  const double floor50 = percentile(floor, 0.5);
  const double floor99 = percentile(floor, 0.99);
  if (one_at_a_time) {
    std::printf("%-44s p50 %7.0f us  p99 %7.0f us\n", "floor: bare nats.c request-reply", floor50,
                floor99);
    std::printf("%-44s p50 %7.0f us  p99 %7.0f us\n", "our bus adapter: NatsBus request-reply",
                percentile(bus_adapter, 0.5), percentile(bus_adapter, 0.99));
    if (o.grpc_floor_p50 > 0) {
      std::printf("%-44s p50 %7.0f us  p99 %7.0f us\n", "floor: bare gRPC bidi ping-pong",
                  o.grpc_floor_p50, o.grpc_floor_p99);
    }
    std::printf("%-44s p50 %7.0f us  p99 %7.0f us  (%d calls, %d errors)\n",
                "tool round trip: bus→gateway→daemon→back", p50, p99, o.calls, errors);
    const double f50 = floor50 + o.grpc_floor_p50;
    const double f99 = floor99 + o.grpc_floor_p99;
    std::printf("%-44s p50 %7.2fx        p99 %7.2fx   (targets: ≤ 1.5x, ≤ 3x)\n",
                "ratio to the floor (nats + gRPC)", p50 / f50, p99 / f99);
  } else {
    std::printf("%-44s %7.0f calls/s  p50 %7.0f us  p99 %7.0f us  (%zu daemons, %d errors)\n",
                ("sustained, " + std::to_string(o.concurrency) + " callers").c_str(),
                static_cast<double>(rtts.size()) / wall_s, p50, p99, target->daemons.size(),
                errors);
  }
  return errors == 0 ? 0 : 1;
}

// ---- idle streams ----

Task<void> hold_one(Executor& executor, Transport& transport, std::string gateway,
                    std::string token, int* registered, std::vector<StreamPtr>* held) {
  Task<Result<StreamPtr>> dialing =
      transport.dial(gateway, Metadata{{"authorization", "Bearer " + token}}, seconds(30));
  Result<StreamPtr> stream = co_await dialing;
  if (!stream) {
    std::fprintf(stderr, "dial: %s\n", stream.error().message.c_str());
    co_return;
  }
  v1::DaemonFrame hello;
  hello.mutable_register_()->set_name("idle");
  hello.mutable_register_()->set_session_id("bench");
  (void)(*stream)->send(protocol::encode(hello));
  Task<Result<std::string>> first = (*stream)->receive();
  Result<std::string> ack = co_await first;
  if (!ack) co_return;
  ++*registered;
  Stream* raw = stream->get();
  held->push_back(std::move(*stream));
  for (std::uint64_t n = 1;; ++n) {
    co_await sleep(executor, seconds(15));
    v1::DaemonFrame beat;
    beat.mutable_heartbeat()->set_sequence(n);
    (void)raw->send(protocol::encode(beat));
  }
}

int hold_streams(const std::string& gateway, const std::string& token, int streams) {
  // One TCP connection per stream: raise the descriptor limit as far as allowed.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  AsioExecutor executor;
  GrpcTransportOptions options;
  options.role = GrpcRole::daemon;
  auto transport = GrpcTransport::create(executor, options);
  if (!transport) return std::fprintf(stderr, "%s\n", transport.error().message.c_str()), 1;
  int registered = 0;
  std::vector<StreamPtr> held;
  Scope scope(executor);
  // In batches, so the gateway's store is not asked for thousands of registrations at once.
  constexpr int kBatch = 200;
  for (int started = 0; started < streams; started += kBatch) {
    const int batch = std::min(kBatch, streams - started);
    for (int i = 0; i < batch; ++i)
      scope.spawn(hold_one(executor, **transport, gateway, token, &registered, &held));
    executor.run_until([&] { return registered >= started + batch; });
  }
  std::printf("holding %d streams\n", registered);
  std::fflush(stdout);
  executor.run();
  return 0;
}

}  // namespace
}  // namespace reliant

int main(int argc, char** argv) {
  using namespace reliant;
  CLI::App app{"Tool-path benchmark client (see tools/bench_tool_path.sh)"};
  app.require_subcommand(1);
  RoundTripOptions rt;
  auto* round = app.add_subcommand("round-trip", "Tool round trips against their floor");
  round->add_option("--nats-url", rt.nats_url)->required();
  round->add_option("--db-url", rt.db.url)->required();
  round->add_option("--db-driver", rt.db.driver)->capture_default_str();
  round->add_option("--user", rt.user)->required();
  round->add_option("--calls", rt.calls)->capture_default_str();
  round->add_option("--concurrency", rt.concurrency)->capture_default_str();
  round->add_option("--grpc-floor-p50", rt.grpc_floor_p50);
  round->add_option("--grpc-floor-p99", rt.grpc_floor_p99);
  std::string gateway;
  std::string token;
  int streams = 1000;
  auto* hold = app.add_subcommand("hold-streams", "Open and keep idle daemon streams");
  hold->add_option("--gateway", gateway)->required();
  hold->add_option("--token", token)->required();
  hold->add_option("--streams", streams)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (round->parsed()) return round_trip(rt);
  return hold_streams(gateway, token, streams);
}
