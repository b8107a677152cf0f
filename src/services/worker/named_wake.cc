// The named wake-up's body: {"run": id, "owner": user, "tasks": [task id, ...]}.
#include "services/worker/named_wake.h"

#include <set>

#include "base/json_parse.h"
#include "core/engine/history.h"
#include "services/worker/worker.h"

namespace reliant::engine {
namespace {

// The most tasks one wake-up may name: a first decision a starter makes schedules at most
// kFoldedEventsMax activities (engine_runs.cc); more is not a starter's body.
constexpr std::size_t kNamedTasksMax = 64;

}  // namespace

void announce_start(Bus& bus, const std::string& queue, const std::string& run_id,
                    const std::string& owner, const std::vector<std::string>& task_ids) {
  // A lost wake-up is a slower start: the poll finds the tasks.
  (void)bus.publish(wake_subject(queue),
                    Json{{"run", run_id}, {"owner", owner}, {"tasks", task_ids}}.dump());
}

std::optional<NamedTasks> named_tasks_of(std::string_view body) {
  const Json named = parse_json_or_discarded(body, 4);
  if (!named.is_object() || !named.value("run", Json()).is_string() ||
      !named.value("owner", Json()).is_string() || !named.value("tasks", Json()).is_array() ||
      named["tasks"].size() > kNamedTasksMax) {
    return std::nullopt;
  }
  NamedTasks tasks{named["run"].get<std::string>(), named["owner"].get<std::string>(), {}};
  if (tasks.run_id.empty() || tasks.owner.empty()) return std::nullopt;
  std::set<std::string> ids;
  for (const Json& id : named["tasks"]) {
    if (id.is_string() && id.get_ref<const std::string&>().starts_with(tasks.run_id + ":")) {
      ids.insert(id.get<std::string>());
    }
  }
  if (ids.empty()) return std::nullopt;
  tasks.task_ids.assign(ids.begin(), ids.end());
  return tasks;
}

}  // namespace reliant::engine
