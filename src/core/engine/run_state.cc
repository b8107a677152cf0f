// Folding and validating a history, one event at a time.
#include "core/engine/run_state.h"

#include <algorithm>

namespace reliant::engine {
namespace {
Error corrupt(const HistoryEvent& e, const std::string& why) {
  return Error{ErrorCode::internal, "corrupt history at seq " + std::to_string(e.seq) + " (" +
                                        std::string(to_string(e.kind)) + "): " + why};
}
}  // namespace

Result<RunState> RunState::fold(const std::vector<HistoryEvent>& history) {
  RunState state;
  for (const auto& event : history) {
    if (auto ok = state.apply(event); !ok) return fail(ok.error());
  }
  return state;
}

Result<void> RunState::apply(const HistoryEvent& e) {
  if (e.seq != last_seq + 1)
    return fail(corrupt(e, "expected seq " + std::to_string(last_seq + 1)));
  if (terminal) return fail(corrupt(e, "event after the run ended"));
  if ((last_seq == 0) != (e.kind == EventKind::run_started))
    return fail(corrupt(e, "run_started must come first, once"));
  last_seq = e.seq;
  switch (e.kind) {
    case EventKind::run_started:
      workflow = e.body.value("workflow", "");
      input = e.body.value("input", Json());
      break;
    case EventKind::activity_scheduled:
      activities[e.seq] = ActivityState{e.seq,
                                        e.body.value("name", ""),
                                        e.body.value("input", Json()),
                                        ActivityState::Status::pending,
                                        Json(),
                                        ""};
      break;
    case EventKind::activity_completed:
    case EventKind::activity_failed: {
      auto it = activities.find(e.ref_seq());
      if (it == activities.end()) return fail(corrupt(e, "answers no scheduled activity"));
      if (it->second.status != ActivityState::Status::pending)
        return fail(corrupt(e, "activity already resolved"));
      it->second.resolved_seq = e.seq;
      activity_answers.emplace(e.seq, it->first);
      if (e.kind == EventKind::activity_completed) {
        it->second.status = ActivityState::Status::completed;
        it->second.result = e.body.value("result", Json());
      } else {
        it->second.status = ActivityState::Status::failed;
        it->second.error = e.body.value("error", "");
      }
      break;
    }
    case EventKind::timer_started:
      timers[e.seq] = TimerState{e.seq,
                                 e.body.value("fire_at_ms", std::int64_t{0}),
                                 false,
                                 0,
                                 e.body.value("tag", ""),
                                 e.body.value("info", Json())};
      break;
    case EventKind::timer_fired: {
      auto it = timers.find(e.ref_seq());
      if (it == timers.end()) return fail(corrupt(e, "answers no started timer"));
      if (it->second.fired) return fail(corrupt(e, "timer already fired"));
      it->second.fired = true;
      it->second.fired_seq = e.seq;
      timer_firings.emplace(e.seq, it->first);
      break;
    }
    case EventKind::signal_received:
      signals.push_back(Signal{e.seq, e.body.value("name", ""), e.body.value("payload", Json())});
      break;
    case EventKind::cancel_requested:
      if (!cancel_requested) cancel_reason = e.body.value("reason", "");
      cancel_requested = true;
      break;
    case EventKind::run_completed:
    case EventKind::run_failed:
    case EventKind::run_cancelled:
      terminal = e.kind;
      break;
  }
  return {};
}

std::span<const Signal> RunState::signals_after(std::int64_t seq) const {
  const auto first =
      std::upper_bound(signals.begin(), signals.end(), seq,
                       [](std::int64_t s, const Signal& signal) { return s < signal.seq; });
  return {first, signals.end()};
}

std::size_t RunState::completed_activities() const {
  std::size_t n = 0;
  for (const auto& [seq, a] : activities) n += a.status == ActivityState::Status::completed ? 1 : 0;
  return n;
}

}  // namespace reliant::engine
