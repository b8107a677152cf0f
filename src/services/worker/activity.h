// Activities: the steps of a workflow that do the work (LLM calls, tool calls, database work).
// They run at least once per scheduled step; only their first result counts.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/engine/history.h"
#include "runtime/executor.h"
#include "runtime/random.h"
#include "runtime/scope.h"
#include "runtime/task.h"

namespace reliant::engine {

struct ActivityContext {
  std::string run_id;
  std::int64_t scheduled_seq = 0;
  std::int64_t attempt = 0;
  Executor& executor;
  Random& random;
  // Tells the engine the attempt is alive (extends its lease when a heartbeat timeout is set).
  // A heartbeat that finds the lease lost or the run ended (cancelled) cancels the attempt.
  std::function<void()> heartbeat;
  // Outlives the attempt: where an activity starts what must still happen once its attempt is
  // cancelled (telling a daemon to stop the tool it started). Check closing() first: a worker
  // that is shutting down takes nothing new.
  Scope* cleanup = nullptr;
};

class Activity {
 public:
  virtual ~Activity() = default;
  virtual std::string_view name() const = 0;
  // An error retries the activity (until its attempts run out). Destroying the returned task
  // cancels the attempt (timeout, lost lease, worker shutdown).
  virtual Task<Result<Json>> run(ActivityContext& context, Json input) = 0;
};

class ActivityRegistry {
 public:
  void add(std::unique_ptr<Activity> activity);
  Activity* find(std::string_view name) const;

 private:
  std::map<std::string, std::unique_ptr<Activity>, std::less<>> activities_;
};

// "echo": returns its input. With "delay_ms" in the input it first waits that long, sending a
// heartbeat every `delay_ms / 4`; with "fail_attempts": N it fails its first N attempts.
void register_builtin_activities(ActivityRegistry& registry);

}  // namespace reliant::engine
