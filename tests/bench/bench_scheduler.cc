// Scheduler throughput: how many events per second the simulated world runs on one core.
#include <benchmark/benchmark.h>

#include "sim/sim_executor.h"
#include "sim/world.h"

namespace reliant::sim {
namespace {

// Empty events, scheduled in batches of `batch` at increasing times and run to completion:
// the cost of one schedule + one pop + one dispatch.
void BM_EmptyEvents(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0));
  World world(1, /*trace_events=*/false);
  const NodeId node = world.add_node("n");
  std::uint64_t ran = 0;
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) {
      world.schedule(world.now() + microseconds(i % 97), node, "bench", [&ran] { ++ran; });
    }
    while (world.step()) {
    }
  }
  benchmark::DoNotOptimize(ran);
  state.SetItemsProcessed(static_cast<std::int64_t>(ran));
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(ran), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmptyEvents)->Arg(1)->Arg(1000)->Arg(100000);

// The same with tracing on: every event also goes into the SHA-256 trace.
void BM_TracedEvents(benchmark::State& state) {
  World world(1, /*trace_events=*/true);
  const NodeId node = world.add_node("n");
  std::uint64_t ran = 0;
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i)
      world.schedule(world.now() + microseconds(i), node, "bench", [&ran] { ++ran; });
    while (world.step()) {
    }
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(ran), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TracedEvents);

// A self-rescheduling timer chain through a node's executor, as components use it.
void BM_TimerChain(benchmark::State& state) {
  World world(1, /*trace_events=*/false);
  const NodeId node = world.add_node("n");
  SimExecutor executor(world, node);
  std::uint64_t ran = 0;
  std::function<void()> tick = [&] {
    if (++ran % 1000 != 0) executor.after(milliseconds(1), tick);
  };
  for (auto _ : state) {
    executor.after(milliseconds(1), tick);
    while (world.step()) {
    }
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(ran), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimerChain);

}  // namespace
}  // namespace reliant::sim
