// AsioExecutor: wall-clock time, asio timers keyed by id so they can be cancelled.
#include "adapters/asio/asio_executor.h"

#include <chrono>

namespace reliant {

AsioExecutor::AsioExecutor() = default;
AsioExecutor::~AsioExecutor() {
  for (auto& [id, timer] : timers_) timer->cancel();
}

Instant AsioExecutor::now() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Instant(std::chrono::duration_cast<Duration>(since_epoch));
}

void AsioExecutor::post(std::function<void()> fn) { boost::asio::post(context_, std::move(fn)); }

TimerId AsioExecutor::after(Duration delay, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(context_);
  timer->expires_after(std::max(delay, Duration::zero()));
  timer->async_wait([this, id, fn = std::move(fn)](const boost::system::error_code&) {
    // The entry, not the error code, says whether the timer is still wanted: a timer cancelled
    // after it expired but before this ran still completes with success.
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    timers_.erase(it);
    fn();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

bool AsioExecutor::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return false;
  // Destroying the timer aborts its wait (or, if it already expired, its queued handler finds
  // no entry and returns without touching anything).
  timers_.erase(it);
  return true;
}

void AsioExecutor::run(bool keep_alive) {
  if (keep_alive) {
    work_ =
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            context_.get_executor());
  } else {
    work_.reset();
  }
  context_.restart();
  context_.run();
}

void AsioExecutor::run_until(const std::function<bool()>& done) {
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work(
      context_.get_executor());
  context_.restart();
  while (!done()) context_.run_one();
}

void AsioExecutor::stop() { context_.stop(); }

}  // namespace reliant
