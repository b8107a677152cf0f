// AsioExecutor: the real Executor, an io_context run by one thread; post() is thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>

#include "adapters/asio/asio.h"
#include "runtime/executor.h"

namespace reliant {

class AsioExecutor final : public Executor {
 public:
  AsioExecutor();
  ~AsioExecutor() override;

  Instant now() const override;
  void post(std::function<void()> fn) override;
  TimerId after(Duration delay, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  // Runs handlers on the calling thread until stop() (or until nothing is left to do when
  // `keep_alive` is false).
  void run(bool keep_alive = true);
  // Runs handlers until `done()` holds (checked after each handler), waiting for posts from
  // other threads in between — for callers whose work finishes on threads asio cannot see.
  void run_until(const std::function<bool()>& done);
  // Thread-safe: makes run() return after the handler in progress.
  void stop();

  boost::asio::io_context& context() { return context_; }

 private:
  boost::asio::io_context context_;
  std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
  TimerId next_timer_ = 1;
};

}  // namespace reliant
