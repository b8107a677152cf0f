// BlockingPool: a mutex-guarded queue and N threads sharing it.
#include "adapters/blocking/blocking_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>

namespace reliant {

struct BlockingPool::Shared {
  std::mutex mutex;
  std::condition_variable wake;      // a job, or stopping
  std::condition_variable finished;  // a thread left its loop
  std::deque<Job> jobs;
  bool stopping = false;
  std::vector<bool> done;  // by thread index: left the loop

  void loop(std::size_t index) {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [this] { return stopping || !jobs.empty(); });
        if (stopping) break;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      job(index);
    }
    std::lock_guard lock(mutex);
    done[index] = true;
    finished.notify_all();
  }
};

BlockingPool::BlockingPool(std::size_t threads, std::optional<std::chrono::milliseconds> stop_grace)
    : shared_(std::make_shared<Shared>()), stop_grace_(stop_grace) {
  shared_->done.assign(threads, false);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([shared = shared_, i] { shared->loop(i); });
  }
}

BlockingPool::~BlockingPool() {
  std::unique_lock lock(shared_->mutex);
  shared_->stopping = true;
  shared_->jobs.clear();
  shared_->wake.notify_all();
  if (stop_grace_) {
    (void)shared_->finished.wait_for(lock, *stop_grace_, [this] {
      for (bool d : shared_->done) {
        if (!d) return false;
      }
      return true;
    });
  }
  std::vector<bool> done = shared_->done;
  lock.unlock();
  for (std::size_t i = 0; i < threads_.size(); ++i) {
    // Without a grace every thread is joined; with one, only those that left their loop.
    if (!stop_grace_ || done[i]) {
      threads_[i].join();
    } else {
      threads_[i].detach();  // stuck in a job: it holds its own reference to `shared_`
    }
  }
}

void BlockingPool::submit(Job job) {
  {
    std::lock_guard lock(shared_->mutex);
    if (shared_->stopping) return;
    shared_->jobs.push_back(std::move(job));
  }
  shared_->wake.notify_one();
}

std::size_t BlockingPool::queued() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->jobs.size();
}

}  // namespace reliant
