// Event kind names (as stored in the database) and references between events.
#include "core/engine/history.h"

#include <array>
#include <utility>

namespace reliant::engine {
namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, 11> kNames = {{
    {EventKind::run_started, "run_started"},
    {EventKind::activity_scheduled, "activity_scheduled"},
    {EventKind::activity_completed, "activity_completed"},
    {EventKind::activity_failed, "activity_failed"},
    {EventKind::timer_started, "timer_started"},
    {EventKind::timer_fired, "timer_fired"},
    {EventKind::signal_received, "signal_received"},
    {EventKind::cancel_requested, "cancel_requested"},
    {EventKind::run_completed, "run_completed"},
    {EventKind::run_failed, "run_failed"},
    {EventKind::run_cancelled, "run_cancelled"},
}};
}  // namespace

std::string_view to_string(EventKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

Result<EventKind> parse_event_kind(std::string_view text) {
  for (const auto& [k, name] : kNames) {
    if (name == text) return k;
  }
  return fail(ErrorCode::invalid_argument,
              "unknown history event kind '" + std::string(text) + "'");
}

bool is_terminal(EventKind kind) {
  return kind == EventKind::run_completed || kind == EventKind::run_failed ||
         kind == EventKind::run_cancelled;
}

std::int64_t HistoryEvent::ref_seq() const {
  const char* key = nullptr;
  switch (kind) {
    case EventKind::activity_completed:
    case EventKind::activity_failed:
      key = "scheduled_seq";
      break;
    case EventKind::timer_fired:
      key = "started_seq";
      break;
    default:
      return 0;
  }
  const auto it = body.find(key);
  return it != body.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace reliant::engine
