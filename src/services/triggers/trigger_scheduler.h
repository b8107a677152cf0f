// The trigger scheduler: every worker process runs one. Each tick it fires the schedules that
// are due (their catch-up policy deciding what downtime missed), starts the runs of queued
// firings whose previous run ended, and fires the workflow-event triggers of the runs that ended
// since it last looked. Replicas share the work through the store — schedules are claimed with
// FOR UPDATE SKIP LOCKED — and never duplicate it: a firing is a row with a unique key
// committed with its run (trigger_firing.h), so a crash, a retried transaction or two
// schedulers racing for one instant start one run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/cel/time_zones.h"
#include "core/triggers/schedule.h"
#include "runtime/env.h"
#include "runtime/ids.h"
#include "runtime/scope.h"
#include "services/triggers/trigger_firing.h"

namespace reliant::triggers {

struct SchedulerConfig {
  std::string queue = "reliant";  // the engine's task queue runs start on
  std::string default_model;
  cel::TimeZoneLoader zones;
  Duration tick = seconds(1);
  std::size_t batch = 16;  // schedules, queued firings and ended runs handled per transaction
  // How far before its cursor the workflow-event scan reads the runs that ended again: replicas'
  // clocks differ, and a run may commit its end with an earlier time than one seen already.
  // Events seen twice fire once (their firing's key is the run).
  std::int64_t event_margin_ms = 60'000;
  bool start = true;  // false: no loop (tests call tick())
};

struct SchedulerStats {
  std::uint64_t ticks = 0;
  std::uint64_t launched = 0;  // firings that started a run
  std::uint64_t skipped = 0;   // firings recorded as skipped (and summaries of missed instants)
  std::uint64_t failed = 0;
  std::uint64_t queued = 0;
  std::uint64_t store_errors = 0;
};

// When a schedule's next firing after `after_ms` is due: its next instant plus that instant's
// jitter; nullopt when it has none.
std::optional<std::int64_t> schedule_due_after(const Schedule& schedule,
                                               const TriggerRecord& trigger, std::int64_t after_ms);

class TriggerScheduler {
 public:
  // `env` must carry a store; a bus, when there is one, wakes the workers for a run started.
  TriggerScheduler(Env& env, SchedulerConfig config);

  const SchedulerStats& stats() const { return stats_; }
  // One pass over what is due; how many firings it recorded.
  Task<Result<std::size_t>> tick();

 private:
  using FiringsBody = std::function<Result<std::vector<FiringRecord>>(SqlTransaction&)>;
  // Runs one pass's transaction and counts the firings it recorded.
  Task<Result<std::size_t>> record(FiringsBody body);
  Task<void> loop();
  Task<Result<std::size_t>> fire_schedules(std::int64_t now_ms, std::int64_t on_time_ms);
  Task<Result<std::size_t>> launch_queued_firings(std::int64_t now_ms);
  Task<Result<std::size_t>> fire_workflow_events(std::int64_t now_ms);
  void count(const FiringRecord& firing);
  FiringEnv firing_env();

  Env& env_;
  SchedulerConfig config_;
  IdGenerator ids_;
  SchedulerStats stats_;
  // When this scheduler's previous tick began: an instant that fell due since then is due now
  // (catch_up none), however long the previous tick's work and its wait took.
  std::optional<std::int64_t> last_tick_ms_;
  Scope scope_;  // last: destroyed first
};

}  // namespace reliant::triggers
