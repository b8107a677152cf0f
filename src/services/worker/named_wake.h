// A wake-up that names the tasks a run's start made ready (announce_start), and reading one back
// as the worker hears it (named_tasks_of): the body on the workers' wake subject.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/bus.h"

namespace reliant::engine {

// The tasks one wake-up names: a run's, for its user (whose share the worker checks).
struct NamedTasks {
  std::string run_id;
  std::string owner;
  std::vector<std::string> task_ids;  // distinct, each the run's ("<run_id>:…")
};

// Wakes a worker for the tasks a run's start made ready (start_run's ready_tasks), naming them:
// the worker it reaches claims them by id, with the run's history (claim_named_tasks), rather
// than polling the queue. (An empty body, any worker's announcement, asks for a poll.)
void announce_start(Bus& bus, const std::string& queue, const std::string& run_id,
                    const std::string& owner, const std::vector<std::string>& task_ids);

// The tasks `body` names, or nothing when it names none a worker may claim by name: anyone on
// the bus may publish there, so a body that is not such an object, names no user, names more
// tasks than a start makes ready, or ids not of its run is a plain wake-up. Each task once.
std::optional<NamedTasks> named_tasks_of(std::string_view body);

}  // namespace reliant::engine
