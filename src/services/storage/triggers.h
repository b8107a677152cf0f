// Triggers over SQL (migration 20): a user's schedules, webhooks and workflow-event triggers,
// and each one's firings. A firing row's (trigger, key) is unique and is written in the
// transaction that starts its run, so a firing starts at most one run, whichever replica or
// retry attempts it (services/triggers/trigger_firing.h writes them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"
#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

enum class TriggerKind { schedule, webhook, workflow_event };
inline constexpr EnumNames<TriggerKind, 3> kTriggerKindNames{{
    {TriggerKind::schedule, "schedule"},
    {TriggerKind::webhook, "webhook"},
    {TriggerKind::workflow_event, "workflow_event"},
}};

struct TriggerRecord {
  std::string id;
  std::string user_id;
  std::string project_id;  // "" for none
  std::string name;        // unique per user and project
  TriggerKind kind = TriggerKind::schedule;
  std::string workflow;     // builtin://NAME, or the project's workflow by name
  std::string declaration;  // the workflow's `triggers:` entry it activates; "" for its own spec
  nlohmann::json spec = nlohmann::json::object();     // the source: core/triggers' JSON forms
  nlohmann::json mapping = nlohmann::json::object();  // {filter, inputs, prompt}
  nlohmann::json params = nlohmann::json::object();   // inputs every run gets
  std::string message;  // the run's first message (a mapping's prompt wins)
  bool enabled = true;
  std::string token_hash;              // webhooks: the SHA-256 of the token, hex
  std::string sealed_secret;           // webhooks with an HMAC: the secret, sealed
  std::int64_t anchor_ms = 0;          // schedules: the interval's phase (the creation instant)
  std::int64_t considered_ms = 0;      // schedules: every instant up to here fired or skipped
  std::optional<std::int64_t> due_ms;  // schedules: when the next firing is due
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

enum class FiringStatus { launched, skipped, failed, queued };
inline constexpr EnumNames<FiringStatus, 4> kFiringStatusNames{{
    {FiringStatus::launched, "launched"},
    {FiringStatus::skipped, "skipped"},
    {FiringStatus::failed, "failed"},
    {FiringStatus::queued, "queued"},
}};

struct FiringRecord {
  std::string id;
  std::string trigger_id;  // "" once the trigger is deleted
  std::string user_id;
  std::string key;              // unique per trigger: "at:INSTANT", "delivery:…", "run:ID", …
  std::string kind;             // schedule | webhook | workflow_event | manual
  std::int64_t instant_ms = 0;  // what it is for: the scheduled instant, the event's time
  FiringStatus status = FiringStatus::launched;
  std::string detail;   // why it was skipped or failed
  std::string chat_id;  // the run's conversation, when it launched
  std::string run_id;
  nlohmann::json payload = nlohmann::json::object();
  std::int64_t created_at_ms = 0;
};

// The most triggers a user keeps, and the firings a listing returns at most.
inline constexpr std::size_t kTriggersPerUserMax = 200;
inline constexpr std::int64_t kFiringsListedMax = 500;

Result<void> insert_trigger(SqlTransaction& tx, const TriggerRecord& trigger);
// The trigger `id` when it is `user_id`'s; not_found otherwise.
Result<TriggerRecord> find_trigger(SqlTransaction& tx, const std::string& user_id,
                                   const std::string& id);
// A trigger by id whoever owns it (webhook deliveries, the scheduler); nullopt when none.
Result<std::optional<TriggerRecord>> find_trigger_by_id(SqlTransaction& tx, const std::string& id);
// A user's triggers by name; with a project, only that project's.
Result<std::vector<TriggerRecord>> list_triggers(SqlTransaction& tx, const std::string& user_id,
                                                 const std::optional<std::string>& project_id);
Result<std::size_t> count_triggers(SqlTransaction& tx, const std::string& user_id);
// Writes every field but the id, owner and creation time.
Result<void> update_trigger(SqlTransaction& tx, const TriggerRecord& trigger);
Result<void> delete_trigger(SqlTransaction& tx, const std::string& user_id, const std::string& id);

// Enabled schedules whose next firing is due by `now_ms`, oldest due first, at most `limit`,
// locked for the transaction (Postgres: FOR UPDATE SKIP LOCKED, so replicas share the work;
// SQLite's single writer already serialises them).
Result<std::vector<TriggerRecord>> claim_due_schedules(SqlTransaction& tx, SqlDialect dialect,
                                                       std::int64_t now_ms, std::size_t limit);
// The earliest due_ms of any enabled schedule, for the scheduler's sleep.
Result<std::optional<std::int64_t>> next_schedule_due(SqlTransaction& tx);
// Enabled workflow-event triggers of `user_id`.
Result<std::vector<TriggerRecord>> event_triggers(SqlTransaction& tx, const std::string& user_id);
// The users with an enabled workflow-event trigger.
Result<std::vector<std::string>> event_trigger_users(SqlTransaction& tx);

// Records a firing unless its trigger has one with its key: true when this call wrote it.
Result<bool> insert_firing_once(SqlTransaction& tx, SqlDialect dialect, const FiringRecord& firing);
Result<void> update_firing(SqlTransaction& tx, const FiringRecord& firing);
// The firing of `trigger_id` with `key`; not_found when none.
Result<FiringRecord> find_firing(SqlTransaction& tx, const std::string& trigger_id,
                                 const std::string& key);
// A trigger's firings, newest first.
Result<std::vector<FiringRecord>> list_firings(SqlTransaction& tx, const std::string& trigger_id,
                                               std::int64_t limit);
// Queued firings (an overlap policy of queue), oldest first, at most `limit`.
Result<std::vector<FiringRecord>> queued_firings(SqlTransaction& tx, std::size_t limit);
// Runs a trigger launched that are still running (the overlap policy's "previous run").
Result<std::vector<std::string>> running_runs_of(SqlTransaction& tx, const std::string& trigger_id);

// Moves a schedule on: every instant up to `considered_ms` dealt with, the next firing due at
// `due_ms` (nullopt: none).
Result<void> set_schedule_progress(SqlTransaction& tx, const std::string& trigger_id,
                                   std::int64_t considered_ms, std::optional<std::int64_t> due_ms);

// A scan's place in the runs that ended, in (closed_at_ms, id) order.
struct RunCursor {
  std::int64_t at_ms = 0;
  std::string run_id;
};
Result<std::optional<RunCursor>> read_trigger_cursor(SqlTransaction& tx, std::string_view name);
Result<void> write_trigger_cursor(SqlTransaction& tx, std::string_view name,
                                  const RunCursor& cursor);

// A run that ended, as a workflow-event trigger sees it.
struct EndedRun {
  std::string id;
  std::string owner;
  std::string status;  // completed | failed
  nlohmann::json input;
  nlohmann::json result;
  std::string error;
  std::int64_t closed_at_ms = 0;
};
// Workflow-language runs that ended completed or failed after `after`, up to `until_ms`, in
// (closed_at_ms, id) order, at most `limit`.
Result<std::vector<EndedRun>> runs_ended_after(SqlTransaction& tx, const RunCursor& after,
                                               std::int64_t until_ms, std::size_t limit);

}  // namespace reliant
