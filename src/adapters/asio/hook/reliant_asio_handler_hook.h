// Asio's handler-tracking hooks, used to run every handler of an AsioExecutor under its run lock.
//
// CMakeLists.txt names this header in BOOST_ASIO_CUSTOM_HANDLER_TRACKING for every translation
// unit (through an include directory of its own), so each handler asio invokes (posts, timers,
// socket and descriptor completions, Beast's composed operations) passes through Invocation. On a
// thread that runs an AsioExecutor's io_context, the outermost handler holds that executor's run
// lock: another thread may then run the executor's work while it is idle, and never at the same
// time (AsioExecutor::hand_over). Handlers of threads that run no AsioExecutor are untouched.
#pragma once

#include <mutex>

namespace reliant::asio_hook {

struct ThreadState {
  std::mutex* run_lock = nullptr;  // the executor this thread runs; set by AsioExecutor
  int depth = 0;                   // handlers invoked inside handlers
};
inline thread_local ThreadState this_thread;

class Invocation {
 public:
  template <class... Args>
  explicit Invocation(Args&&...) {}
  Invocation(const Invocation&) = delete;
  Invocation& operator=(const Invocation&) = delete;
  ~Invocation() { end(); }

  template <class... Args>
  void begin(Args&&...) {
    ThreadState& state = this_thread;
    if (state.run_lock == nullptr || begun_) return;
    if (state.depth++ == 0) state.run_lock->lock();
    lock_ = state.run_lock;
    begun_ = true;
  }
  void end() {
    if (!begun_) return;
    begun_ = false;
    if (--this_thread.depth == 0) lock_->unlock();
  }

 private:
  bool begun_ = false;
  std::mutex* lock_ = nullptr;
};

}  // namespace reliant::asio_hook

#define BOOST_ASIO_INHERIT_TRACKED_HANDLER
#define BOOST_ASIO_ALSO_INHERIT_TRACKED_HANDLER
#define BOOST_ASIO_HANDLER_TRACKING_INIT (void)0
#define BOOST_ASIO_HANDLER_LOCATION(args) (void)0
#define BOOST_ASIO_HANDLER_CREATION(args) (void)0
#define BOOST_ASIO_HANDLER_COMPLETION(args) ::reliant::asio_hook::Invocation tracked_completion args
#define BOOST_ASIO_HANDLER_INVOCATION_BEGIN(args) tracked_completion.begin args
#define BOOST_ASIO_HANDLER_INVOCATION_END tracked_completion.end()
#define BOOST_ASIO_HANDLER_OPERATION(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_REGISTRATION(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_DEREGISTRATION(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_READ_EVENT 1
#define BOOST_ASIO_HANDLER_REACTOR_WRITE_EVENT 2
#define BOOST_ASIO_HANDLER_REACTOR_ERROR_EVENT 4
#define BOOST_ASIO_HANDLER_REACTOR_EVENTS(args) (void)0
#define BOOST_ASIO_HANDLER_REACTOR_OPERATION(args) (void)0
