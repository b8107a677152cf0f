// Bus throughput: publish → handler delivery per second, for the simulated and in-process buses.
#include <benchmark/benchmark.h>

#include "adapters/asio/asio_executor.h"
#include "adapters/memory/in_process_bus.h"
#include "sim/sim_bus.h"

namespace reliant {
namespace {

constexpr int kBatch = 1000;

void BM_SimBusPublishDeliver(benchmark::State& state) {
  sim::World world(1, /*trace_events=*/false);
  sim::Network network(microseconds(100), microseconds(100));
  sim::SimBroker broker(world, network);
  sim::SimExecutor pub_exec(world, world.add_node("publisher"));
  sim::SimExecutor sub_exec(world, world.add_node("subscriber"));
  sim::SimBus publisher(broker, pub_exec);
  sim::SimBus subscriber(broker, sub_exec);
  std::uint64_t delivered = 0;
  auto sub = subscriber.subscribe("bench.>", [&delivered](const BusMessage&) { ++delivered; });
  const std::string payload(200, 'x');
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) (void)publisher.publish("bench.subject", payload);
    while (world.step()) {
    }
  }
  state.counters["deliveries_per_second"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimBusPublishDeliver);

void BM_SimBusQueueGroup(benchmark::State& state) {
  sim::World world(1, /*trace_events=*/false);
  sim::Network network(microseconds(100), microseconds(100));
  sim::SimBroker broker(world, network);
  sim::SimExecutor pub_exec(world, world.add_node("publisher"));
  sim::SimBus publisher(broker, pub_exec);
  std::vector<std::unique_ptr<sim::SimExecutor>> executors;
  std::vector<std::unique_ptr<sim::SimBus>> members;
  std::vector<SubscriptionPtr> subs;
  std::uint64_t delivered = 0;
  for (int i = 0; i < 4; ++i) {
    executors.push_back(std::make_unique<sim::SimExecutor>(world, world.add_node("member")));
    members.push_back(std::make_unique<sim::SimBus>(broker, *executors.back()));
    subs.push_back(*members.back()->queue_subscribe(
        "tools.request.*", "gateways", [&delivered](const BusMessage&) { ++delivered; }));
  }
  const std::string payload(200, 'x');
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) (void)publisher.publish("tools.request.user1", payload);
    while (world.step()) {
    }
  }
  state.counters["deliveries_per_second"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimBusQueueGroup);

void BM_InProcessBusPublishDeliver(benchmark::State& state) {
  AsioExecutor executor;
  InProcessBroker broker;
  InProcessBus publisher(broker, executor);
  InProcessBus subscriber(broker, executor);
  std::uint64_t delivered = 0;
  auto sub = subscriber.subscribe("bench.>", [&delivered](const BusMessage&) { ++delivered; });
  const std::string payload(200, 'x');
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) (void)publisher.publish("bench.subject", payload);
    executor.run(/*keep_alive=*/false);
  }
  state.counters["deliveries_per_second"] =
      benchmark::Counter(static_cast<double>(delivered), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_InProcessBusPublishDeliver);

}  // namespace
}  // namespace reliant
