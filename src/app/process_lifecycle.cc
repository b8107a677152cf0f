// Signals, the health endpoint and the memory trimmer of the server commands.
#include "app/process_lifecycle.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>
#include <vector>

#include "app/readiness.h"
#include "runtime/sleep.h"

namespace reliant {

void restart_this_process() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  if (args.empty()) {
    spdlog::error("cannot restart: /proc/self/cmdline is unreadable");
    return;
  }
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  spdlog::info("restarting (a restart command)");
  spdlog::default_logger()->flush();
  // Not every library opens its descriptors close-on-exec (gRPC's listener stayed open, and the
  // new run could not listen on its port): every one but the standard three is, from here.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 65536; ++fd) (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  ::execv("/proc/self/exe", argv.data());
  spdlog::error("cannot restart: exec failed: {}", std::strerror(errno));
}

void raise_descriptor_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur == limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  // An unlimited hard limit still stops at the kernel's nr_open (1,048,576 unless changed):
  // ask for that much rather than fail.
  constexpr rlim_t kUnlimitedTarget = rlim_t{1} << 20;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? kUnlimitedTarget : limit.rlim_max;
  if (limit.rlim_cur <= before) return;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise the descriptor limit from {} to {}: the listeners' caps fit {}",
                 before, limit.rlim_cur, before);
    return;
  }
  spdlog::info("descriptor limit raised from {} to {} (ulimit -Hn)", before, limit.rlim_cur);
}

StopOnSignals::StopOnSignals(AsioExecutor& executor, std::function<void()> graceful)
    : executor_(executor),
      graceful_(std::move(graceful)),
      signals_(executor.context(), SIGINT, SIGTERM) {
  wait();
}

void StopOnSignals::wait() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (graceful_) {
      spdlog::info("signal {}: stopping gracefully (a second signal stops at once)", signal);
      std::exchange(graceful_, nullptr)();
      wait();
      return;
    }
    spdlog::info("signal {}: stopping", signal);
    executor_.stop();
  });
}

Result<std::unique_ptr<ServerHealth>> ServerHealth::start(AsioExecutor& executor, Store& store,
                                                          const NatsBus* nats,
                                                          const std::string& bind_address,
                                                          int port) {
  std::unique_ptr<ServerHealth> health(new ServerHealth(executor));
  health->probes_.spawn(watch_store(store, executor, &health->store_status_));
  const std::string* store_status = &health->store_status_;
  const bool* draining = &health->draining_;
  auto server = HealthServer::start(executor, bind_address, port,
                                    [store_status, draining, nats]() -> std::string {
                                      if (*draining) return "draining";
                                      if (!store_status->empty()) return *store_status;
                                      if (nats && !nats->connected()) return "nats: not connected";
                                      return {};
                                    });
  if (!server) return fail(server.error());
  health->server_ = std::move(*server);
  return health;
}

MemoryTrimmer::MemoryTrimmer(Executor& executor, Duration every) : scope_(executor) {
  scope_.spawn(trim_every(executor, every));
}

Task<void> MemoryTrimmer::trim_every(Executor& executor, Duration every) {
  for (;;) {
    Sleep pausing = sleep(executor, every);
    co_await pausing;
    // Milliseconds at most for a heap of a few hundred megabytes; nothing to do costs less.
    (void)::malloc_trim(0);
  }
}

}  // namespace reliant
