// Catch-up: after downtime (or a slow tick), which of a schedule's instants a scheduler fires
// and which it records as skipped. Pure and bounded: a year of downtime on a per-second
// schedule costs a few dozen evaluations of the schedule, fires at most kCatchUpFiringsMax
// instants and summarises the skipped ones, never one row each.
//
// The scheduler keeps, per trigger, the newest instant it has dealt with (`considered_ms`:
// fired or skipped; the creation instant for a new trigger). On each tick it asks for a plan
// and stores the plan's considered_ms with the firings, in one transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/triggers/schedule.h"

namespace reliant::triggers {

inline constexpr std::size_t kCatchUpFiringsMax = 100;
// Skipped instants of a schedule with crons are counted one by one, up to this many; an
// interval's are counted arithmetically, exactly.
inline constexpr std::int64_t kSkippedCountedMax = 1'000;
// The scheduler's default tick: how late an on-time firing may be seen under CatchUp::none.
inline constexpr std::int64_t kSchedulerTickMs = 1'000;

struct CatchUpRequest {
  std::string trigger_id;          // for the jitter of each firing
  std::int64_t anchor_ms = 0;      // the trigger's creation: the interval's phase
  std::int64_t considered_ms = 0;  // every instant at or before it was fired or skipped
  std::int64_t now_ms = 0;
  // CatchUp::none fires an instant due no longer ago than this: a firing seen on the first tick
  // after it fell due is on time, not caught up. The scheduler gives the time since its own
  // previous tick (at least its tick): a tick waits a tick after the previous one's work ends.
  std::int64_t tick_ms = kSchedulerTickMs;
};

struct PlannedFiring {
  std::int64_t instant_ms = 0;  // the key: what the firing is for
  std::int64_t due_ms = 0;      // when to start it: the instant plus its jitter
};

// The instants skipped, in (request.considered_ms, plan.considered_ms] less those fired.
struct SkippedInstants {
  std::int64_t count = 0;
  bool count_exact = true;    // false: at least `count` (crons are counted up to a bound)
  std::int64_t first_ms = 0;  // the oldest and newest skipped instant; 0 when count is 0
  std::int64_t last_ms = 0;
};

struct CatchUpPlan {
  std::vector<PlannedFiring> fire;  // oldest first; at most kCatchUpFiringsMax
  SkippedInstants skipped;
  // What to store as considered_ms: now_ms, or the last firing when `more` is set.
  std::int64_t considered_ms = 0;
  // CatchUp::all found more instants within the window than one plan fires: ask again (with
  // the new considered_ms) for the next ones.
  bool more = false;
};

// The plan at `request.now_ms`. Due instants are those in (considered_ms, now_ms]; an instant
// older than the spec's catchup_window is skipped under every policy; within the window:
//   none: fire the latest instant if it fell due (its instant plus its jitter) at most tick_ms
//         ago, skip the rest;
//   one:  fire the latest instant, skip the rest;
//   all:  fire every instant, oldest first, up to kCatchUpFiringsMax (then `more`).
// Nothing is due when now_ms ≤ considered_ms: an empty plan that keeps considered_ms.
CatchUpPlan plan_catch_up(const Schedule& schedule, const CatchUpRequest& request);

// The newest instant of the schedule in (after_ms, until_ms], if any: a binary search over
// next_after, so its cost grows with the span's logarithm, not with the instants in it.
std::optional<std::int64_t> latest_instant(const Schedule& schedule, std::int64_t anchor_ms,
                                           std::int64_t after_ms, std::int64_t until_ms);

}  // namespace reliant::triggers
