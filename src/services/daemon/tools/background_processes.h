// BackgroundProcesses: commands the bash tool started with run_in_background — each a Host::run
// task in a Scope of its own whose output collects in a bounded buffer until bash_output reads
// it. Killing one destroys its Scope, which (per the Host contract) kills the process group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/executor.h"
#include "runtime/host.h"
#include "runtime/scope.h"
#include "runtime/task.h"
#include "services/daemon/output_log.h"

namespace reliant::daemon {

struct BackgroundStatus {
  std::string id;  // "bash_<instance>_1", "bash_<instance>_2", ... in start order (instance_tag.h)
  std::string command;
  std::string description;
  bool running = false;
  bool killed = false;                     // ended by kill()
  bool timed_out = false;                  // ended by its own timeout
  std::optional<int> exit_code;            // set when the process ended by itself
  std::optional<std::string> start_error;  // the host could not start it
  Instant started_at{};
  std::optional<Instant> ended_at;
  std::uint64_t output_bytes = 0;   // everything it wrote so far
  std::uint64_t dropped_bytes = 0;  // lost, in total, because nobody read them in time

  // "running", "exited with code 0", "killed", "timed out", "failed to start: ..."
  std::string describe() const;
};

struct BackgroundOutput {
  std::string output;               // written since the previous read
  std::uint64_t dropped_bytes = 0;  // written since the previous read but lost (oldest first)
  BackgroundStatus status;
};

// A page of a process's output by offset, for a client that follows it (BackgroundService's
// streamed output) without taking what bash_output has not read yet.
struct BackgroundPage {
  OutputPage page;
  BackgroundStatus status;
};

class BackgroundProcesses {
 public:
  static constexpr std::size_t kPageBytesMax = 64u << 10;  // per page, to fit a bus message
  static constexpr Duration kFollowWaitMax = seconds(2);   // below the bus's request timeout
  static constexpr std::size_t kFollowersMax = 8;          // waiting reads per process

  // Each process keeps at most `buffer_limit_bytes` of unread output (the newest); at most
  // `max_processes` are remembered — the oldest ended ones are forgotten to make room.
  BackgroundProcesses(Executor& executor, Host& host, std::size_t buffer_limit_bytes = 1 << 20,
                      std::size_t processes_max = 32);
  // Kills every process still running.
  ~BackgroundProcesses();
  BackgroundProcesses(const BackgroundProcesses&) = delete;
  BackgroundProcesses& operator=(const BackgroundProcesses&) = delete;

  // Starts `spec` (its on_output and collect_output are replaced) and returns its id at once;
  // the process starts on the executor's next turn. Fails with `resource_exhausted` when
  // max_processes are all still running.
  Result<std::string> start(ProcessSpec spec, std::string description);
  // Output since the last read, and the status. Fails with `not_found` for an unknown id.
  Result<BackgroundOutput> read(std::string_view id);
  // Kills a running process (no-op for one that already ended) and returns its final status.
  // Unread output stays readable. Fails with `not_found` for an unknown id.
  Result<BackgroundStatus> kill(std::string_view id);
  // The output from `offset` on (the newest buffer_limit_bytes are kept for followers, apart
  // from the unread buffer). When there is nothing yet and the process runs, waits up to `wait`
  // (at most kFollowWaitMax) for output or its end. Fails with `not_found` for an unknown id.
  Task<Result<BackgroundPage>> follow(std::string id, std::uint64_t offset, Duration wait);
  std::vector<BackgroundStatus> list() const;  // in start order
  std::size_t running() const;

 private:
  struct Process {
    Process(Executor& executor, std::size_t kept_bytes)
        : followed(executor, kept_bytes, kFollowersMax) {}
    BackgroundStatus status;
    OutputLog followed;  // what followers page through; woken by output and the end
    std::string buffer;  // unread output, at most 2 x the limit between trims
    std::uint64_t dropped_unread = 0;
    // Last: destroyed first, so the task dies before the fields its callback writes.
    std::unique_ptr<Scope> scope;
  };

  Task<void> supervise(Process* process, ProcessSpec spec);
  void append(Process& process, std::string_view chunk);
  void trim(Process& process);
  Process* find(std::string_view id);
  bool make_room();

  Executor& executor_;
  Host& host_;
  std::size_t buffer_limit_bytes_;
  std::size_t processes_max_;
  std::string id_prefix_;  // "bash_<instance>_": no id outlives a restart to name another process
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Process>> processes_;  // by start order
  // False once destroyed: a follow still waiting then wakes to an error, touching nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reliant::daemon
