// The trigger scheduler's ticks (trigger_scheduler.h).
#include "services/triggers/trigger_scheduler.h"

#include <algorithm>
#include <set>
#include <variant>

#include "core/triggers/catch_up.h"
#include "core/triggers/event_sources.h"
#include "core/triggers/schedule.h"
#include "runtime/sleep.h"
#include "services/worker/worker.h"

namespace reliant::triggers {
namespace {

using Json = nlohmann::json;

// The workflow-event scan's cursor, and how long after a run's end the scan reads it: a run's
// end commits with the time taken before its commit, so one ending now may still be invisible.
constexpr std::string_view kWorkflowEventsCursor = "workflow_events";
constexpr std::int64_t kEndSettleMs = 2'000;
// While no workflow-event trigger exists, the cursor still follows the clock (a trigger created
// later never reads the runs before it), but writes at most this often.
constexpr std::int64_t kIdleCursorWriteMs = 60'000;

using Firings = std::vector<FiringRecord>;

// The skipped instants of a plan, as one firing row: downtime is summarised, not a row each.
FiringRecord missed_firing(const TriggerRecord& trigger, const SkippedInstants& skipped,
                           const std::string& id, std::int64_t now_ms) {
  FiringRecord missed;
  missed.id = id;
  missed.trigger_id = trigger.id;
  missed.user_id = trigger.user_id;
  missed.key = "missed:" + std::to_string(skipped.first_ms) + "-" + std::to_string(skipped.last_ms);
  missed.kind = "schedule";
  missed.instant_ms = skipped.last_ms;
  missed.status = FiringStatus::skipped;
  missed.detail = std::string(skipped.count_exact ? "" : "at least ") +
                  std::to_string(skipped.count) + " instant" + (skipped.count == 1 ? "" : "s") +
                  " missed (catch-up policy and window)";
  missed.payload = Json{{"first_ms", skipped.first_ms},
                        {"last_ms", skipped.last_ms},
                        {"count", skipped.count},
                        {"count_exact", skipped.count_exact}};
  missed.created_at_ms = now_ms;
  return missed;
}

// One due schedule: what its catch-up plan fires and skips, and its next due time.
Result<void> fire_schedule(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                           std::int64_t now_ms, std::int64_t tick_ms, Firings& out) {
  auto declaration = trigger_declaration(tx, trigger, env.zones);
  const auto* spec = declaration ? std::get_if<ScheduleSpec>(&declaration->source) : nullptr;
  auto schedule = spec ? Schedule::compile(*spec, env.zones)
                       : tl::expected<Schedule, std::string>(tl::unexpected(
                             declaration ? std::string("its declaration is not a schedule")
                                         : declaration.error().message));
  if (!schedule) {
    // Broken: said once per place it stopped at, then looked at again in a minute.
    FiringRecord broken;
    broken.id = env.next_id();
    broken.trigger_id = trigger.id;
    broken.user_id = trigger.user_id;
    broken.key = "broken:" + std::to_string(trigger.considered_ms);
    broken.kind = "schedule";
    broken.instant_ms = now_ms;
    broken.status = FiringStatus::failed;
    broken.detail = schedule.error();
    broken.created_at_ms = now_ms;
    auto inserted = insert_firing_once(tx, env.dialect, broken);
    if (!inserted) return fail(inserted.error());
    if (*inserted) out.push_back(std::move(broken));
    return set_schedule_progress(tx, trigger.id, trigger.considered_ms, now_ms + 60'000);
  }
  const CatchUpPlan plan = plan_catch_up(
      *schedule,
      CatchUpRequest{trigger.id, trigger.anchor_ms, trigger.considered_ms, now_ms, tick_ms});
  for (const auto& planned : plan.fire) {
    const FireRequest request{"at:" + std::to_string(planned.instant_ms),
                              "schedule",
                              planned.instant_ms,
                              Json{{"instant_ms", planned.instant_ms}, {"due_ms", planned.due_ms}},
                              false,
                              now_ms};
    auto fired = fire_trigger(tx, env, trigger, declaration, request);
    if (!fired) return fail(fired.error());
    if (!fired->duplicate) out.push_back(std::move(fired->firing));
  }
  if (plan.skipped.count > 0) {
    FiringRecord missed = missed_firing(trigger, plan.skipped, env.next_id(), now_ms);
    auto inserted = insert_firing_once(tx, env.dialect, missed);
    if (!inserted) return fail(inserted.error());
    if (*inserted) out.push_back(std::move(missed));
  }
  const auto due = plan.more ? std::optional<std::int64_t>(now_ms)
                             : schedule_due_after(*schedule, trigger, plan.considered_ms);
  return set_schedule_progress(tx, trigger.id, plan.considered_ms, due);
}

// The workflow a run ran, as workflow events name it: builtin://NAME, or a project workflow's
// name.
std::string run_workflow_name(const Json& input) {
  const std::string ref = input.value("ref", "");
  if (!ref.empty()) return ref;
  std::string file = input.value("file", "");
  if (file.ends_with(".yaml")) file.resize(file.size() - 5);
  return file;
}

// A run's end, as the payload of the workflow-event triggers it fires.
Json ended_payload(const EndedRun& run, const std::string& workflow_name) {
  const Json context = run.input.value("context", Json::object());
  return Json{{"run_id", run.id},
              {"workflow", workflow_name},
              {"outcome", run.status == "completed" ? "finished" : "failed"},
              {"status", run.status},
              {"outputs", run.result.is_object() ? run.result.value("outputs", Json()) : Json()},
              {"error", run.error},
              {"chat_id", context.value("chat_id", "")},
              {"project_id", context.value("project_id", "")}};
}

// The workflow-event triggers `run`'s end fires: its owner's, watching its workflow and outcome,
// created before it ended; never the trigger that started it (a loop guard). Child runs
// (sub-workflows, sub-agents) are parts of a run, not runs of their own here.
Result<void> fire_run_end(SqlTransaction& tx, const FiringEnv& env, const EndedRun& run,
                          std::int64_t now_ms, Firings& out) {
  const Json context = run.input.value("context", Json::object());
  if (!context.value("parent_run_id", "").empty()) return {};
  auto triggers = event_triggers(tx, run.owner);
  if (!triggers) return fail(triggers.error());
  const std::string workflow_name = run_workflow_name(run.input);
  const RunOutcome outcome = run.status == "completed" ? RunOutcome::finished : RunOutcome::failed;
  for (const auto& trigger : *triggers) {
    if (trigger.created_at_ms > run.closed_at_ms) continue;
    if (context.value("trigger_id", "") == trigger.id) continue;
    auto declaration = trigger_declaration(tx, trigger, env.zones);
    const auto* spec = declaration ? std::get_if<WorkflowEventSpec>(&declaration->source) : nullptr;
    if (spec == nullptr || !matches(*spec, workflow_name, outcome)) continue;
    const FireRequest request{"run:" + run.id,
                              "workflow_event",
                              run.closed_at_ms,
                              ended_payload(run, workflow_name),
                              false,
                              now_ms};
    auto fired = fire_trigger(tx, env, trigger, declaration, request);
    if (!fired) return fail(fired.error());
    if (!fired->duplicate) out.push_back(std::move(fired->firing));
  }
  return {};
}

}  // namespace

std::optional<std::int64_t> schedule_due_after(const Schedule& schedule,
                                               const TriggerRecord& trigger,
                                               std::int64_t after_ms) {
  const auto next = schedule.next_after(trigger.anchor_ms, after_ms);
  if (!next) return std::nullopt;
  return *next + jitter_delay_ms(trigger.id, *next, schedule.spec().jitter_ms);
}

TriggerScheduler::TriggerScheduler(Env& env, SchedulerConfig config)
    : env_(env),
      config_(std::move(config)),
      ids_(env.executor, env.random.split(0x74726967ULL)),
      scope_(env.executor) {
  RELIANT_ASSERT(env_.store != nullptr);
  if (config_.start) scope_.spawn(loop());
}

FiringEnv TriggerScheduler::firing_env() {
  return FiringEnv{env_.store->dialect(), config_.queue, config_.default_model, config_.zones,
                   [this] { return ids_.next(); }};
}

void TriggerScheduler::count(const FiringRecord& firing) {
  switch (firing.status) {
    case FiringStatus::launched:
      ++stats_.launched;
      break;
    case FiringStatus::skipped:
      ++stats_.skipped;
      break;
    case FiringStatus::failed:
      ++stats_.failed;
      break;
    case FiringStatus::queued:
      ++stats_.queued;
      break;
  }
}

Task<Result<std::size_t>> TriggerScheduler::record(FiringsBody body) {
  Task<Result<Firings>> running = env_.store->transact_for(std::move(body));
  Result<Firings> fired = co_await running;
  if (!fired) co_return fail(fired.error());
  for (const auto& f : *fired) count(f);
  co_return fired->size();
}

Task<Result<std::size_t>> TriggerScheduler::fire_schedules(std::int64_t now_ms,
                                                           std::int64_t on_time_ms) {
  FiringsBody body = [now_ms, env = firing_env(), batch = config_.batch,
                      tick_ms = on_time_ms](SqlTransaction& tx) -> Result<Firings> {
    auto due = claim_due_schedules(tx, env.dialect, now_ms, batch);
    if (!due) return fail(due.error());
    Firings out;
    for (const auto& trigger : *due) {
      if (auto ok = fire_schedule(tx, env, trigger, now_ms, tick_ms, out); !ok)
        return fail(ok.error());
    }
    return out;
  };
  Task<Result<std::size_t>> recording = record(std::move(body));
  co_return co_await recording;
}

Task<Result<std::size_t>> TriggerScheduler::launch_queued_firings(std::int64_t now_ms) {
  FiringsBody body = [now_ms, env = firing_env(),
                      batch = config_.batch](SqlTransaction& tx) -> Result<Firings> {
    auto queued = queued_firings(tx, batch);
    if (!queued) return fail(queued.error());
    Firings out;
    std::set<std::string> launched_for;  // one queued firing per trigger per pass
    for (auto& firing : *queued) {
      if (launched_for.contains(firing.trigger_id)) continue;
      auto trigger = find_trigger_by_id(tx, firing.trigger_id);
      if (!trigger) return fail(trigger.error());
      if (!*trigger) continue;  // deleted: its queued firings wait for nothing
      auto running = running_runs_of(tx, firing.trigger_id);
      if (!running) return fail(running.error());
      if (!running->empty()) continue;
      launched_for.insert(firing.trigger_id);
      auto launched = launch_queued(tx, env, **trigger, std::move(firing), now_ms);
      if (!launched) return fail(launched.error());
      out.push_back(std::move(*launched));
    }
    return out;
  };
  Task<Result<std::size_t>> recording = record(std::move(body));
  co_return co_await recording;
}

Task<Result<std::size_t>> TriggerScheduler::fire_workflow_events(std::int64_t now_ms) {
  FiringsBody body = [now_ms, env = firing_env(),
                      batch = config_.batch](SqlTransaction& tx) -> Result<Firings> {
    auto users = event_trigger_users(tx);
    if (!users) return fail(users.error());
    auto cursor = read_trigger_cursor(tx, kWorkflowEventsCursor);
    if (!cursor) return fail(cursor.error());
    // The first scan starts now: runs that ended before any scheduler looked fire nothing.
    RunCursor after = cursor->value_or(RunCursor{now_ms - kEndSettleMs, ""});
    Firings out;
    const std::set<std::string> watching(users->begin(), users->end());
    if (!users->empty()) {
      auto ended = runs_ended_after(tx, after, now_ms - kEndSettleMs, batch);
      if (!ended) return fail(ended.error());
      for (const auto& run : *ended) {
        if (watching.contains(run.owner)) {
          if (auto ok = fire_run_end(tx, env, run, now_ms, out); !ok) return fail(ok.error());
        }
        after = RunCursor{run.closed_at_ms, run.id};
      }
      if (ended->empty()) after.at_ms = std::max(after.at_ms, now_ms - kEndSettleMs);
    } else if (after.at_ms >= now_ms - kIdleCursorWriteMs) {
      return out;  // nothing watches: the cursor moves on at most once a minute
    } else {
      after = RunCursor{now_ms - kEndSettleMs, ""};
    }
    if (auto ok = write_trigger_cursor(tx, kWorkflowEventsCursor, after); !ok)
      return fail(ok.error());
    return out;
  };
  Task<Result<std::size_t>> recording = record(std::move(body));
  co_return co_await recording;
}

Task<Result<std::size_t>> TriggerScheduler::tick() {
  ++stats_.ticks;
  const std::int64_t now_ms = to_ms(env_.executor.now());
  // What is on time for catch_up none: due since this scheduler last looked (a tick at least;
  // a clock stepped back counts a tick).
  const std::int64_t on_time_ms =
      std::max(to_ms(config_.tick), last_tick_ms_ ? now_ms - *last_tick_ms_ : std::int64_t{0});
  last_tick_ms_ = now_ms;
  std::size_t total = 0;
  bool launched = false;
  for (int pass = 0; pass < 3; ++pass) {
    Task<Result<std::size_t>> running = pass == 0   ? fire_schedules(now_ms, on_time_ms)
                                        : pass == 1 ? launch_queued_firings(now_ms)
                                                    : fire_workflow_events(now_ms);
    Result<std::size_t> done = co_await running;
    if (!done) {
      ++stats_.store_errors;
      co_return fail(done.error());
    }
    total += *done;
    launched = launched || *done > 0;
  }
  if (launched && env_.bus != nullptr) {
    (void)env_.bus->publish(engine::wake_subject(config_.queue), "");
  }
  co_return total;
}

Task<void> TriggerScheduler::loop() {
  for (;;) {
    Task<Result<std::size_t>> ticking = tick();
    Result<std::size_t> done = co_await ticking;
    if (!done) {
      log_line(env_, LogLevel::warn,
               [&] { return "trigger scheduler: " + done.error().describe(); });
    }
    co_await sleep(env_.executor, config_.tick);
  }
}

}  // namespace reliant::triggers
