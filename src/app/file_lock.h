// An exclusive lock on a file, held while the object lives: how a process claims what two
// processes must never use at once (a data directory, the daemon's request journal). flock(2):
// the kernel lets go when the process dies, kill -9 included, so a crash leaves no stale lock.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"

namespace reliant {

class ExclusiveFileLock {
 public:
  // Takes the lock on `path` (created 0600 when missing) without waiting, and writes this
  // process's pid into the file for whoever is refused next. Fails with `already_exists` when
  // another process holds it (holder() may then say which), `unavailable` when the file cannot
  // be opened or locked.
  static Result<std::unique_ptr<ExclusiveFileLock>> acquire(const std::string& path);
  // The pid the holder of `path`'s lock wrote, when there is one.
  static std::optional<long> holder(const std::string& path);

  ~ExclusiveFileLock();  // closing the file releases the lock
  ExclusiveFileLock(const ExclusiveFileLock&) = delete;
  ExclusiveFileLock& operator=(const ExclusiveFileLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  ExclusiveFileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_;
};

}  // namespace reliant
