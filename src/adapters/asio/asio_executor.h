// AsioExecutor: the real Executor, an io_context run by one thread; post() is thread-safe.
//
// Its handlers run one at a time under a run lock (adapters/asio/hook/reliant_asio_handler_hook.h
// takes it around every handler asio invokes on the running thread). hand_over() uses it: an
// adapter's thread that finds the executor idle — nothing posted and waiting, no handler running —
// takes the lock and runs the handed-over work itself, with whatever that work posts, before
// letting go. The component still runs one handler at a time, in the order its own posts were made;
// only the thread differs, and the thread wake-up a hand-over costs is saved (on this project's
// 2-core machines a wake-up on the other core costs 30–60 µs).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>

#include "adapters/asio/asio.h"
#include "runtime/executor.h"

namespace reliant {

class AsioExecutor final : public Executor {
 public:
  AsioExecutor();
  ~AsioExecutor() override;

  Instant now() const override;
  SteadyInstant steady_now() const override;
  void post(std::function<void()> fn) override;
  void hand_over(std::function<void()> fn) override;
  TimerId after(Duration delay, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  // Runs handlers on the calling thread until stop() (or until nothing is left to do when
  // `keep_alive` is false). Only while it runs may another thread run handed-over work.
  void run(bool keep_alive = true);
  // Runs handlers until `done()` holds (checked under the run lock after each handler, and
  // after each hand-over another thread ran), waiting for posts from other threads in between
  // — for callers whose work finishes on threads asio cannot see.
  void run_until(const std::function<bool()>& done);
  // Thread-safe: makes run() return after the handler in progress.
  void stop();
  // Whether the calling thread is running this executor's work now: one of its handlers on its
  // loop thread, or a hand-over it took.
  bool running_here() const;

  boost::asio::io_context& context() { return context_; }

 private:
  // Marks the calling thread as the one running this executor's handlers, for its lifetime.
  class Running;
  // Runs what a hand-over started, and what that posted, on the thread that took it over.
  void run_stolen(std::function<void()> fn);

  // Posts run by a thread that took over the executor before it lets go; more than this and
  // the rest are posted, so an adapter's thread never runs a component for long.
  static constexpr int kStolenMax = 64;

  boost::asio::io_context context_;
  std::mutex run_lock_;
  std::atomic<int> queued_{0};        // posted to asio and not started
  std::atomic<bool> looping_{false};  // run() or run_until() in progress
  std::atomic<bool> waiting_until_{false};
  std::deque<std::function<void()>> stolen_;  // by the thread holding run_lock_ in a hand-over
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;

  // Timers wait here, by id and in firing order, behind one asio timer armed for the earliest:
  // setting and cancelling them makes no asio operation. (A cancelled asio wait posts its
  // completion — from a thread that took a hand-over, a wake-up of the loop thread per timer.)
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Pending {
    SteadyTime deadline;
    std::function<void()> fn;
  };
  void arm();
  void on_alarm(std::uint64_t generation);
  std::map<TimerId, Pending> timers_;
  std::set<std::pair<SteadyTime, TimerId>> deadlines_;
  boost::asio::steady_timer alarm_{context_};
  std::optional<SteadyTime> armed_;  // what the alarm waits for, if it waits
  std::uint64_t alarm_generation_ = 0;
  TimerId next_timer_ = 1;
};

}  // namespace reliant
