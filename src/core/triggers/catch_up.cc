// Catch-up planning: the instants due since the last tick, split into fired and skipped.
#include "core/triggers/catch_up.h"

#include <algorithm>

#include "base/assert.h"

namespace reliant::triggers {
namespace {

struct InstantCount {
  std::int64_t count = 0;
  bool exact = true;
};

// The instants in (after_ms, until_ms]: an interval alone by arithmetic, a schedule with crons
// one by one up to kSkippedCountedMax.
InstantCount count_instants(const Schedule& schedule, std::int64_t anchor_ms, std::int64_t after_ms,
                            std::int64_t until_ms) {
  if (until_ms <= after_ms) return {};
  if (!schedule.has_cron()) {
    RELIANT_ASSERT(schedule.spec().interval_ms.has_value());
    const std::int64_t interval = *schedule.spec().interval_ms;
    // anchor + k * interval for k ≥ 1, after < it ≤ until.
    const std::int64_t first =
        std::max<std::int64_t>(1, floor_div(after_ms - anchor_ms, interval) + 1);
    const std::int64_t last = floor_div(until_ms - anchor_ms, interval);
    return {std::max<std::int64_t>(0, last - first + 1), true};
  }
  InstantCount out;
  for (auto at = schedule.next_after(anchor_ms, after_ms); at && *at <= until_ms;
       at = schedule.next_after(anchor_ms, *at)) {
    if (out.count == kSkippedCountedMax) {
      out.exact = false;
      break;
    }
    ++out.count;
  }
  return out;
}

// Every instant in the window, oldest first, up to the bound.
void fire_all(const Schedule& schedule, const CatchUpRequest& request, std::int64_t window_from_ms,
              CatchUpPlan& plan) {
  const std::int64_t after_ms = std::max(request.considered_ms, window_from_ms - 1);
  for (auto at = schedule.next_after(request.anchor_ms, after_ms); at && *at <= request.now_ms;
       at = schedule.next_after(request.anchor_ms, *at)) {
    if (plan.fire.size() == kCatchUpFiringsMax) {
      plan.more = true;
      plan.considered_ms = plan.fire.back().instant_ms;
      return;
    }
    plan.fire.push_back(PlannedFiring{*at, 0});
  }
}

// The instants up to `until_ms` that are not fired, summarised.
SkippedInstants skipped_through(const Schedule& schedule, const CatchUpRequest& request,
                                std::int64_t until_ms) {
  SkippedInstants out;
  const auto counted = count_instants(schedule, request.anchor_ms, request.considered_ms, until_ms);
  if (counted.count == 0) return out;
  out.count = counted.count;
  out.count_exact = counted.exact;
  out.first_ms = *schedule.next_after(request.anchor_ms, request.considered_ms);
  out.last_ms = *latest_instant(schedule, request.anchor_ms, request.considered_ms, until_ms);
  return out;
}

}  // namespace

std::optional<std::int64_t> latest_instant(const Schedule& schedule, std::int64_t anchor_ms,
                                           std::int64_t after_ms, std::int64_t until_ms) {
  if (until_ms <= after_ms) return std::nullopt;
  const auto first = schedule.next_after(anchor_ms, after_ms);
  if (!first || *first > until_ms) return std::nullopt;
  // next_after only moves forward as its argument does: find the last `low` whose next
  // instant is still within `until_ms`. Invariant: next(low) ≤ until < next(high).
  std::int64_t low = *first - 1;
  std::int64_t high = until_ms;
  while (high - low > 1) {
    const std::int64_t middle = low + (high - low) / 2;
    const auto next = schedule.next_after(anchor_ms, middle);
    if (next && *next <= until_ms) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return schedule.next_after(anchor_ms, low);
}

CatchUpPlan plan_catch_up(const Schedule& schedule, const CatchUpRequest& request) {
  RELIANT_ASSERT(request.considered_ms >= kInstantMsMin && request.now_ms <= kInstantMsMax);
  RELIANT_ASSERT(request.tick_ms >= 0);
  CatchUpPlan plan;
  plan.considered_ms = std::max(request.considered_ms, request.now_ms);
  if (request.now_ms <= request.considered_ms) return plan;
  const auto& spec = schedule.spec();
  // Instants at or after this are within the window; older ones are skipped.
  const std::int64_t window_from_ms = request.now_ms - spec.catchup_window_ms;
  // Whatever is not fired up to here is skipped.
  std::int64_t skipped_until_ms = request.now_ms;
  if (spec.catch_up == CatchUp::all) {
    fire_all(schedule, request, window_from_ms, plan);
    skipped_until_ms = std::min(window_from_ms - 1, plan.considered_ms);
  } else {
    auto latest =
        latest_instant(schedule, request.anchor_ms,
                       std::max(request.considered_ms, window_from_ms - 1), request.now_ms);
    // none: only an instant due now — its due time, the instant plus its jitter, at most a tick
    // ago (measured from the instant, a jitter over a tick skipped every instant).
    if (latest && spec.catch_up == CatchUp::none &&
        *latest + jitter_delay_ms(request.trigger_id, *latest, spec.jitter_ms) <
            request.now_ms - request.tick_ms) {
      latest.reset();
    }
    if (latest) {
      plan.fire.push_back(PlannedFiring{*latest, 0});
      skipped_until_ms = *latest - 1;
    }
  }
  for (auto& firing : plan.fire) {
    firing.due_ms =
        firing.instant_ms + jitter_delay_ms(request.trigger_id, firing.instant_ms, spec.jitter_ms);
  }
  plan.skipped = skipped_through(schedule, request, skipped_until_ms);
  RELIANT_ASSERT(plan.fire.size() <= kCatchUpFiringsMax);
  RELIANT_ASSERT(plan.fire.empty() || plan.fire.front().instant_ms > request.considered_ms);
  RELIANT_ASSERT(plan.considered_ms >= request.considered_ms);
  return plan;
}

}  // namespace reliant::triggers
