// Background processes: start, bounded output buffers, reads, kills and forgetting old ones.
#include "services/daemon/tools/background_processes.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "services/daemon/instance_tag.h"

namespace reliant::daemon {
namespace {

Error unknown(std::string_view id) {
  return {ErrorCode::not_found, "no background process \"" + std::string(id) +
                                    "\" (forgotten, never started, or started before the daemon "
                                    "restarted)"};
}

}  // namespace

std::string BackgroundStatus::describe() const {
  if (running) return "running";
  if (start_error) return "failed to start: " + *start_error;
  if (killed) return "killed";
  if (timed_out) return "timed out (killed)";
  if (exit_code) return "exited with code " + std::to_string(*exit_code);
  return "ended";
}

BackgroundProcesses::BackgroundProcesses(Executor& executor, Host& host,
                                         std::size_t buffer_limit_bytes, std::size_t processes_max)
    : executor_(executor),
      host_(host),
      buffer_limit_bytes_(buffer_limit_bytes),
      processes_max_(processes_max),
      id_prefix_("bash_" + instance_tag(executor.now()) + "_") {
  RELIANT_ASSERT(buffer_limit_bytes_ > 0);
  RELIANT_ASSERT(processes_max_ > 0);
}

BackgroundProcesses::~BackgroundProcesses() {
  *alive_ = false;
  // Kill first, while every Process their callbacks could touch still exists.
  for (auto& [id, process] : processes_) process->scope.reset();
}

Result<std::string> BackgroundProcesses::start(ProcessSpec spec, std::string description) {
  if (processes_.size() >= processes_max_ && !make_room()) {
    return fail(ErrorCode::resource_exhausted,
                "already " + std::to_string(processes_max_) +
                    " background processes running; kill one with bash_kill first");
  }
  const std::uint64_t number = next_id_++;
  auto process = std::make_unique<Process>(executor_, buffer_limit_bytes_);
  Process* raw = process.get();
  raw->status.id = id_prefix_ + std::to_string(number);
  raw->status.command = spec.command;
  raw->status.description = std::move(description);
  raw->status.running = true;
  raw->status.started_at = executor_.now();
  raw->scope = std::make_unique<Scope>(executor_);
  // The callback holds a raw pointer: the Process outlives the task (see Process::scope).
  spec.on_output = [this, raw](std::string_view chunk) { append(*raw, chunk); };
  spec.collect_output = false;
  raw->scope->spawn(supervise(raw, std::move(spec)));
  processes_.emplace(number, std::move(process));
  RELIANT_ASSERT(processes_.size() <= processes_max_);
  return raw->status.id;
}

Task<void> BackgroundProcesses::supervise(Process* process, ProcessSpec spec) {
  Task<Result<ProcessOutcome>> run = host_.run(std::move(spec));
  Result<ProcessOutcome> outcome = co_await run;
  BackgroundStatus& status = process->status;
  status.running = false;
  status.ended_at = executor_.now();
  if (!outcome) {
    status.start_error = outcome.error().describe();
  } else {
    status.timed_out = outcome->timed_out;
    if (!outcome->timed_out) status.exit_code = outcome->exit_code;
  }
  process->followed.wake();
}

void BackgroundProcesses::append(Process& process, std::string_view chunk) {
  process.status.output_bytes += chunk.size();
  process.buffer.append(chunk);
  process.followed.append(chunk);
  // Trim in batches: erasing the front on every chunk would copy the buffer every time.
  if (process.buffer.size() > 2 * buffer_limit_bytes_) trim(process);
}

void BackgroundProcesses::trim(Process& process) {
  if (process.buffer.size() <= buffer_limit_bytes_) return;
  const std::size_t drop = process.buffer.size() - buffer_limit_bytes_;
  process.buffer.erase(0, drop);
  process.dropped_unread += drop;
  process.status.dropped_bytes += drop;
}

BackgroundProcesses::Process* BackgroundProcesses::find(std::string_view id) {
  for (auto& [number, process] : processes_) {
    if (process->status.id == id) return process.get();
  }
  return nullptr;
}

Result<BackgroundOutput> BackgroundProcesses::read(std::string_view id) {
  Process* process = find(id);
  if (process == nullptr) {
    return fail(unknown(id));
  }
  trim(*process);
  BackgroundOutput out;
  out.output = std::move(process->buffer);
  process->buffer.clear();
  out.dropped_bytes = std::exchange(process->dropped_unread, 0);
  out.status = process->status;
  return out;
}

Result<BackgroundStatus> BackgroundProcesses::kill(std::string_view id) {
  Process* process = find(id);
  if (process == nullptr) {
    return fail(unknown(id));
  }
  if (process->status.running) {
    // Destroying the scope destroys the task awaiting Host::run: the host kills the group.
    process->scope.reset();
    process->status.running = false;
    process->status.killed = true;
    process->status.ended_at = executor_.now();
    process->followed.wake();
  }
  return process->status;
}

Task<Result<BackgroundPage>> BackgroundProcesses::follow(std::string id, std::uint64_t offset,
                                                         Duration wait) {
  Process* process = find(id);
  if (process == nullptr) {
    co_return fail(unknown(id));
  }
  if (offset >= process->followed.end() && process->status.running && wait > Duration::zero()) {
    Result<OutputLog::Wait> waiting = process->followed.next_output();
    if (!waiting) co_return fail(waiting.error());
    ScopedTimer timer(executor_, executor_.after(std::min(wait, kFollowWaitMax),
                                                 [woken = waiting->woken] { woken.set(false); }));
    const std::shared_ptr<bool> alive = alive_;
    Future<bool> woken = std::move(waiting->future);
    (void)co_await woken;
    if (!*alive) co_return fail(ErrorCode::closed, "the daemon's background processes are gone");
    process = find(id);  // forgotten meanwhile?
    if (process == nullptr) {
      co_return fail(unknown(id));
    }
  }
  co_return BackgroundPage{process->followed.page(offset, kPageBytesMax), process->status};
}

std::vector<BackgroundStatus> BackgroundProcesses::list() const {
  std::vector<BackgroundStatus> out;
  out.reserve(processes_.size());
  for (const auto& [number, process] : processes_) out.push_back(process->status);
  return out;
}

std::size_t BackgroundProcesses::running() const {
  std::size_t count = 0;
  for (const auto& [number, process] : processes_) count += process->status.running ? 1 : 0;
  return count;
}

bool BackgroundProcesses::make_room() {
  for (auto it = processes_.begin(); it != processes_.end(); ++it) {
    if (!it->second->status.running) {
      processes_.erase(it);  // its task has finished: nothing refers to it any more
      return true;
    }
  }
  return false;
}

}  // namespace reliant::daemon
