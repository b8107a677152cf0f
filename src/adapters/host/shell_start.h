// Starting a command's shell as a process of its own: a group (on a terminal, a session) of
// its own, only the standard descriptors it is given, default signal handling and its working
// directory. Inside a cgroup by a clone into it where the host has one, so that nothing the
// command starts is ever outside it; else by posix_spawn. PosixHost's spawn() decides which.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace reliant {

// What the child does between its start and its exec, whichever way it starts.
struct ChildSetup {
  const char* shell = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int stdin_fd = -1;               // dup'd to 0; -1: /dev/null
  int stdout_fd = -1;              // dup'd to 1
  int stderr_fd = -1;              // dup'd to 2
  const char* terminal = nullptr;  // else: opened as 0, 1 and 2 after setsid
  const char* working_dir = nullptr;
  sigset_t defaults{};  // signals set back to their default handling
};

// Starts the shell inside the cgroup `cgroup_fd`. Returns its pid, or 0 with `error` set.
pid_t start_in_cgroup(const ChildSetup& setup, int cgroup_fd, int& error);

// Starts the shell with posix_spawn (a vfork: no copy of this process's memory). Returns 0 or
// the error; sets `pid`.
int spawn_plainly(const ChildSetup& setup, pid_t& pid);

}  // namespace reliant
