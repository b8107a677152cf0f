// Host: the daemon's access to its machine — processes and files (DESIGN.md §4).
//
// The real adapter uses posix_spawn and the file system; the simulator's host is an in-memory
// file system with scripted commands. Cancelling a run (destroying the awaiting task) kills the
// process. Paths are absolute or relative to the host's working directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "runtime/task.h"

namespace reliant {

struct ProcessSpec {
  std::string command;  // run by the shell: /bin/sh -c "<command>"
  std::string working_dir;
  std::map<std::string, std::string> env;  // added to the host's environment
  Duration timeout{};                      // zero: no limit
  std::size_t output_limit_bytes = 0;      // zero: no limit; beyond it output is cut
};

struct ProcessOutcome {
  int exit_code = 0;  // -1 when killed by a signal or on timeout
  bool timed_out = false;
  bool truncated = false;  // output exceeded output_limit_bytes
  std::string output;      // stdout and stderr, interleaved as written
};

struct FileEntry {
  std::string path;
  bool is_directory = false;
  std::uint64_t size_bytes = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  // Runs a command to completion (or timeout). Fails only when it cannot be started; a non-zero
  // exit is a successful outcome with that exit code.
  virtual Task<Result<ProcessOutcome>> run(ProcessSpec spec) = 0;

  // Fails with `not_found` when absent, `invalid_argument` for a directory.
  virtual Task<Result<std::string>> read_file(std::string path) = 0;
  // Creates parent directories as needed; replaces the file atomically.
  virtual Task<Result<void>> write_file(std::string path, std::string content) = 0;
  // Entries directly under `path`, sorted by name.
  virtual Task<Result<std::vector<FileEntry>>> list_directory(std::string path) = 0;
  virtual Task<Result<FileEntry>> stat(std::string path) = 0;
};

}  // namespace reliant
