// PosixHost: spawning commands in their own process group, reading their output through asio,
// noticing their exit through a pidfd (or polling where there is none), timeouts and kills;
// and the file operations on std::filesystem with atomic writes.
#include "adapters/host/posix_host.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "base/assert.h"
#include "runtime/future.h"

extern char** environ;

namespace reliant {

namespace fs = std::filesystem;

namespace {

Error from_errno(int error, const std::string& what) {
  const std::string message = what + ": " + std::strerror(error);
  switch (error) {
    case ENOENT:
      return Error{ErrorCode::not_found, message};
    case EACCES:
    case EPERM:
      return Error{ErrorCode::permission_denied, message};
    case EISDIR:
    case ENOTDIR:
    case EEXIST:
    case EINVAL:
      return Error{ErrorCode::invalid_argument, message};
    case EMFILE:
    case ENFILE:
    case ENOSPC:
    case EAGAIN:
    case ENOMEM:
      return Error{ErrorCode::resource_exhausted, message};
    default:
      return Error{ErrorCode::internal, message};
  }
}

Error from_error_code(const std::error_code& ec, const std::string& what) {
  if (ec.category() == std::generic_category() || ec.category() == std::system_category()) {
    return from_errno(ec.value(), what);
  }
  return Error{ErrorCode::internal, what + ": " + ec.message()};
}

// A running command: its pipe, its exit watch, its timeout, and the promise the awaiting task
// waits on. Shared with asio's handlers, so it lives until the last one has run — which is how
// a killed process still gets reaped after its task is gone.
class Child : public std::enable_shared_from_this<Child> {
 public:
  Child(AsioExecutor& executor, pid_t pid, int output_fd, ProcessSpec spec)
      : io_(executor.context()),
        pid_(pid),
        output_(io_, output_fd),
        timeout_(io_),
        poll_(io_),
        spec_(std::move(spec)) {
    auto [promise, future] = make_promise<Result<ProcessOutcome>>(executor);
    promise_ = std::move(promise);
    future_.emplace(std::move(future));
  }

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
    if (exited_) reap();
    // Otherwise the exit watch is still armed and reaps when the kill lands.
  }

 private:
  void kill_group() {
    // The shell is not reaped yet (exit is observed with WNOWAIT), so its pid — the group id —
    // cannot have been reused by an unrelated process.
    if (!reaped_) ::kill(-pid_, SIGKILL);
  }

  void reap() {
    if (reaped_) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) reaped_ = true;
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
    if (exit_watch_) exit_watch_->close(ignored);
    reap();
    outcome_.timed_out = timed_out_;
    outcome_.exit_code = timed_out_ ? -1 : exit_code_;
    promise_.set(std::move(outcome_));
  }

  boost::asio::io_context& io_;
  pid_t pid_;
  boost::asio::posix::stream_descriptor output_;
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
};

// Lives in run()'s frame: destroying the frame before the child finished is the cancel.
struct CancelOnDestroy {
  std::shared_ptr<Child> child;
  ~CancelOnDestroy() {
    if (child && !child->finished()) child->cancel();
  }
};

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

// The host's environment with `additions` on top, as "KEY=value" strings.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& additions) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    merged[std::string(text.substr(0, equals))] = std::string(text.substr(equals + 1));
  }
  for (const auto& [key, value] : additions) merged[key] = value;
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

// Starts `/bin/sh -c command` in a new process group with stdout and stderr on one pipe.
Result<std::shared_ptr<Child>> spawn(AsioExecutor& executor, ProcessSpec spec,
                                     const std::string& working_dir) {
  std::error_code ec;
  if (!fs::is_directory(working_dir, ec)) {
    return fail(ErrorCode::not_found, "working directory " + working_dir + " does not exist");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(from_errno(errno, "pipe"));
  SpawnSetup setup;
  // The pipe's own descriptors are close-on-exec; the dup2'd copies (1 and 2) are not.
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, fds[1], 2);
  // Nothing else of this process reaches the command: a server's listening socket, a database
  // file or a gRPC connection held by a tool (or its background children) would outlive a
  // crash of this process and keep, e.g., its port from being bound again on restart.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  posix_spawn_file_actions_addchdir_np(&setup.actions, working_dir.c_str());
  // A group of its own, so a kill reaches everything the command started; default signal
  // handling and no blocked signals, whatever this process set up for itself.
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attributes, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) {
    sigaddset(&defaults, signal);
  }
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);

  std::string shell = "/bin/sh";
  std::string dash_c = "-c";
  std::vector<char*> argv = {shell.data(), dash_c.data(), spec.command.data(), nullptr};
  std::vector<std::string> env = environment_with(spec.env);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, shell.c_str(), &setup.actions, &setup.attributes,
                                    argv.data(), envp.data());
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    return fail(from_errno(spawned, "cannot start /bin/sh"));
  }
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  auto child = std::make_shared<Child>(executor, pid, fds[0], std::move(spec));
  child->start();
  return child;
}

}  // namespace

PosixHost::PosixHost(AsioExecutor& executor, std::string working_dir)
    : executor_(executor), working_dir_(fs::path(working_dir).lexically_normal().string()) {
  RELIANT_ASSERT_MSG(fs::path(working_dir_).is_absolute(), "PosixHost needs an absolute path");
  if (working_dir_.size() > 1 && working_dir_.back() == '/') working_dir_.pop_back();
}

PosixHost::~PosixHost() = default;

std::string PosixHost::resolve(const std::string& path) const {
  if (path.empty()) return working_dir_;
  fs::path p(path);
  if (p.is_relative()) p = fs::path(working_dir_) / p;
  std::string out = p.lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Task<Result<ProcessOutcome>> PosixHost::run(ProcessSpec spec) {
  const std::string dir = resolve(spec.working_dir);
  auto child = spawn(executor_, std::move(spec), dir);
  if (!child) co_return fail(child.error());
  CancelOnDestroy guard{*child};
  Future<Result<ProcessOutcome>> done = (*child)->take_future();
  Result<ProcessOutcome> outcome = co_await done;
  co_return outcome;
}

Task<Result<std::string>> PosixHost::read_file(std::string path) {
  const std::string p = resolve(path);
  std::error_code ec;
  const fs::file_status status = fs::status(p, ec);
  if (!fs::exists(status)) co_return fail(ErrorCode::not_found, p + " does not exist");
  if (fs::is_directory(status)) co_return fail(ErrorCode::invalid_argument, p + " is a directory");
  // A FIFO would block the executor and a device may never end (/dev/zero): regular files only.
  if (!fs::is_regular_file(status)) {
    co_return fail(ErrorCode::invalid_argument, p + " is not a regular file");
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) co_return fail(from_errno(errno, "cannot open " + p));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) co_return fail(ErrorCode::internal, "cannot read " + p);
  co_return std::move(content).str();
}

Task<Result<void>> PosixHost::write_file(std::string path, std::string content) {
  std::string p = resolve(path);
  std::error_code ec;
  // Through a symbolic link to its target: replacing the link itself would surprise the user.
  if (fs::is_symlink(fs::symlink_status(p, ec))) {
    const fs::path target = fs::canonical(p, ec);
    if (!ec) p = target.string();
  }
  const fs::file_status status = fs::status(p, ec);
  if (fs::is_directory(status)) co_return fail(ErrorCode::invalid_argument, p + " is a directory");
  const fs::path parent = fs::path(p).parent_path();
  fs::create_directories(parent, ec);
  if (ec) co_return fail(from_error_code(ec, "cannot create the directories of " + p));

  // Write a temporary file beside it, then rename over it: readers see the old file or the
  // new one, never half of it.
  const std::string temp =
      (parent / ("." + fs::path(p).filename().string() + ".reliant-" + std::to_string(::getpid()) +
                 "-" + std::to_string(next_temp_++)))
          .string();
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) co_return fail(from_errno(errno, "cannot create " + temp));
  if (fs::exists(status)) ::fchmod(fd, static_cast<mode_t>(status.permissions()));
  std::size_t written = 0;
  int write_error = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      write_error = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (write_error == 0 && ::fsync(fd) != 0) write_error = errno;
  if (::close(fd) != 0 && write_error == 0) write_error = errno;
  if (write_error == 0 && ::rename(temp.c_str(), p.c_str()) != 0) write_error = errno;
  if (write_error != 0) {
    ::unlink(temp.c_str());
    co_return fail(from_errno(write_error, "cannot write " + p));
  }
  co_return Result<void>{};
}

Task<Result<std::vector<FileEntry>>> PosixHost::list_directory(std::string path) {
  const std::string p = resolve(path);
  std::error_code ec;
  const fs::file_status status = fs::status(p, ec);
  if (!fs::exists(status)) co_return fail(ErrorCode::not_found, p + " does not exist");
  if (!fs::is_directory(status)) {
    co_return fail(ErrorCode::invalid_argument, p + " is not a directory");
  }
  fs::directory_iterator it(p, ec);
  if (ec) co_return fail(from_error_code(ec, "cannot list " + p));
  std::vector<FileEntry> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const fs::directory_entry& entry = *it;
    FileEntry out;
    out.path = (p == "/" ? std::string("/") : p + "/") + entry.path().filename().string();
    std::error_code entry_ec;
    out.is_symlink = entry.is_symlink(entry_ec);
    out.is_directory = entry.is_directory(entry_ec);  // follows links
    if (!out.is_directory && entry.is_regular_file(entry_ec)) {
      const auto size = entry.file_size(entry_ec);
      out.size_bytes = entry_ec ? 0 : size;
    }
    entries.push_back(std::move(out));
  }
  if (ec) co_return fail(from_error_code(ec, "cannot list " + p));
  std::sort(entries.begin(), entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  co_return entries;
}

Task<Result<FileEntry>> PosixHost::stat(std::string path) {
  const std::string p = resolve(path);
  std::error_code ec;
  const fs::file_status link_status = fs::symlink_status(p, ec);
  const fs::file_status status = fs::status(p, ec);
  if (!fs::exists(status)) co_return fail(ErrorCode::not_found, p + " does not exist");
  FileEntry entry;
  entry.path = path;
  entry.is_symlink = fs::is_symlink(link_status);
  entry.is_directory = fs::is_directory(status);
  if (fs::is_regular_file(status)) {
    const auto size = fs::file_size(p, ec);
    entry.size_bytes = ec ? 0 : size;
  }
  co_return entry;
}

std::unique_ptr<Host> make_posix_host(AsioExecutor& executor, std::string working_dir) {
  return std::make_unique<PosixHost>(executor, std::move(working_dir));
}

}  // namespace reliant
