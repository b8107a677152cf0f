// PosixHost: spawning commands in their own process group (and cgroup, where there are) with a
// scrubbed environment, reading their output through asio (a stderr kept apart from an
// anonymous file once they exit), noticing their exit through a pidfd (or polling where there is
// none), timeouts and kills of the group and of every process of the run; and the file
// operations, confined and bounded, on file threads of the host's own.
#include "adapters/host/posix_host.h"

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>

#include "adapters/blocking/blocking_pool.h"
#include "adapters/host/confined_files.h"
#include "adapters/host/errno_error.h"
#include "adapters/host/posix_child.h"
#include "adapters/host/process_tracker.h"
#include "adapters/host/shell_start.h"
#include "base/assert.h"
#include "core/line_search.h"
#include "core/path.h"
#include "runtime/future.h"

extern char** environ;

namespace reliant {

namespace fs = std::filesystem;

namespace {

using posix_host::CancelOnDestroy;
using posix_host::Child;
using posix_host::Tracked;

// How long the destructor waits for a file thread stuck in the kernel before letting it go.
constexpr std::chrono::milliseconds kFileThreadsStopGrace{1000};

void reap_orphans(Tracked& tracked) {
  reap_adopted_zombies([&tracked](pid_t pid) {
    std::lock_guard lock(tracked.mutex);
    return tracked.shells.count(pid) != 0;  // a command's shell: its Child reaps it
  });
}

// The environment a command starts from: the ordinary variables of this process and those
// `passed` names (a name, or a prefix ending in '*'); nothing else — no key, token or URL of the
// server or daemon.
std::map<std::string, std::string> scrubbed_environment(const std::vector<std::string>& passed) {
  static const char* const kOrdinary[] = {
      "PATH",           "HOME",          "USER",       "LOGNAME",
      "SHELL",          "TERM",          "COLORTERM",  "LANG",
      "LANGUAGE",       "LC_*",          "TZ",         "TMPDIR",
      "TEMP",           "TMP",           "EDITOR",     "VISUAL",
      "PAGER",          "SSH_AUTH_SOCK", "HTTP_PROXY", "HTTPS_PROXY",
      "NO_PROXY",       "ALL_PROXY",     "http_proxy", "https_proxy",
      "no_proxy",       "all_proxy",     "DISPLAY",    "WAYLAND_DISPLAY",
      "XDG_RUNTIME_DIR"};
  auto allowed = [&passed](std::string_view name) {
    auto matches = [name](std::string_view pattern) {
      if (!pattern.empty() && pattern.back() == '*') {
        return name.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
      }
      return name == pattern;
    };
    for (const char* pattern : kOrdinary) {
      if (matches(pattern)) return true;
    }
    for (const auto& pattern : passed) {
      if (matches(pattern)) return true;
    }
    return false;
  };
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view name = text.substr(0, equals);
    if (allowed(name)) out[std::string(name)] = std::string(text.substr(equals + 1));
  }
  return out;
}

// `base` with `additions` on top, as "KEY=value" strings.
std::vector<std::string> environment_with(std::map<std::string, std::string> base,
                                          const std::map<std::string, std::string>& additions) {
  for (const auto& [key, value] : additions) base[key] = value;
  std::vector<std::string> out;
  out.reserve(base.size());
  for (const auto& [key, value] : base) out.push_back(key + "=" + value);
  return out;
}

struct SpawnContext {
  std::map<std::string, std::string> environment;  // scrubbed; spec.env on top
  int cgroup_fd = -1;  // the run's cgroup to start the shell in; -1: none
  // Told the shell's pid (0: it did not start) and whether it started in the cgroup.
  std::function<void(pid_t, bool)> on_started;
  std::function<void()> kill_run;
  std::function<void()> ended;
  std::shared_ptr<Tracked> tracked;
};

// Starts `/bin/sh -c command` in a new process group with stdout and stderr on one pipe, or,
// with separate_stderr, stderr in an anonymous file: read once the command exits, it needs no
// second reader racing the first at the exit.
Result<std::shared_ptr<Child>> spawn(AsioExecutor& executor, ProcessSpec spec,
                                     const std::string& working_dir, SpawnContext context) {
  std::error_code ec;
  if (!fs::is_directory(working_dir, ec)) {
    return fail(ErrorCode::not_found, "working directory " + working_dir + " does not exist");
  }
  if (spec.terminal && (!spec.input || !spec.terminal->valid())) {
    return fail(ErrorCode::invalid_argument,
                "a command on a terminal needs an input and a size of 1 to " +
                    std::to_string(TerminalSize::kCellsMax) + " rows and columns");
  }
  int error_fd = -1;
  if (spec.separate_stderr && !spec.terminal) {
    error_fd = ::memfd_create("stderr", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (error_fd < 0) return fail(from_errno(errno, "memfd_create"));
  }
  // fds[0]: what the command's output is read from; fds[1]: the end it writes to (closed here
  // once it started). input_fds likewise for its stdin, when the caller talks to it. On a
  // terminal both are the terminal's controller side (the command opens the other by name).
  int fds[2] = {-1, -1};
  int input_fds[2] = {-1, -1};
  std::string terminal_name;
  if (spec.terminal) {
    winsize size{};
    size.ws_row = static_cast<unsigned short>(spec.terminal->rows);
    size.ws_col = static_cast<unsigned short>(spec.terminal->cols);
    int controller = -1;
    int device = -1;
    std::array<char, 256> name{};
    if (::openpty(&controller, &device, name.data(), nullptr, &size) != 0) {
      return fail(from_errno(errno, "openpty"));
    }
    ::close(device);  // opened again by the command, after setsid, to become its terminal
    terminal_name = name.data();
    ::fcntl(controller, F_SETFD, FD_CLOEXEC);
    fds[0] = controller;
    input_fds[1] = ::fcntl(controller, F_DUPFD_CLOEXEC, 0);
    if (input_fds[1] < 0) {
      const int error = errno;
      ::close(controller);
      return fail(from_errno(error, "dup"));
    }
  } else {
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      const int error = errno;
      if (error_fd >= 0) ::close(error_fd);
      return fail(from_errno(error, "pipe"));
    }
    if (spec.input && ::pipe2(input_fds, O_CLOEXEC) != 0) {
      const int error = errno;
      for (int fd : {fds[0], fds[1], error_fd}) {
        if (fd >= 0) ::close(fd);
      }
      return fail(from_errno(error, "pipe"));
    }
  }
  std::string shell = "/bin/sh";
  std::string dash_c = "-c";
  std::vector<char*> argv = {shell.data(), dash_c.data(), spec.command.data(), nullptr};
  std::map<std::string, std::string> additions = spec.env;
  if (spec.terminal && !additions.count("TERM")) additions["TERM"] = "xterm-256color";
  std::vector<std::string> env = environment_with(std::move(context.environment), additions);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  // Our descriptors are close-on-exec; the dup2'd copies (0, 1 and 2) are not. Default signal
  // handling and no blocked signals, whatever this process set up for itself.
  ChildSetup setup;
  setup.shell = shell.c_str();
  setup.argv = argv.data();
  setup.envp = envp.data();
  setup.stdin_fd = input_fds[0];
  setup.stdout_fd = fds[1];
  setup.stderr_fd = error_fd >= 0 ? error_fd : fds[1];
  setup.terminal = spec.terminal ? terminal_name.c_str() : nullptr;
  setup.working_dir = working_dir.c_str();
  sigemptyset(&setup.defaults);
  for (int signal : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&setup.defaults, signal);
  }

  pid_t pid = 0;
  int spawned = 0;
  bool in_cgroup = false;
  {
    // Tracked before the orphan reaper can see it exit, so only its Child reaps it.
    std::lock_guard lock(context.tracked->mutex);
    if (context.cgroup_fd >= 0) {
      pid = start_in_cgroup(setup, context.cgroup_fd, spawned);
      in_cgroup = pid > 0;
    }
    if (pid == 0 && (context.cgroup_fd < 0 || spawned == EPERM || spawned == EACCES ||
                     spawned == ENOSYS || spawned == EBUSY || spawned == EOPNOTSUPP)) {
      // No cgroup, or the kernel would not start a process in it: the run goes by parentage.
      spawned = spawn_plainly(setup, pid);
    }
    if (pid > 0) context.tracked->shells.insert(pid);
  }
  if (context.on_started) context.on_started(pid, in_cgroup);
  if (fds[1] >= 0) ::close(fds[1]);
  if (input_fds[0] >= 0) ::close(input_fds[0]);
  if (pid == 0) {
    for (int fd : {fds[0], error_fd, input_fds[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return fail(from_errno(spawned, "cannot start /bin/sh"));
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  if (input_fds[1] >= 0)
    ::fcntl(input_fds[1], F_SETFL, ::fcntl(input_fds[1], F_GETFL) | O_NONBLOCK);
  auto child = std::make_shared<Child>(executor, pid, fds[0], error_fd, input_fds[1],
                                       std::move(spec), std::move(context.kill_run),
                                       std::move(context.ended), context.tracked);
  child->start();
  return child;
}

std::atomic<std::uint64_t> hosts_created{0};

}  // namespace

// What the host's file threads and children share with it. Jobs and children hold it, so it
// outlives a host whose file thread was let go while stuck.
struct PosixHost::Shared {
  std::mutex mutex;
  AsioExecutor* executor = nullptr;  // cleared when the host goes: nothing is posted after
  std::map<std::string, std::string> environment;  // what commands start from
  std::atomic<std::uint64_t> next_temp{1};
  std::shared_ptr<Tracked> tracked = std::make_shared<Tracked>();
  // Which processes are whose run; shared with the kills queued on the file threads.
  std::shared_ptr<ProcessTracker> tracker;
  Duration file_operation_timeout{};
  std::unique_ptr<BlockingPool> pool;  // the file threads
  // Confined to the roots, never into the excluded directories; used from the file threads.
  std::unique_ptr<ConfinedFiles> files;
};

PosixHost::PosixHost(AsioExecutor& executor, std::string working_dir)
    : PosixHost(executor, PosixHostOptions{std::move(working_dir), {}, {}}) {}

PosixHost::PosixHost(AsioExecutor& executor, PosixHostOptions options)
    : executor_(executor),
      working_dir_(fs::path(options.working_dir).lexically_normal().string()),
      shared_(std::make_shared<Shared>()) {
  RELIANT_ASSERT_MSG(fs::path(working_dir_).is_absolute(), "PosixHost needs an absolute path");
  RELIANT_ASSERT(options.file_threads > 0);
  if (working_dir_.size() > 1 && working_dir_.back() == '/') working_dir_.pop_back();
  shared_->executor = &executor;
  // A command that closes its stdin while input is written to it must fail the write (EPIPE),
  // not kill this process with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  ConfinedFilesOptions files;
  files.roots = options.roots;
  files.excluded = options.excluded;
  files.use_openat2 = options.use_openat2;
  shared_->files = std::make_unique<ConfinedFiles>(std::move(files));
  shared_->environment = scrubbed_environment(options.passed_env);
  shared_->tracker = std::make_shared<ProcessTracker>(
      options.process_tracking,
      "reliant-" + std::to_string(::getpid()) + "-" + std::to_string(++hosts_created));
  shared_->file_operation_timeout = options.file_operation_timeout;
  shared_->pool = std::make_unique<BlockingPool>(options.file_threads, kFileThreadsStopGrace);
}

PosixHost::~PosixHost() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->executor = nullptr;
  }
  // Every process of every run still alive — running commands, and what they left behind
  // in the background — goes with the host (the daemon is exiting).
  shared_->tracker->kill_all();
  reap_orphans(*shared_->tracked);
  shared_->pool.reset();  // waits a moment for file threads, then lets stuck ones go
}

std::string PosixHost::resolve(const std::string& path) const {
  if (path.empty()) return working_dir_;
  fs::path p(path);
  if (p.is_relative()) p = fs::path(working_dir_) / p;
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

template <class T>
Task<Result<T>> PosixHost::off_executor(std::string what, std::function<Result<T>()> work) {
  auto pair = make_promise<Result<T>>(executor_);
  Promise<Result<T>> promise = pair.first;
  Future<Result<T>> future = std::move(pair.second);
  shared_->pool->submit([shared = shared_, promise, work = std::move(work)](std::size_t) {
    Result<T> out = work();
    std::lock_guard lock(shared->mutex);
    if (shared->executor == nullptr) return;  // the host is gone; so is the waiter
    shared->executor->post([promise, out = std::move(out)]() { (void)promise.set(out); });
  });
  const Duration limit = shared_->file_operation_timeout;
  ScopedTimer deadline(executor_, executor_.after(limit, [promise, what, limit] {
    (void)promise.set(fail(ErrorCode::timeout, what + ": no answer from the file system within " +
                                                   format_duration(limit)));
  }));
  Result<T> out = co_await future;
  co_return out;
}

Task<Result<ProcessOutcome>> PosixHost::run(ProcessSpec spec) {
  // The system's calls end a text at its first NUL: the command run, or the directory, would
  // be another than the one asked for.
  const auto holds_nul = [](const std::string& text) {
    return text.find('\0') != std::string::npos;
  };
  if (holds_nul(spec.command) || holds_nul(spec.working_dir) ||
      std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& variable) {
        return holds_nul(variable.first) || holds_nul(variable.second);
      })) {
    co_return fail(ErrorCode::invalid_argument,
                   "a command, its directory and its environment cannot hold a NUL byte");
  }
  const std::string dir = resolve(spec.working_dir);
  std::shared_ptr<ProcessTracker> tracker = shared_->tracker;
  const ProcessTracker::RunStart begun = tracker->begin_run();
  SpawnContext context;
  context.environment = shared_->environment;
  context.cgroup_fd = begun.cgroup_fd;
  context.tracked = shared_->tracked;
  context.on_started = [tracker, id = begun.id](pid_t shell, bool in_cgroup) {
    tracker->started(id, shell, in_cgroup);
  };
  // Killing the run's other processes reads cgroupfs or /proc and may wait for them: a file
  // thread's work, never the executor's.
  context.kill_run = [weak = std::weak_ptr<Shared>(shared_), id = begun.id] {
    auto shared = weak.lock();
    if (!shared || !shared->pool) return;
    shared->pool->submit([tracker = shared->tracker, tracked = shared->tracked, id](std::size_t) {
      tracker->kill_run(id);
      reap_orphans(*tracked);
    });
  };
  context.ended = [tracker, id = begun.id] { tracker->finished(id); };
  auto child = spawn(executor_, std::move(spec), dir, std::move(context));
  if (!child) {
    tracker->started(begun.id, 0, false);  // never started (a no-op when it was told)
    co_return fail(child.error());
  }
  CancelOnDestroy guard{*child};
  Future<Result<ProcessOutcome>> done = (*child)->take_future();
  Result<ProcessOutcome> outcome = co_await done;
  co_return outcome;
}

Task<Result<std::string>> PosixHost::read_file(std::string path, std::size_t bytes_max) {
  const std::string p = resolve(path);
  std::function<Result<std::string>()> work = [shared = shared_, p, bytes_max] {
    return shared->files->read(p, bytes_max);
  };
  Task<Result<std::string>> reading = off_executor<std::string>("read " + p, std::move(work));
  Result<std::string> out = co_await reading;
  co_return out;
}

Task<Result<FileSearch>> PosixHost::search_file(std::string path,
                                                std::shared_ptr<const LineMatcher> matcher,
                                                FileSearchLimits limits) {
  RELIANT_ASSERT(matcher != nullptr);
  const std::string p = resolve(path);
  limits.time_max = std::min(limits.time_max, shared_->file_operation_timeout);
  // Set once nobody waits for the answer (the caller was cancelled, or the host's deadline
  // passed): the file thread then stops matching at the next check instead of finishing a
  // search no one reads.
  auto given_up = std::make_shared<std::atomic<bool>>(false);
  struct GiveUpOnExit {
    std::shared_ptr<std::atomic<bool>> flag;
    ~GiveUpOnExit() { *flag = true; }
  } give_up_on_exit{given_up};
  std::function<Result<FileSearch>()> work = [shared = shared_, p, matcher, limits, given_up] {
    const auto deadline = std::chrono::steady_clock::now() + limits.time_max;
    auto content = shared->files->read(p, limits.file_bytes_max);
    if (!content) return Result<FileSearch>(fail(content.error()));
    return search_lines(*content, *matcher, limits, [&given_up, deadline] {
      return given_up->load() || std::chrono::steady_clock::now() >= deadline;
    });
  };
  Task<Result<FileSearch>> searching = off_executor<FileSearch>("search " + p, std::move(work));
  Result<FileSearch> out = co_await searching;
  co_return out;
}

Task<Result<void>> PosixHost::write_file(std::string path, std::string content) {
  const std::string p = resolve(path);
  const std::string suffix =
      std::to_string(::getpid()) + "-" + std::to_string(shared_->next_temp++);
  std::function<Result<void>()> work = [shared = shared_, p, suffix, content = std::move(content)] {
    return shared->files->write(p, content, suffix);
  };
  Task<Result<void>> writing = off_executor<void>("write " + p, std::move(work));
  Result<void> out = co_await writing;
  co_return out;
}

Task<Result<std::vector<FileEntry>>> PosixHost::list_directory(std::string path,
                                                               std::size_t entries_max) {
  const std::string p = resolve(path);
  std::function<Result<std::vector<FileEntry>>()> work = [shared = shared_, p, entries_max] {
    return shared->files->list(p, entries_max);
  };
  Task<Result<std::vector<FileEntry>>> listing =
      off_executor<std::vector<FileEntry>>("list " + p, std::move(work));
  Result<std::vector<FileEntry>> out = co_await listing;
  co_return out;
}

Task<Result<FileEntry>> PosixHost::stat(std::string path) {
  const std::string p = resolve(path);
  std::function<Result<FileEntry>()> work = [shared = shared_, p, path] {
    return shared->files->stat(p, path);
  };
  Task<Result<FileEntry>> stating = off_executor<FileEntry>("stat " + p, std::move(work));
  Result<FileEntry> out = co_await stating;
  co_return out;
}

Task<Result<void>> PosixHost::create_directory(std::string path) {
  const std::string p = resolve(path);
  std::function<Result<void>()> work = [shared = shared_, p] {
    return shared->files->create_directory(p);
  };
  Task<Result<void>> making = off_executor<void>("create " + p, std::move(work));
  Result<void> out = co_await making;
  co_return out;
}

Task<Result<void>> PosixHost::remove_path(std::string path, bool recursive) {
  const std::string p = resolve(path);
  std::function<Result<void>()> work = [shared = shared_, p, recursive] {
    return shared->files->remove(p, recursive);
  };
  Task<Result<void>> removing = off_executor<void>("remove " + p, std::move(work));
  Result<void> out = co_await removing;
  co_return out;
}

Task<Result<void>> PosixHost::move_path(std::string from, std::string to) {
  const std::string source = resolve(from);
  const std::string target = resolve(to);
  std::function<Result<void>()> work = [shared = shared_, source, target] {
    return shared->files->move(source, target);
  };
  Task<Result<void>> moving = off_executor<void>("move " + source, std::move(work));
  Result<void> out = co_await moving;
  co_return out;
}

Task<Result<void>> PosixHost::copy_path(std::string from, std::string to) {
  const std::string source = resolve(from);
  const std::string target = resolve(to);
  std::function<Result<void>()> work = [shared = shared_, source, target] {
    return shared->files->copy(source, target);
  };
  Task<Result<void>> copying = off_executor<void>("copy " + source, std::move(work));
  Result<void> out = co_await copying;
  co_return out;
}

bool PosixHost::uses_openat2() const { return shared_->files->uses_openat2(); }

std::string PosixHost::process_tracking() const { return shared_->tracker->describe(); }

std::unique_ptr<Host> make_posix_host(AsioExecutor& executor, PosixHostOptions options) {
  return std::make_unique<PosixHost>(executor, std::move(options));
}

bool enable_child_subreaper() { return ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }

}  // namespace reliant
