// The hand-over DESIGN.md §3 prescribes — another thread posts to an executor that sleeps in
// epoll — measured as a round trip between two executors on two threads: once with the threads
// free to run on any core, once with both pinned to one core. The tool path pays this hand-over
// twice per call (the gRPC thread of the gateway and of the daemon posting to its executor) and
// its floors do not, so this figure is what its ratio to the floor must absorb. On a machine
// whose idle cores wake slowly (a virtual machine that halts idle vCPUs), the first case costs
// far more than the second.
//   bench_handoff     prints the round trip (two hand-overs) per case
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <thread>

#include "adapters/asio/asio_executor.h"

namespace reliant {
namespace {

void pin_to_first_core(pthread_t thread) {
  cpu_set_t cores;
  CPU_ZERO(&cores);
  CPU_SET(0, &cores);
  pthread_setaffinity_np(thread, sizeof(cores), &cores);
}

void BM_ExecutorHandOverRoundTrip(benchmark::State& state) {
  const bool one_core = state.range(0) == 1;
  AsioExecutor here;
  AsioExecutor there;
  std::thread runner([&there] { there.run(); });
  cpu_set_t before;
  pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
  if (one_core) {
    pin_to_first_core(pthread_self());
    pin_to_first_core(runner.native_handle());
  }
  for (auto _ : state) {
    bool back = false;
    there.post([&] { here.post([&] { back = true; }); });
    here.run_until([&] { return back; });
  }
  there.stop();
  runner.join();
  pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
  state.SetLabel(one_core ? "both threads on one core" : "threads on any core");
}
BENCHMARK(BM_ExecutorHandOverRoundTrip)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace reliant
