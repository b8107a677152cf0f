// ProcessInput: the standard input of a process its caller talks to while it runs (an MCP
// server over stdio). The caller writes; the host feeds what was written to the process in
// order, and end of file after close(). Used on the owner's executor thread only. A process
// started without one reads /dev/null.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "base/result.h"

namespace reliant {

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
  bool closed() const { return closed_; }
  bool ended() const { return ended_; }
  std::size_t queued_bytes() const { return queued_.size(); }

  // The host's side. take() returns everything queued, in order, and empties the queue.
  std::string take();
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
  std::function<void()> ready_;
  bool closed_ = false;
  bool ended_ = false;
};

}  // namespace reliant
