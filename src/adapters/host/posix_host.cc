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

// How long the destructor waits for a file thread stuck in the kernel before letting it go.
constexpr std::chrono::milliseconds kFileThreadsStopGrace{1000};

// Shells of commands still running: theirs to reap, never the orphan reaper's.
struct Tracked {
  std::mutex mutex;
  std::set<pid_t> shells;
};

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

// A running command: its pipe, its stderr file when kept apart, its exit watch, its timeout, and
// the promise the awaiting task waits on. Shared with asio's handlers, so it lives until the
// last one has run — which is how a killed process still gets reaped after its task is gone.
class Child : public std::enable_shared_from_this<Child> {
 public:
  // `kill_run` is called whenever the group is killed: it kills every other process of the
  // run. `ended` is called when the command exits by itself (not killed).
  // `error_fd`: the anonymous file the command's stderr goes to, owned from here; -1 for none.
  // `input_fd`: the write end of the command's stdin pipe, owned from here; -1 for /dev/null.
  Child(AsioExecutor& executor, pid_t pid, int output_fd, int error_fd, int input_fd,
        ProcessSpec spec, std::function<void()> kill_run, std::function<void()> ended,
        std::shared_ptr<Tracked> tracked)
      : io_(executor.context()),
        kill_run_(std::move(kill_run)),
        ended_(std::move(ended)),
        tracked_(std::move(tracked)),
        pid_(pid),
        error_fd_(error_fd),
        output_(io_, output_fd),
        input_(io_),
        timeout_(io_),
        poll_(io_),
        spec_(std::move(spec)) {
    auto [promise, future] = make_promise<Result<ProcessOutcome>>(executor);
    promise_ = std::move(promise);
    future_.emplace(std::move(future));
    if (input_fd >= 0) input_.assign(input_fd);
  }
  ~Child() { close_error_file(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  Future<Result<ProcessOutcome>> take_future() {
    RELIANT_ASSERT(future_.has_value());
    Future<Result<ProcessOutcome>> out = std::move(*future_);
    future_.reset();
    return out;
  }

  void start() {
    // pidfd (Linux 5.3+) becomes readable when the process exits; without it, poll waitid.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
      exit_watch_.emplace(io_, pidfd);
    }
    watch_exit();
    read_more();
    if (spec_.input) {
      spec_.input->on_ready([weak = weak_from_this()] {
        if (auto self = weak.lock()) self->write_input();
      });
      write_input();
    }
    if (spec_.timeout > Duration::zero()) {
      timeout_.expires_after(spec_.timeout);
      timeout_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_timeout();
      });
    }
  }

  bool finished() const { return finished_; }

  // The awaiting task is gone: kill the group, stop reading, reap when it has died.
  void cancel() {
    if (finished_ || cancelled_) return;
    cancelled_ = true;
    kill_group();
    boost::system::error_code ignored;
    timeout_.cancel();
    output_.close(ignored);
    end_input();
    close_error_file();
    if (exited_) reap();
    // Otherwise the exit watch is still armed and reaps when the kill lands.
  }

 private:
  void kill_group() {
    // The shell is not reaped yet (exit is observed with WNOWAIT), so its pid — the group id —
    // cannot have been reused by an unrelated process.
    if (!reaped_) ::kill(-pid_, SIGKILL);
    // Descendants that left the group (setsid, a double fork) are in the run's cgroup, or
    // known to the tracker by their parentage.
    if (kill_run_ && !run_killed_) kill_run_();
    run_killed_ = true;
  }

  void reap() {
    if (reaped_) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      std::lock_guard lock(tracked_->mutex);
      tracked_->shells.erase(pid_);
    }
  }

  // Has the shell exited? Looks without reaping it (WNOWAIT); records how it ended.
  bool check_exit() {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      // ECHILD: someone else reaped it (a SIGCHLD-ignoring process). Treat as exited.
      exited_ = true;
      exit_code_ = -1;
      return true;
    }
    if (info.si_pid == 0) return false;
    exited_ = true;
    exit_code_ = info.si_code == CLD_EXITED ? info.si_status : -1;
    return true;
  }

  void watch_exit() {
    auto self = shared_from_this();
    if (exit_watch_) {
      exit_watch_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [self](const boost::system::error_code& ec) {
                                if (ec == boost::asio::error::operation_aborted) return;
                                self->on_exit_signalled();
                              });
      return;
    }
    poll_.expires_after(std::chrono::milliseconds(10));
    poll_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->on_exit_signalled();
    });
  }

  void on_exit_signalled() {
    if (finished_ || reaped_) return;  // a poll that completed just as we finished
    if (!check_exit()) {
      watch_exit();  // spurious wake-up or still running (polling)
      return;
    }
    if (cancelled_) {
      reap();
      return;
    }
    // Everything the shell wrote is in the pipe now. Take the read in flight back first, so
    // no chunk can overtake another, then drain what is left without waiting for EOF (a
    // background child may hold the pipe open for hours).
    if (read_in_flight_) {
      boost::system::error_code ignored;
      output_.cancel(ignored);  // on_read drains and finishes
    } else {
      drain_and_finish();
    }
  }

  void on_timeout() {
    if (finished_ || cancelled_) return;
    timed_out_ = true;
    kill_group();  // the exit watch then sees the shell die and finishes
  }

  // Feeds what the caller queued to the command's stdin, one write at a time; closes the pipe
  // once the caller closed its input and everything before was written.
  void write_input() {
    if (!input_.is_open() || !spec_.input) return;
    if (auto size = spec_.input->take_resize(); size && spec_.terminal) {
      // The terminal tells the command's foreground group (SIGWINCH).
      winsize cells{};
      cells.ws_row = static_cast<unsigned short>(size->rows);
      cells.ws_col = static_cast<unsigned short>(size->cols);
      (void)::ioctl(input_.native_handle(), TIOCSWINSZ, &cells);
    }
    if (writing_) return;
    writing_buffer_ = spec_.input->take();
    if (writing_buffer_.empty()) {
      if (spec_.input->closed()) {
        boost::system::error_code ignored;
        input_.close(ignored);
      }
      return;
    }
    writing_ = true;
    boost::asio::async_write(
        input_, boost::asio::buffer(writing_buffer_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing_ = false;
          if (ec) {
            // The command closed its stdin (EPIPE) or is gone: nothing more can reach it.
            self->end_input();
            return;
          }
          self->write_input();
        });
  }

  void end_input() {
    if (spec_.input) spec_.input->end();
    boost::system::error_code ignored;
    input_.close(ignored);
  }

  void read_more() {
    read_in_flight_ = true;
    output_.async_read_some(boost::asio::buffer(buffer_),
                            [self = shared_from_this()](const boost::system::error_code& ec,
                                                        std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    read_in_flight_ = false;
    if (cancelled_ || finished_) return;
    if (n > 0) deliver(std::string_view(buffer_.data(), n));
    if (cancelled_) return;  // on_output may have cancelled us
    if (exited_) {
      drain_and_finish();
      return;
    }
    if (!ec) {
      read_more();
      return;
    }
    // EOF (or a read error) before the exit: nothing more will come; wait for the exit.
    output_closed_ = true;
  }

  void drain_and_finish() {
    if (!output_closed_ && output_.is_open()) {
      const int fd = output_.native_handle();
      for (;;) {
        const ssize_t n = ::read(fd, buffer_.data(), buffer_.size());
        if (n > 0) {
          deliver(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
          if (cancelled_) return;
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;  // EOF, EAGAIN (a background child holds the pipe) or an error
      }
    }
    finish();
  }

  void deliver(std::string_view chunk) {
    outcome_.output_bytes += chunk.size();
    if (spec_.collect_output) {
      std::size_t room = chunk.size();
      if (spec_.output_limit_bytes != 0) {
        const std::size_t used = outcome_.output.size();
        room = used >= spec_.output_limit_bytes
                   ? 0
                   : std::min(chunk.size(), spec_.output_limit_bytes - used);
      }
      if (room < chunk.size()) outcome_.truncated = true;
      outcome_.output.append(chunk.substr(0, room));
    }
    if (spec_.on_output) spec_.on_output(chunk);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    timeout_.cancel();
    poll_.cancel();
    output_.close(ignored);
    end_input();
    if (exit_watch_) exit_watch_->close(ignored);
    reap();
    take_error_output();
    outcome_.timed_out = timed_out_;
    outcome_.exit_code = timed_out_ ? -1 : exit_code_;
    // Exited by itself: what it left in the background stays (a killed run was told already).
    if (!run_killed_ && ended_) ended_();
    promise_.set(std::move(outcome_));
  }

  // What the command wrote to stderr, up to the limit, from its file. The file is sealed
  // first: a background child still holding it can then no longer grow it (its writes fail, as
  // on the closed pipe), so what stays in memory is bounded by what came before the exit.
  void take_error_output() {
    if (error_fd_ < 0) return;
    (void)::fcntl(error_fd_, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
    struct stat info {};
    if (::fstat(error_fd_, &info) == 0) {
      const auto size = static_cast<std::uint64_t>(info.st_size);
      std::uint64_t keep = size;
      if (spec_.output_limit_bytes != 0 && size > spec_.output_limit_bytes) {
        keep = spec_.output_limit_bytes;
        outcome_.truncated = true;
      }
      outcome_.output_bytes += size;
      std::string& text = outcome_.error_output;
      text.resize(static_cast<std::size_t>(keep));
      std::size_t done = 0;
      while (done < text.size()) {
        const ssize_t n =
            ::pread(error_fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      text.resize(done);
    }
    close_error_file();
  }

  void close_error_file() {
    if (error_fd_ >= 0) ::close(error_fd_);
    error_fd_ = -1;
  }

  boost::asio::io_context& io_;
  std::function<void()> kill_run_;
  std::function<void()> ended_;
  std::shared_ptr<Tracked> tracked_;
  pid_t pid_;
  int error_fd_;  // the stderr file; -1 when none or closed
  boost::asio::posix::stream_descriptor output_;
  boost::asio::posix::stream_descriptor input_;  // the command's stdin, when it has one
  std::string writing_buffer_;                   // the write in flight to input_
  bool writing_ = false;
  std::optional<boost::asio::posix::stream_descriptor> exit_watch_;  // the pidfd
  boost::asio::steady_timer timeout_;
  boost::asio::steady_timer poll_;  // exit polling where there is no pidfd
  ProcessSpec spec_;
  std::array<char, 64 * 1024> buffer_{};
  ProcessOutcome outcome_;
  Promise<Result<ProcessOutcome>> promise_;
  std::optional<Future<Result<ProcessOutcome>>> future_;
  int exit_code_ = 0;
  bool read_in_flight_ = false;
  bool output_closed_ = false;
  bool exited_ = false;
  bool reaped_ = false;
  bool timed_out_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  bool run_killed_ = false;
};

// Lives in run()'s frame: destroying the frame before the child finished is the cancel.
struct CancelOnDestroy {
  std::shared_ptr<Child> child;
  ~CancelOnDestroy() {
    if (child && !child->finished()) child->cancel();
  }
};

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
