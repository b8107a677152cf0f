// TerminalSessions: the daemon's terminals — each a shell on a pseudo-terminal of the Host
// (ProcessSpec::terminal) in a Scope of its own, with an id, input, resize, close, and its
// output kept in a bounded scrollback that readers page through by byte offset. A reader that
// has seen everything waits (up to a bound) for more, so a client streams a terminal with one
// outstanding read, over any transport that carries request and reply (the gateway's bus
// commands included). A session nobody touched for the idle timeout is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/host.h"
#include "runtime/scope.h"
#include "runtime/task.h"
#include "services/daemon/output_log.h"

namespace reliant::daemon {

struct TerminalLimits {
  std::size_t sessions_max = 16;
  std::size_t scrollback_bytes = 256u << 10;  // per session: the newest output kept
  std::size_t read_bytes_max = 64u << 10;     // per read, so an answer fits a bus message
  Duration idle_timeout = minutes(30);        // no input, read or resize for this long: closed
  Duration read_wait_max = seconds(2);        // below the bus's request timeout
  std::size_t readers_max = 8;                // waiting reads per session
};

struct TerminalView {
  std::string id;  // "term_<instance>_1", "…_2", ... in open order; unique across restarts
  std::string command;
  TerminalSize size;
  Instant opened_at{};
  Instant active_at{};             // the last input, read or resize
  std::uint64_t output_bytes = 0;  // everything the terminal showed so far: the next read's offset
  bool running = false;
  std::optional<int> exit_code;            // once the shell ended by itself
  std::optional<std::string> start_error;  // the host could not start it
};

struct TerminalOutput {
  std::string data;           // bytes as the terminal showed them (not necessarily UTF-8)
  std::uint64_t offset = 0;   // of data's first byte
  std::uint64_t next = 0;     // the offset to read from next
  std::uint64_t dropped = 0;  // asked for but gone from the scrollback
  TerminalView terminal;
};

class TerminalSessions {
 public:
  // Shells start in `working_dir`; `shell` runs them (empty: the user's $SHELL as a login
  // shell when set, else /bin/sh).
  TerminalSessions(Executor& executor, Host& host, std::string working_dir,
                   TerminalLimits limits = {}, std::string shell = {});
  // Closes every session (their shells are killed).
  ~TerminalSessions();
  TerminalSessions(const TerminalSessions&) = delete;
  TerminalSessions& operator=(const TerminalSessions&) = delete;

  // Fails with `resource_exhausted` when sessions_max are open, `invalid_argument` for a bad
  // size.
  Result<TerminalView> open(TerminalSize size);
  // Each fails with `not_found` for an unknown (or closed) id; input and resize with
  // `failed_precondition` once the shell has ended.
  Result<TerminalView> write(const std::string& id, std::string data);
  Result<TerminalView> resize(const std::string& id, TerminalSize size);
  Result<TerminalView> close(const std::string& id);
  std::vector<TerminalView> list() const;  // in open order
  std::size_t size() const { return sessions_.size(); }
  // What the terminal showed from `offset` on (at most read_bytes_max). When there is nothing
  // yet and the shell still runs, waits up to `wait` (capped at read_wait_max) for some.
  Task<Result<TerminalOutput>> read(std::string id, std::uint64_t offset, Duration wait);

 private:
  struct Session {
    Session(Executor& executor, const TerminalLimits& limits)
        : scrollback(executor, limits.scrollback_bytes, limits.readers_max) {}
    TerminalView view;
    SteadyInstant active_since{};  // view.active_at on the steady clock, for the idle timeout
    std::shared_ptr<ProcessInput> input;
    OutputLog scrollback;  // its reads are woken by output, the end, or a close
    // Last: destroyed first, so the task dies before the fields its callback writes.
    std::unique_ptr<Scope> scope;
  };

  Task<void> supervise(Session* session, ProcessSpec spec);
  void append(Session& session, std::string_view chunk);
  Session* find(const std::string& id);
  // An input, read or resize: the session is active now.
  void touch(Session& session);
  void close_idle();
  void arm_idle_check();

  Executor& executor_;
  Host& host_;
  std::string working_dir_;
  TerminalLimits limits_;
  std::string shell_;
  std::string id_prefix_;  // "term_<instance>_"
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Session>> sessions_;  // by open order
  std::optional<TimerId> idle_check_;                           // armed while a session is open
  // False once destroyed: a read still waiting (its caller's task outlives this) then wakes to
  // an error instead of touching what is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reliant::daemon
