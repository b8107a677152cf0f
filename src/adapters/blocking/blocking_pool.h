// BlockingPool: a few dedicated threads for calls that block (database drivers), so executors
// never do. Each thread has an index, so a thread can own a connection of its own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace reliant {

class BlockingPool {
 public:
  using Job = std::function<void(std::size_t thread_index)>;

  explicit BlockingPool(std::size_t threads);
  // Lets running jobs finish, drops queued ones, joins the threads.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Thread-safe. Jobs run in submission order as threads free up.
  void submit(Job job);
  std::size_t queued() const;
  std::size_t size() const { return threads_.size(); }

 private:
  void loop(std::size_t index);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace reliant
