// BlockingPool: a few dedicated threads for calls that block (database drivers, file system
// calls), so executors never do. Each thread has an index, so a thread can own a connection of
// its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace reliant {

class BlockingPool {
 public:
  using Job = std::function<void(std::size_t thread_index)>;

  // `stop_grace`: how long the destructor waits for running jobs. Without one it waits as long
  // as they take (a database call ends). With one, a thread whose job is still stuck after it
  // (a read of a file that never answers) is let go: it finishes on its own and touches nothing
  // of the pool's owner — its job must own what it uses.
  explicit BlockingPool(std::size_t threads,
                        std::optional<std::chrono::milliseconds> stop_grace = std::nullopt);
  // Lets running jobs finish (within the grace, if any), drops queued ones, joins the threads.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Thread-safe. Jobs run in submission order as threads free up.
  void submit(Job job);
  std::size_t queued() const;
  std::size_t size() const { return threads_.size(); }

 private:
  struct Shared;  // what the threads use: outlives the pool while a let-go thread runs
  std::shared_ptr<Shared> shared_;
  std::optional<std::chrono::milliseconds> stop_grace_;
  std::vector<std::thread> threads_;
};

}  // namespace reliant
