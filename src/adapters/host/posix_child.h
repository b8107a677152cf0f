// A command PosixHost started, while it runs: its output read through asio, its stderr kept
// apart in an anonymous file until it exits, its input, its exit noticed through a pidfd (or by
// polling where there is none), its timeout, and the kill of its group and of the rest of its
// run. Internal to PosixHost (posix_host.cc).
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/errno_error.h"
#include "base/assert.h"
#include "runtime/future.h"
#include "runtime/host.h"

namespace reliant::posix_host {

// Shells of commands still running: theirs to reap, never the orphan reaper's.
struct Tracked {
  std::mutex mutex;
  std::set<pid_t> shells;
};

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

}  // namespace reliant::posix_host
