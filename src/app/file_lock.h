// An exclusive lock on a file, held while the object lives: how a process claims what two
// processes must never use at once (a data directory, the daemon's request journal). flock(2):
// the kernel lets go when the process dies, kill -9 included, so a crash leaves no stale lock.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant {

class ExclusiveFileLock {
 public:
  // Takes the lock on `path` (created 0600 when missing) without waiting, and writes this
  // process's pid into the file for whoever is refused next. Fails with `already_exists` when
  // another process holds it — "another reliant process (pid N) is using WHAT: ADVICE" — and
  // `unavailable` when the file cannot be opened or locked.
  static Result<std::unique_ptr<ExclusiveFileLock>> acquire(const std::string& path,
                                                            std::string_view what,
                                                            std::string_view advice);

  ~ExclusiveFileLock();  // closing the file releases the lock
  ExclusiveFileLock(const ExclusiveFileLock&) = delete;
  ExclusiveFileLock& operator=(const ExclusiveFileLock&) = delete;

 private:
  explicit ExclusiveFileLock(int fd) : fd_(fd) {}

  int fd_;
};

}  // namespace reliant
