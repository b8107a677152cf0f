// Workflow history: the append-only events of one run. Everything the engine knows about a run
// is here; replaying it through the run's interpreter decides what happens next.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant::engine {

using Json = nlohmann::json;

enum class EventKind {
  run_started,         // {workflow, input}
  activity_scheduled,  // {name, input, max_attempts, start_to_close_ms, heartbeat_timeout_ms}
  activity_completed,  // {scheduled_seq, result, attempt}
  activity_failed,     // {scheduled_seq, error, attempts}: retries exhausted
  timer_started,       // {fire_at_ms, tag?}
  timer_fired,         // {started_seq}
  signal_received,     // {name, payload}
  cancel_requested,    // {reason}
  run_completed,       // {result}
  run_failed,          // {error}
  run_cancelled,       // {reason}
};

std::string_view to_string(EventKind kind);
Result<EventKind> parse_event_kind(std::string_view text);
bool is_terminal(EventKind kind);

struct HistoryEvent {
  std::int64_t seq = 0;  // 1, 2, 3, … without gaps
  EventKind kind = EventKind::run_started;
  Json body;
  std::int64_t at_ms = 0;
  // The earlier event this one answers (scheduled_seq / started_seq), or 0.
  std::int64_t ref_seq() const;
};

}  // namespace reliant::engine
