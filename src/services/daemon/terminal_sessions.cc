// Terminal sessions: open, input, resize, close, the bounded scrollback, waiting reads and the
// idle timeout.
#include "services/daemon/terminal_sessions.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "base/assert.h"
#include "services/daemon/instance_tag.h"

namespace reliant::daemon {
namespace {

constexpr std::string_view kIdPrefix = "term_";

// The number of `id` when it is one of ours (`prefix` is "term_<instance>_").
std::optional<std::uint64_t> number_of(const std::string& id, const std::string& prefix) {
  if (!id.starts_with(prefix)) return std::nullopt;
  std::uint64_t number = 0;
  const char* first = id.data() + prefix.size();
  const char* last = id.data() + id.size();
  auto [end, error] = std::from_chars(first, last, number);
  if (error != std::errc() || end != last || first == last) return std::nullopt;
  return number;
}

Error unknown(const std::string& id) {
  return {ErrorCode::not_found, "no terminal " + id + " (closed, or never opened)"};
}

}  // namespace

TerminalSessions::TerminalSessions(Executor& executor, Host& host, std::string working_dir,
                                   TerminalLimits limits, std::string shell)
    : executor_(executor),
      host_(host),
      working_dir_(std::move(working_dir)),
      limits_(limits),
      shell_(shell.empty() ? "exec \"${SHELL:-/bin/sh}\" -l" : std::move(shell)),
      id_prefix_(std::string(kIdPrefix) + instance_tag(executor.now()) + "_") {
  RELIANT_ASSERT(limits_.sessions_max > 0 && limits_.scrollback_bytes > 0);
  RELIANT_ASSERT(limits_.read_bytes_max > 0 && limits_.readers_max > 0);
}

TerminalSessions::~TerminalSessions() {
  *alive_ = false;
  if (idle_check_) executor_.cancel(*idle_check_);
  // Kill first, while every Session their callbacks could touch still exists.
  for (auto& [number, session] : sessions_) {
    session->scope.reset();
    session->scrollback.wake();
  }
}

Result<TerminalView> TerminalSessions::open(TerminalSize size) {
  if (!size.valid()) {
    return fail(ErrorCode::invalid_argument,
                "a terminal is 1 to " + std::to_string(TerminalSize::kCellsMax) +
                    " rows and columns, not " + std::to_string(size.rows) + "x" +
                    std::to_string(size.cols));
  }
  if (sessions_.size() >= limits_.sessions_max) {
    return fail(ErrorCode::resource_exhausted,
                std::to_string(limits_.sessions_max) +
                    " terminals are open on this daemon; close one first");
  }
  const std::uint64_t number = next_id_++;
  auto session = std::make_unique<Session>(executor_, limits_);
  Session* raw = session.get();
  raw->view.id = id_prefix_ + std::to_string(number);
  raw->view.command = shell_;
  raw->view.size = size;
  raw->view.opened_at = executor_.now();
  touch(*raw);
  raw->view.running = true;
  raw->input = std::make_shared<ProcessInput>();
  ProcessSpec spec;
  spec.command = shell_;
  spec.working_dir = working_dir_;
  spec.terminal = size;
  spec.input = raw->input;
  spec.collect_output = false;
  // The callback holds a raw pointer: the Session outlives the task (see Session::scope).
  spec.on_output = [this, raw](std::string_view chunk) { append(*raw, chunk); };
  raw->scope = std::make_unique<Scope>(executor_);
  raw->scope->spawn(supervise(raw, std::move(spec)));
  sessions_.emplace(number, std::move(session));
  RELIANT_ASSERT(sessions_.size() <= limits_.sessions_max);
  arm_idle_check();
  return raw->view;
}

Task<void> TerminalSessions::supervise(Session* session, ProcessSpec spec) {
  Task<Result<ProcessOutcome>> run = host_.run(std::move(spec));
  Result<ProcessOutcome> outcome = co_await run;
  session->view.running = false;
  if (outcome) {
    session->view.exit_code = outcome->exit_code;
  } else {
    session->view.start_error = outcome.error().describe();
  }
  session->scrollback.wake();
}

void TerminalSessions::append(Session& session, std::string_view chunk) {
  session.scrollback.append(chunk);
  session.view.output_bytes = session.scrollback.end();
}

TerminalSessions::Session* TerminalSessions::find(const std::string& id) {
  const auto number = number_of(id, id_prefix_);
  if (!number) return nullptr;
  const auto it = sessions_.find(*number);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Result<TerminalView> TerminalSessions::write(const std::string& id, std::string data) {
  Session* session = find(id);
  if (session == nullptr) return fail(unknown(id));
  if (!session->view.running) {
    return fail(ErrorCode::failed_precondition, "terminal " + id + "'s shell has ended");
  }
  touch(*session);
  if (auto written = session->input->write(std::move(data)); !written) {
    return fail(written.error());
  }
  return session->view;
}

Result<TerminalView> TerminalSessions::resize(const std::string& id, TerminalSize size) {
  Session* session = find(id);
  if (session == nullptr) return fail(unknown(id));
  if (!session->view.running) {
    return fail(ErrorCode::failed_precondition, "terminal " + id + "'s shell has ended");
  }
  if (auto resized = session->input->resize(size); !resized) return fail(resized.error());
  session->view.size = size;
  touch(*session);
  return session->view;
}

Result<TerminalView> TerminalSessions::close(const std::string& id) {
  const auto number = number_of(id, id_prefix_);
  const auto it = number ? sessions_.find(*number) : sessions_.end();
  if (it == sessions_.end()) return fail(unknown(id));
  std::unique_ptr<Session> session = std::move(it->second);
  sessions_.erase(it);
  session->scope.reset();  // kills the shell
  session->view.running = false;
  session->scrollback.wake();
  return session->view;
}

std::vector<TerminalView> TerminalSessions::list() const {
  std::vector<TerminalView> out;
  out.reserve(sessions_.size());
  for (const auto& [number, session] : sessions_) out.push_back(session->view);
  return out;
}

Task<Result<TerminalOutput>> TerminalSessions::read(std::string id, std::uint64_t offset,
                                                    Duration wait) {
  Session* session = find(id);
  if (session == nullptr) co_return fail(unknown(id));
  touch(*session);
  if (offset >= session->view.output_bytes && session->view.running && wait > Duration::zero()) {
    Result<OutputLog::Wait> waiting = session->scrollback.next_output();
    if (!waiting) {
      co_return fail(waiting.error().code, waiting.error().message + " (terminal " + id + ")");
    }
    ScopedTimer timer(executor_, executor_.after(std::min(wait, limits_.read_wait_max),
                                                 [woken = waiting->woken] { woken.set(false); }));
    const std::shared_ptr<bool> alive = alive_;
    Future<bool> woken = std::move(waiting->future);
    (void)co_await woken;
    if (!*alive) co_return fail(ErrorCode::closed, "the daemon's terminals are gone");
    session = find(id);  // closed meanwhile?
    if (session == nullptr) co_return fail(unknown(id));
  }
  const OutputPage page = session->scrollback.page(offset, limits_.read_bytes_max);
  TerminalOutput out;
  out.data = page.data;
  out.offset = page.offset;
  out.next = page.next;
  out.dropped = page.dropped;
  out.terminal = session->view;
  co_return out;
}

void TerminalSessions::arm_idle_check() {
  if (idle_check_ || sessions_.empty()) return;
  const Duration every = std::max<Duration>(limits_.idle_timeout / 4, seconds(1));
  idle_check_ = executor_.after(every, [this] {
    idle_check_.reset();
    close_idle();
    arm_idle_check();
  });
}

void TerminalSessions::touch(Session& session) {
  session.view.active_at = executor_.now();
  session.active_since = executor_.steady_now();
}

void TerminalSessions::close_idle() {
  const SteadyInstant now = executor_.steady_now();
  std::vector<std::string> idle;
  for (const auto& [number, session] : sessions_) {
    if (now - session->active_since >= limits_.idle_timeout) idle.push_back(session->view.id);
  }
  for (const auto& id : idle) (void)close(id);
}

}  // namespace reliant::daemon
