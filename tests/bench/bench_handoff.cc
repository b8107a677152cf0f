// A hand-over between threads (docs/architecture.md §5): another thread gives work to an executor
// that sleeps in epoll, measured as a round trip between two executors on two threads —
//   0: posted, the threads free to run on any core;
//   1: posted, both threads pinned to one core;
//   2: handed over with Executor::hand_over, which lets the calling thread run the idle
//      executor's work itself (what the gRPC adapter does with every frame).
// Posted, the tool path would pay this twice per call (the gRPC thread of the gateway and of
// the daemon handing a frame to its executor) and its floors not at all. On a machine whose idle
// cores wake slowly (a virtual machine that halts idle vCPUs), case 0 costs far more than 1.
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
  const bool handed_over = state.range(0) == 2;
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
    auto work = [&] { here.post([&] { back = true; }); };
    if (handed_over) {
      there.hand_over(work);
    } else {
      there.post(work);
    }
    here.run_until([&] { return back; });
  }
  there.stop();
  runner.join();
  pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
  state.SetLabel(handed_over ? "hand_over, threads on any core"
                 : one_core  ? "posted, both threads on one core"
                             : "posted, threads on any core");
}
BENCHMARK(BM_ExecutorHandOverRoundTrip)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace reliant
