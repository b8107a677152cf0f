// Worker processes for a sweep: seeds go out on one pipe, reports come back on another.
#include "sim/cli/seed_workers.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace reliant::sim {
namespace {

constexpr std::string_view kEndLine = "end\n";

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The worker: reads a seed a line from `seeds_fd`, runs it, ends its report with kEndLine, and
// exits when the parent closes the pipe.
[[noreturn]] void work(int seeds_fd, int reports_fd, const RunSeed& run_seed) {
  std::string pending;
  char buffer[256];
  for (;;) {
    const std::size_t newline = pending.find('\n');
    if (newline != std::string::npos) {
      const std::uint64_t seed = std::strtoull(pending.substr(0, newline).c_str(), nullptr, 10);
      pending.erase(0, newline + 1);
      run_seed(seed, reports_fd);
      if (!write_all(reports_fd, kEndLine)) ::_exit(1);
      continue;
    }
    const ssize_t n = ::read(seeds_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

struct Worker {
  pid_t pid = -1;
  int seeds_fd = -1;                  // the parent's end: seeds to run; -1 once closed
  int reports_fd = -1;                // the parent's end: reports
  std::optional<std::uint64_t> seed;  // the one running
  std::string report;                 // its report's lines so far
  std::string unread;                 // what came after the last complete line
};

// A new worker. It closes its copies of the parent's ends of the other workers' pipes: a seeds
// pipe still open in another process never reaches end of file, and its worker never exits.
std::optional<Worker> start_worker(const RunSeed& run_seed, const std::vector<Worker>& others) {
  int seeds[2];
  int reports[2];
  if (::pipe2(seeds, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return std::nullopt;
  }
  if (::pipe2(reports, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    ::close(seeds[0]);
    ::close(seeds[1]);
    return std::nullopt;
  }
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    for (int fd : {seeds[0], seeds[1], reports[0], reports[1]}) ::close(fd);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(seeds[1]);
    ::close(reports[0]);
    for (const Worker& other : others) {
      if (other.seeds_fd >= 0) ::close(other.seeds_fd);
      ::close(other.reports_fd);
    }
    work(seeds[0], reports[1], run_seed);
  }
  ::close(seeds[0]);
  ::close(reports[1]);
  return Worker{pid, seeds[1], reports[0], std::nullopt, {}, {}};
}

// The seeds not yet handed out: first..last, in order.
class SeedQueue {
 public:
  SeedQueue(std::uint64_t first, std::uint64_t last) : next_(first), last_(last) {}
  bool empty() const { return done_; }
  std::uint64_t take() {
    done_ = next_ == last_;
    return next_++;
  }
  // A seed no worker could take goes back to the front.
  void put_back(std::uint64_t seed) {
    next_ = seed;
    done_ = false;
  }

 private:
  std::uint64_t next_;
  std::uint64_t last_;
  bool done_ = false;  // last has been taken (next_ may have wrapped past it)
};

// Gives `worker` the next seed, or closes its pipe (so that it exits) when none is left.
void hand_out(Worker& worker, SeedQueue& seeds) {
  if (!seeds.empty()) {
    const std::uint64_t seed = seeds.take();
    if (write_all(worker.seeds_fd, std::to_string(seed) + "\n")) {
      worker.seed = seed;
      return;
    }
    seeds.put_back(seed);  // the worker is gone: its pipe broke
  }
  ::close(worker.seeds_fd);
  worker.seeds_fd = -1;
}

int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Moves `worker`'s complete lines into its seed's report, and at each kEndLine calls `ended` and
// hands the worker its next seed.
void take_lines(Worker& worker, const SeedEnded& ended, SeedQueue& seeds) {
  std::size_t newline;
  while ((newline = worker.unread.find('\n')) != std::string::npos) {
    const std::string_view line(worker.unread.data(), newline + 1);
    if (line == kEndLine) {
      if (worker.seed) ended(*worker.seed, worker.report, std::nullopt);
      worker.seed.reset();
      worker.report.clear();
      hand_out(worker, seeds);
    } else {
      worker.report.append(line);
    }
    worker.unread.erase(0, newline + 1);
  }
}

}  // namespace

bool run_seeds_in_workers(std::uint64_t first, std::uint64_t last, int workers,
                          const RunSeed& run_seed, const SeedEnded& ended) {
  ::signal(SIGPIPE, SIG_IGN);  // a worker that died breaks its pipe; its waitpid says how
  SeedQueue seeds(first, last);
  std::vector<Worker> running;
  for (;;) {
    while (static_cast<int>(running.size()) < workers && !seeds.empty()) {
      auto worker = start_worker(run_seed, running);
      if (!worker) return false;
      hand_out(*worker, seeds);
      running.push_back(std::move(*worker));
    }
    if (running.empty()) return true;
    std::vector<pollfd> polls;
    for (const Worker& worker : running) polls.push_back(pollfd{worker.reports_fd, POLLIN, 0});
    if (::poll(polls.data(), polls.size(), -1) < 0 && errno != EINTR) {
      std::perror("poll");
      return false;
    }
    for (std::size_t i = polls.size(); i-- > 0;) {
      if (polls[i].revents == 0) continue;
      Worker& worker = running[i];
      char buffer[4096];
      const ssize_t n = ::read(worker.reports_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        worker.unread.append(buffer, static_cast<std::size_t>(n));
        take_lines(worker, ended, seeds);
        continue;
      }
      // The worker exited: after its last seed, or in the middle of one, which it crashed.
      ::close(worker.reports_fd);
      if (worker.seeds_fd >= 0) ::close(worker.seeds_fd);
      const int status = reap(worker.pid);
      if (worker.seed) ended(*worker.seed, worker.report + worker.unread, status);
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
}

}  // namespace reliant::sim
