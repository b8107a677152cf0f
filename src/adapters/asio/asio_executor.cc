// AsioExecutor: wall-clock time, timers behind one asio alarm, and hand-overs run by the adapter
// thread that makes them while the executor is idle.
#include "adapters/asio/asio_executor.h"

#include <chrono>

#include "adapters/asio/hook/reliant_asio_handler_hook.h"

namespace reliant {
namespace {

// The executor whose hand-over this thread is running: its posts wait in `stolen_`.
thread_local AsioExecutor* taken_over = nullptr;

}  // namespace

class AsioExecutor::Running {
 public:
  explicit Running(AsioExecutor& executor)
      : executor_(executor), previous_(asio_hook::this_thread) {
    nested_ = previous_.run_lock == &executor.run_lock_;
    if (nested_) return;  // run_until() inside a handler: the outer run is already marked
    asio_hook::this_thread = {&executor.run_lock_, 0};
    executor_.looping_.store(true, std::memory_order_release);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() {
    if (nested_) return;
    executor_.looping_.store(false, std::memory_order_release);
    // A hand-over still running ends first: the caller may go on to destroy components.
    std::lock_guard wait(executor_.run_lock_);
    asio_hook::this_thread = previous_;
  }

 private:
  AsioExecutor& executor_;
  asio_hook::ThreadState previous_;
  bool nested_ = false;
};

AsioExecutor::AsioExecutor() = default;
AsioExecutor::~AsioExecutor() { alarm_.cancel(); }

Instant AsioExecutor::now() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return Instant(std::chrono::duration_cast<Duration>(since_epoch));
}

SteadyInstant AsioExecutor::steady_now() const {
  const auto since_boot = std::chrono::steady_clock::now().time_since_epoch();
  return SteadyInstant(std::chrono::duration_cast<Duration>(since_boot));
}

void AsioExecutor::post(std::function<void()> fn) {
  if (taken_over == this) {
    stolen_.push_back(std::move(fn));
    return;
  }
  queued_.fetch_add(1, std::memory_order_acq_rel);
  boost::asio::post(context_, [this, fn = std::move(fn)] {
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    fn();
  });
}

void AsioExecutor::hand_over(std::function<void()> fn) {
  // Taken over only from outside any executor's work, with nothing posted still waiting (it
  // goes first), when no handler runs, and while the loop runs (read under the lock: a loop
  // that ends waits for the lock before its caller goes on).
  const bool outside = taken_over == nullptr && asio_hook::this_thread.run_lock == nullptr;
  if (outside && queued_.load(std::memory_order_acquire) == 0 && run_lock_.try_lock()) {
    if (looping_.load(std::memory_order_acquire)) {
      run_stolen(std::move(fn));
      // run_until() checks its condition after handlers it ran; this one ran elsewhere.
      if (waiting_until_.load(std::memory_order_acquire)) boost::asio::post(context_, [] {});
      return;
    }
    run_lock_.unlock();
  }
  post(std::move(fn));
}

void AsioExecutor::run_stolen(std::function<void()> fn) {
  std::unique_lock lock(run_lock_, std::adopt_lock);
  taken_over = this;
  struct Release {
    ~Release() { taken_over = nullptr; }
  } release;
  fn();
  for (int ran = 0; !stolen_.empty(); ++ran) {
    if (ran == kStolenMax) {
      std::deque<std::function<void()>> rest;
      rest.swap(stolen_);
      taken_over = nullptr;
      for (auto& next : rest) post(std::move(next));  // in order, to the executor's thread
      return;
    }
    std::function<void()> next = std::move(stolen_.front());
    stolen_.pop_front();
    next();
  }
}

TimerId AsioExecutor::after(Duration delay, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  const SteadyTime deadline = std::chrono::steady_clock::now() + std::max(delay, Duration::zero());
  timers_.emplace(id, Pending{deadline, std::move(fn)});
  deadlines_.emplace(deadline, id);
  if (!armed_ || deadline < *armed_) arm();
  return id;
}

bool AsioExecutor::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return false;
  deadlines_.erase({it->second.deadline, id});
  timers_.erase(it);
  // With none left the alarm goes too: run(keep_alive=false) has nothing more to wait for.
  if (timers_.empty() && armed_) {
    armed_.reset();
    ++alarm_generation_;
    alarm_.cancel();
  }
  return true;
}

void AsioExecutor::arm() {
  armed_ = deadlines_.begin()->first;
  const std::uint64_t generation = ++alarm_generation_;
  alarm_.expires_at(*armed_);  // a wait in progress ends: its handler sees an old generation
  alarm_.async_wait([this, generation](const boost::system::error_code&) { on_alarm(generation); });
}

void AsioExecutor::on_alarm(std::uint64_t generation) {
  if (generation != alarm_generation_) return;
  armed_.reset();
  const SteadyTime now = std::chrono::steady_clock::now();
  // The due ones in deadline order. Each may set or cancel timers: the front is read anew, and
  // a timer cancelled by an earlier one (due as well) never runs.
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const TimerId id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = timers_.find(id);
    std::function<void()> fn = std::move(it->second.fn);
    timers_.erase(it);
    fn();
  }
  if (!deadlines_.empty() && !armed_) arm();
}

void AsioExecutor::run(bool keep_alive) {
  if (keep_alive) {
    work_ =
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            context_.get_executor());
  } else {
    work_.reset();
  }
  Running running(*this);
  context_.restart();
  context_.run();
}

void AsioExecutor::run_until(const std::function<bool()>& done) {
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work(
      context_.get_executor());
  Running running(*this);
  const bool was_waiting = waiting_until_.exchange(true);
  // `done` reads the components' state, which a hand-over may be changing on another thread.
  const auto check = [&] {
    if (asio_hook::this_thread.depth > 0) return done();  // inside a handler: already held
    std::lock_guard lock(run_lock_);
    return done();
  };
  context_.restart();
  while (!check()) context_.run_one();
  waiting_until_ = was_waiting;
}

void AsioExecutor::stop() { context_.stop(); }

bool AsioExecutor::running_here() const {
  const asio_hook::ThreadState& state = asio_hook::this_thread;
  return taken_over == this || (state.run_lock == &run_lock_ && state.depth > 0);
}

}  // namespace reliant
