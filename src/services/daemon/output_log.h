// OutputLog: the newest output of a running process, kept in a bounded buffer that readers page
// through by absolute byte offset, and the reads waiting for more. A terminal's scrollback and a
// background process's streamed output are both one: a client follows either with one
// outstanding read at a time, over any transport that carries request and reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "runtime/executor.h"
#include "runtime/future.h"

namespace reliant::daemon {

struct OutputPage {
  std::string data;           // bytes as the process wrote them (not necessarily UTF-8)
  std::uint64_t offset = 0;   // of data's first byte
  std::uint64_t next = 0;     // the offset to read from next
  std::uint64_t dropped = 0;  // asked for, but gone from the buffer
};

class OutputLog {
 public:
  // Keeps the newest `kept_bytes` (between trims, up to twice that); at most `readers_max`
  // reads wait at once.
  OutputLog(Executor& executor, std::size_t kept_bytes, std::size_t readers_max);
  // Wakes every waiting read (as after output): the owner going away must not leave them hanging.
  ~OutputLog();
  OutputLog(const OutputLog&) = delete;
  OutputLog& operator=(const OutputLog&) = delete;

  // Appends and wakes the waiting reads.
  void append(std::string_view chunk);
  // Wakes the waiting reads without output (the process ended, was closed, …).
  void wake();

  // Everything ever appended: the offset the next byte will have.
  std::uint64_t end() const { return end_; }
  // What the buffer holds from `offset` on, at most `bytes_max`; an offset past the end reads
  // nothing at the end, one before what is kept reads from the oldest byte kept (`dropped`).
  OutputPage page(std::uint64_t offset, std::size_t bytes_max) const;
  // A place among the waiting reads: a future the next append or wake sets (true). The reader
  // sets `woken` (false) itself when it stops waiting first — a timer of its own — and dropping
  // the Wait does the same, so a read that timed out, returned or whose coroutine was destroyed
  // gives its place back. Fails with `resource_exhausted` when readers_max reads wait already.
  // Once it resolves, the reader must check that what it reads from still exists.
  struct Wait {
    Wait(Promise<bool> woken_by, Future<bool> waited)
        : woken(std::move(woken_by)), future(std::move(waited)) {}
    Wait(Wait&&) = default;
    Wait& operator=(Wait&&) = delete;
    ~Wait() {
      if (woken.valid()) (void)woken.set(false);
    }
    Promise<bool> woken;
    Future<bool> future;
  };
  Result<Wait> next_output();

 private:
  Executor& executor_;
  std::size_t kept_bytes_;
  std::size_t readers_max_;
  std::string kept_;  // its first byte is at kept_from_
  std::uint64_t kept_from_ = 0;
  std::uint64_t end_ = 0;
  std::vector<Promise<bool>> readers_;
};

}  // namespace reliant::daemon
