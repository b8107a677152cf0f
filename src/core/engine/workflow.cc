// Registry lookups and the engine's wrapper around an interpreter's decision.
#include "core/engine/workflow.h"

#include "base/assert.h"

namespace reliant::engine {

std::string start_to_close_exceeded(Duration limit) {
  return "activity exceeded its start-to-close timeout of " + format_duration(limit);
}

void WorkflowRegistry::add(std::unique_ptr<Workflow> workflow) {
  RELIANT_ASSERT(workflow != nullptr);
  const std::string name(workflow->name());
  RELIANT_ASSERT_MSG(workflows_.count(name) == 0, "workflow registered twice");
  workflows_.emplace(name, std::move(workflow));
}

const Workflow* WorkflowRegistry::find(std::string_view name) const {
  auto it = workflows_.find(name);
  return it == workflows_.end() ? nullptr : it->second.get();
}

std::vector<std::string> WorkflowRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, w] : workflows_) out.push_back(name);
  return out;
}

std::vector<HistoryEvent> decide_next(const RunState& state, const Workflow* workflow,
                                      std::int64_t now_ms) {
  std::vector<HistoryEvent> events;
  if (state.terminal) return events;
  std::int64_t seq = state.last_seq;
  auto add = [&](EventKind kind, Json body) {
    events.push_back(HistoryEvent{++seq, kind, std::move(body), now_ms});
  };
  if (state.cancel_requested) {
    add(EventKind::run_cancelled,
        Json{{"reason", state.cancel_reason.empty() ? std::string("cancel requested")
                                                    : state.cancel_reason}});
    return events;
  }
  if (workflow == nullptr) {
    add(EventKind::run_failed, Json{{"error", "unknown workflow '" + state.workflow + "'"}});
    return events;
  }
  auto commands = workflow->decide(state);
  if (!commands) {
    add(EventKind::run_failed, Json{{"error", commands.error().message}});
    return events;
  }
  // The commands are ours to take apart: their inputs and results move into the events.
  for (auto& command : *commands) {
    if (auto* a = std::get_if<ScheduleActivity>(&command)) {
      RELIANT_ASSERT(a->options.attempts_max >= 1);
      Json body = Json::object();
      body["name"] = a->name;
      body["input"] = std::move(a->input);
      body["max_attempts"] = a->options.attempts_max;
      body["start_to_close_ms"] = to_ms(a->options.start_to_close);
      body["heartbeat_timeout_ms"] = to_ms(a->options.heartbeat_timeout);
      add(EventKind::activity_scheduled, std::move(body));
    } else if (auto* t = std::get_if<StartTimer>(&command)) {
      Json body{{"fire_at_ms", now_ms + to_ms(t->delay)}};
      if (!t->tag.empty()) body["tag"] = t->tag;  // untagged timers' events stay as they were
      if (!t->info.is_null()) body["info"] = std::move(t->info);
      add(EventKind::timer_started, std::move(body));
    } else if (auto* c = std::get_if<CompleteRun>(&command)) {
      Json body = Json::object();
      body["result"] = std::move(c->result);
      add(EventKind::run_completed, std::move(body));
      break;  // nothing may follow a terminal event
    } else if (const auto* f = std::get_if<FailRun>(&command)) {
      add(EventKind::run_failed, Json{{"error", f->error}});
      break;
    }
  }
  return events;
}

}  // namespace reliant::engine
