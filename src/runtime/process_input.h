// ProcessInput: the standard input of a process its caller talks to while it runs (an MCP
// server over stdio, a terminal's shell). The caller writes; the host feeds what was written to
// the process in order, and end of file after close(). For a process on a terminal
// (ProcessSpec::terminal) the caller may also resize the terminal. Used on the owner's executor
// thread only. A process started without one reads /dev/null.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/result.h"

namespace reliant {

// A terminal's size in character cells.
struct TerminalSize {
  static constexpr int kCellsMax = 1000;  // each way; more is a client's mistake
  int rows = 24;
  int cols = 80;
  bool valid() const { return rows > 0 && cols > 0 && rows <= kCellsMax && cols <= kCellsMax; }
  friend bool operator==(const TerminalSize&, const TerminalSize&) = default;
};

class ProcessInput {
 public:
  // At most `queued_limit_bytes` wait unsent: a process that stops reading cannot make its
  // caller hold unbounded memory.
  explicit ProcessInput(std::size_t queued_limit_bytes = 4u << 20)
      : queued_limit_bytes_(queued_limit_bytes) {}
  ProcessInput(const ProcessInput&) = delete;
  ProcessInput& operator=(const ProcessInput&) = delete;

  // Queues `data`. Fails with `failed_precondition` after close() or once the process ended,
  // and with `resource_exhausted` when more than the limit would wait unsent.
  Result<void> write(std::string data);
  // The process reads end of file after what is queued.
  void close();
  // The process's terminal takes this size (the latest one asked wins). Fails with
  // `invalid_argument` for a size out of range, and like write() once the process ended.
  Result<void> resize(TerminalSize size);
  bool closed() const { return closed_; }
  bool ended() const { return ended_; }
  std::size_t queued_bytes() const { return queued_.size(); }

  // The host's side. take() returns everything queued, in order, and empties the queue.
  std::string take();
  // The size asked since the last call, if any.
  std::optional<TerminalSize> take_resize() { return std::exchange(resize_, std::nullopt); }
  // `ready` runs after each write() and close() (synchronously: a host posts if it must);
  // one at a time, replaced by the next call; null to stop.
  void on_ready(std::function<void()> ready) { ready_ = std::move(ready); }
  // The process is gone: later writes fail and on_ready is dropped.
  void end();

 private:
  void notify() const {
    if (ready_) ready_();
  }

  std::size_t queued_limit_bytes_;
  std::string queued_;
  std::optional<TerminalSize> resize_;
  std::function<void()> ready_;
  bool closed_ = false;
  bool ended_ = false;
};

}  // namespace reliant
