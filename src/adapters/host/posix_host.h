// PosixHost: the real Host on the user's machine — commands through /bin/sh -c on an
// AsioExecutor's io_context, so output is read without ever blocking the component's executor;
// files through the file system on threads of the host's own, so a slow or stuck file (a network
// mount, /proc/kmsg) or a slow search never stalls the executor either.
//
// Each command runs in a process group of its own, with a scrubbed environment, and — where
// this process may make cgroups — in a cgroup v2 of its own (process_tracker.h). A timeout or a
// cancel (destroying the task awaiting run()) kills the group and every other process of the
// run — also one that left the group and the session (setsid) and dropped its environment —
// and destroying the host kills every process of every run it started. Killed processes are
// reaped asynchronously; in a process that is a child subreaper (enable_child_subreaper()),
// orphaned descendants of tools are reaped too. A command that exits normally returns at once
// even when a background child it started still holds its output open; that child is left
// running (the pipe's read end is closed, so it gets SIGPIPE if it writes; a stderr kept apart
// lives in an anonymous file, sealed then, so writes there fail).
//
// File operations are confined race-free (confined_files.h): each path is resolved beneath a
// root's open directory, never checked by name and then opened by name again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/process_tracker.h"
#include "runtime/host.h"

namespace reliant {

struct PosixHostOptions {
  std::string working_dir;  // absolute; relative paths (and commands without one) use it
  // File operations stay under these directories (absolute; symbolic links in them are
  // resolved). Empty: no confinement — anything the OS user may reach.
  std::vector<std::string> roots;
  // Variables of this process's environment that commands see, besides the ordinary ones
  // (PATH, HOME, USER, SHELL, TERM, locale, time zone, temporary directory, proxies, the SSH
  // agent): a name, or a prefix ending in '*'.
  std::vector<std::string> passed_env;
  // Directories file operations never reach, wherever they lie — inside a root or not, by any
  // path or link: the daemon's own data (a monolith's data dir, ~/.reliant). Absolute.
  std::vector<std::string> excluded = {};
  Duration file_operation_timeout = seconds(30);  // one read, write, listing or stat
  std::size_t file_threads = 4;
  // Resolve paths with openat2 where the kernel has it; false: the component walk always.
  bool use_openat2 = true;
  // How a run's processes are found when it is killed: a cgroup v2 per run where this process
  // may make one, else by parentage (process_tracker.h).
  ProcessTracking process_tracking = ProcessTracking::automatic;
};

class PosixHost final : public Host {
 public:
  PosixHost(AsioExecutor& executor, PosixHostOptions options);
  // Convenience: no confinement, default options.
  PosixHost(AsioExecutor& executor, std::string working_dir);
  // Kills every process that runs of every command this host started.
  ~PosixHost() override;
  PosixHost(const PosixHost&) = delete;
  PosixHost& operator=(const PosixHost&) = delete;

  Task<Result<ProcessOutcome>> run(ProcessSpec spec) override;
  Task<Result<std::string>> read_file(std::string path, std::size_t bytes_max) override;
  Task<Result<void>> write_file(std::string path, std::string content) override;
  Task<Result<std::vector<FileEntry>>> list_directory(std::string path,
                                                      std::size_t entries_max) override;
  Task<Result<FileEntry>> stat(std::string path) override;
  Task<Result<FileSearch>> search_file(std::string path, std::shared_ptr<const LineMatcher> matcher,
                                       FileSearchLimits limits) override;
  Task<Result<void>> create_directory(std::string path) override;
  Task<Result<void>> remove_path(std::string path, bool recursive) override;
  Task<Result<void>> move_path(std::string from, std::string to) override;
  Task<Result<void>> copy_path(std::string from, std::string to) override;

  const std::string& working_dir() const { return working_dir_; }
  // Whether file paths are resolved with openat2 (else one component at a time).
  bool uses_openat2() const;
  // How commands' processes are tracked, and why not the other way: for the start-up log.
  std::string process_tracking() const;

  struct Shared;  // what file threads and children share with the host (internal)

 private:
  std::string resolve(const std::string& path) const;
  // Runs `work` on a file thread; fails with `timeout` after file_operation_timeout.
  template <class T>
  Task<Result<T>> off_executor(std::string what, std::function<Result<T>()> work);

  AsioExecutor& executor_;
  std::string working_dir_;
  std::shared_ptr<Shared> shared_;
};

// The daemon's Host.
std::unique_ptr<Host> make_posix_host(AsioExecutor& executor, PosixHostOptions options);

// Makes this process adopt the orphaned descendants of the commands it runs (rather than init),
// so that they can be found and reaped (PR_SET_CHILD_SUBREAPER). For processes that run tools:
// `reliant daemon start` and the monolith. Returns false where the system does not support it.
bool enable_child_subreaper();

}  // namespace reliant
