// Starting a command's shell (shell_start.h): the child's side up to its exec runs only
// async-signal-safe calls.
#include "adapters/host/shell_start.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "adapters/host/process_tracker.h"

namespace reliant {
namespace {

// posix_spawn's inputs, freed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// The child of spawn_into_cgroup, up to its exec: async-signal-safe calls only (this process
// has other threads, whose locks the copy may hold, and the child may share its memory). What
// posix_spawn does for the other way: a group (or, on a terminal, a session) of its own, the
// standard descriptors, nothing else open, the working directory, default signal handling and
// no signal blocked. A failure before the exec is written to `report` (close-on-exec: the parent
// reads nothing once exec worked).
[[noreturn]] void report_and_exit(int report, int error) {
  (void)!::write(report, &error, sizeof error);
  ::_exit(127);
}

[[noreturn]] void become_command(const ChildSetup& setup, int report) {
  auto give_up = [report](int error) { report_and_exit(report, error); };
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int signal = 1; signal < NSIG; ++signal) {
    // Every handler this process installed goes too: one run here, before the exec, would run
    // on this process's memory, which the child may share.
    struct sigaction current {};
    const bool handled = ::sigaction(signal, nullptr, &current) == 0 &&
                         current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN;
    if (handled || sigismember(&setup.defaults, signal) == 1)
      (void)::sigaction(signal, &default_action, nullptr);
  }
  if (setup.terminal != nullptr) {
    if (::setsid() < 0) give_up(errno);
    const int terminal = ::open(setup.terminal, O_RDWR);  // becomes the controlling terminal
    if (terminal < 0) give_up(errno);
    for (int fd = 0; fd < 3; ++fd) {
      if (terminal != fd && ::dup2(terminal, fd) < 0) give_up(errno);
    }
    if (terminal > 2) ::close(terminal);
  } else {
    if (::setpgid(0, 0) < 0) give_up(errno);
    int input = setup.stdin_fd;
    if (input < 0) input = ::open("/dev/null", O_RDONLY);
    if (input < 0 || ::dup2(input, 0) < 0) give_up(errno);
    if (::dup2(setup.stdout_fd, 1) < 0 || ::dup2(setup.stderr_fd, 2) < 0) give_up(errno);
  }
  // Everything above 2 closed but the report pipe, which closes itself on exec.
  if (report > 3) (void)::syscall(SYS_close_range, 3U, static_cast<unsigned>(report - 1), 0U);
  if (::syscall(SYS_close_range, static_cast<unsigned>(report + 1), ~0U, 0U) != 0) {
    for (int fd = report + 1; fd < 65536; ++fd) (void)::close(fd);  // before Linux 5.9
  }
  if (::chdir(setup.working_dir) != 0) give_up(errno);
  sigset_t none;
  sigemptyset(&none);
  (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(setup.shell, setup.argv, setup.envp);
  report_and_exit(report, errno);
}

}  // namespace

pid_t start_in_cgroup(const ChildSetup& setup, int cgroup_fd, int& error) {
  int report[2] = {-1, -1};
  if (::pipe2(report, O_CLOEXEC) != 0) {
    error = errno;
    return 0;
  }
  // No signal handler of this process may run in the copy before it execs.
  sigset_t all;
  sigset_t before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  struct ChildStart {
    const ChildSetup* setup;
    int report;
  } start{&setup, report[1]};
  const pid_t pid = spawn_into_cgroup(
      cgroup_fd,
      [](void* arg) {
        const auto* child = static_cast<const ChildStart*>(arg);
        become_command(*child->setup, child->report);
      },
      &start);
  const int fork_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    error = fork_error;
    return 0;
  }
  int child_error = 0;
  ssize_t n = 0;
  do {
    n = ::read(report[0], &child_error, sizeof child_error);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof child_error)) {
    int status = 0;
    (void)::waitpid(pid, &status, 0);
    error = child_error;
    return 0;
  }
  return pid;
}

int spawn_plainly(const ChildSetup& setup, pid_t& pid) {
  SpawnSetup spawn;
  if (setup.terminal != nullptr) {
    posix_spawn_file_actions_addopen(&spawn.actions, 0, setup.terminal, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&spawn.actions, 0, 1);
    posix_spawn_file_actions_adddup2(&spawn.actions, 0, 2);
  } else {
    if (setup.stdin_fd >= 0) {
      posix_spawn_file_actions_adddup2(&spawn.actions, setup.stdin_fd, 0);
    } else {
      posix_spawn_file_actions_addopen(&spawn.actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&spawn.actions, setup.stdout_fd, 1);
    posix_spawn_file_actions_adddup2(&spawn.actions, setup.stderr_fd, 2);
  }
  // Nothing else of this process reaches the command: a server's listening socket, a database
  // file or a gRPC connection held by a tool (or its background children) would outlive a
  // crash of this process and keep, e.g., its port from being bound again on restart.
  posix_spawn_file_actions_addclosefrom_np(&spawn.actions, 3);
  posix_spawn_file_actions_addchdir_np(&spawn.actions, setup.working_dir);
  // A group of its own, so a kill reaches everything the command started. On a terminal, a
  // session of its own (so also a group): glibc's child calls setsid before the file actions,
  // so opening the terminal makes it the session's controlling terminal.
  const short group = setup.terminal != nullptr ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP;
  posix_spawnattr_setflags(&spawn.attributes,
                           group | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&spawn.attributes, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&spawn.attributes, &none);
  posix_spawnattr_setsigdefault(&spawn.attributes, &setup.defaults);
  return ::posix_spawn(&pid, setup.shell, &spawn.actions, &spawn.attributes, setup.argv,
                       setup.envp);
}

}  // namespace reliant
