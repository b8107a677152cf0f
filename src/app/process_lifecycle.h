// What every long-running command shares: as many file descriptors as the system allows,
// stopping cleanly on SIGINT/SIGTERM, the health endpoint whose /ready checks the store and, when
// the process uses it, NATS (spec S1.3), and giving freed memory back to the system.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/asio/asio.h"
#include "adapters/asio/asio_executor.h"
#include "adapters/http/health_server.h"
#include "adapters/nats/nats_bus.h"
#include "runtime/scope.h"
#include "runtime/store.h"

namespace reliant {

// Raises the soft descriptor limit (RLIMIT_NOFILE) to the hard one, and logs it: every
// connection is a descriptor, and the listeners size their caps from the limit (a default soft
// limit of 1024 held a server to a few hundred connections whatever the hard limit allowed).
// Call before the listeners start.
void raise_descriptor_limit();

// Replaces this process with a fresh run of the same program and arguments (the same pid, so a
// supervisor sees no exit): a daemon's `restart` command. Every descriptor but stdin, stdout
// and stderr is closed on the exec, so the new run finds its ports and its journal's lock free.
// Returns only when exec failed (logged).
void restart_this_process();

// Stops `executor` (run() returns) on the first SIGINT or SIGTERM while it lives. With
// `graceful`, the first signal calls it instead (a gateway drains, and stops the executor when
// done) and the second stops the executor at once.
class StopOnSignals {
 public:
  explicit StopOnSignals(AsioExecutor& executor, std::function<void()> graceful = nullptr);

 private:
  void wait();

  AsioExecutor& executor_;
  std::function<void()> graceful_;  // emptied once called
  boost::asio::signal_set signals_;
};

// /health and /ready on bind_address:port; ready once the store answers and `nats` (if any) is
// connected.
class ServerHealth {
 public:
  static Result<std::unique_ptr<ServerHealth>> start(AsioExecutor& executor, Store& store,
                                                     const NatsBus* nats,
                                                     const std::string& bind_address, int port);
  int port() const { return server_->port(); }
  // From now on /ready answers 503 "draining" (a load balancer sends nothing new here); /health
  // still answers: the process is alive, finishing what it has.
  void set_draining() { draining_ = true; }

 private:
  explicit ServerHealth(AsioExecutor& executor) : probes_(executor) {}
  bool draining_ = false;
  std::string store_status_ = "starting";
  std::unique_ptr<HealthServer> server_;
  Scope probes_;  // last: its probe writes store_status_
};

// Now and then (every `every`), gives the heap's free memory back to the system (glibc's
// malloc_trim): after a burst — update streams of slow clients that held the server's update
// budget, a large tool output — the process shrinks again instead of keeping its peak. That is
// for glibc's allocator (the sanitized builds); the shipping binary's jemalloc returns freed
// pages by itself once they have stayed unused for its decay time.
class MemoryTrimmer {
 public:
  explicit MemoryTrimmer(Executor& executor, Duration every = seconds(30));

 private:
  static Task<void> trim_every(Executor& executor, Duration every);
  Scope scope_;
};

}  // namespace reliant
