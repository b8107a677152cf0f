// Scope: starting, finishing and tearing down root tasks.
#include "runtime/scope.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace reliant {

namespace detail {
void root_task_finished(Scope* scope, std::uint64_t id, std::exception_ptr error) noexcept {
  scope->finished(id, std::move(error));
}
}  // namespace detail

Scope::Scope(Executor& executor) : executor_(executor), self_(std::make_shared<Scope*>(this)) {}

Scope::~Scope() {
  tearing_down_ = true;
  // Destroying a frame can destroy objects that hold tasks of their own, but never tasks of
  // this map (those are owned here), so a plain walk is safe.
  auto tasks = std::move(tasks_);
  tasks_.clear();
  for (auto& [id, handle] : tasks) handle.destroy();
}

void Scope::spawn(Task<void> task) {
  RELIANT_ASSERT_MSG(!tearing_down_, "spawn into a scope that is being destroyed");
  auto handle = task.release();
  RELIANT_ASSERT(handle);
  const std::uint64_t id = next_id_++;
  handle.promise().scope = this;
  handle.promise().scope_id = id;
  tasks_.emplace(id, handle);
  std::weak_ptr<Scope*> weak = self_;
  executor_.post([weak, id] {
    if (auto alive = weak.lock()) (*alive)->start(id);
  });
}

void Scope::start(std::uint64_t id) {
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  it->second.resume();
}

void Scope::finished(std::uint64_t id, std::exception_ptr error) noexcept {
  auto it = tasks_.find(id);
  RELIANT_ASSERT(it != tasks_.end());
  auto handle = it->second;
  tasks_.erase(it);
  handle.destroy();
  if (error) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "fatal: a root task ended with an exception: %s\n", what.c_str());
    std::abort();
  }
}

}  // namespace reliant
