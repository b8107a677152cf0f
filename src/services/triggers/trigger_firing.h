// One firing of a trigger, in the caller's transaction: the trigger's declaration evaluated
// against the event (its filter, the run's inputs, its prompt), its overlap policy applied, the
// firing row recorded under its unique key and, when it launches, its run started as a chat of
// its own — all committed together, so a firing starts at most one run whichever scheduler
// replica, webhook retry or event scan attempts it, and exactly one once one of them commits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "core/cel/time_zones.h"
#include "core/workflow/definition.h"
#include "runtime/store.h"
#include "services/storage/triggers.h"

namespace reliant::triggers {

// The most ids one firing takes (its row, its chat, its run, its first message).
inline constexpr std::size_t kFiringIdsMax = 4;

// What firing needs from its service: the engine queue runs start on, the model a run gets when
// nobody names one, the zone database, and fresh ids.
struct FiringEnv {
  SqlDialect dialect = SqlDialect::sqlite;
  std::string queue;
  std::string default_model;
  cel::TimeZoneLoader zones;
  std::function<std::string()> next_id;
};

// What fired: `key` is unique per trigger (the firing row's); `payload` is what the
// declaration's templates read as trigger.payload.
struct FireRequest {
  std::string key;
  std::string kind;  // schedule | webhook | workflow_event | manual
  std::int64_t instant_ms = 0;
  nlohmann::json payload = nlohmann::json::object();
  bool manual = false;  // `trigger fire`: no filter, no overlap policy
  std::int64_t now_ms = 0;
};

// The declaration a trigger fires by: its own spec, or the entry of its workflow's `triggers:`
// block it activates, read again from the workflow as it is now (an edit changes every
// activation; a renamed or removed entry fails the firing, saying so).
Result<workflow::TriggerDeclaration> trigger_declaration(SqlTransaction& tx,
                                                         const TriggerRecord& trigger,
                                                         const cel::TimeZoneLoader& zones);

// The definition a trigger's runs run: builtin://NAME, or its project's workflow by name as it is
// stored now; invalid_argument when it does not load.
Result<std::shared_ptr<const workflow::Definition>> workflow_definition(
    SqlTransaction& tx, const std::string& user_id, const std::string& project_id,
    const std::string& workflow_name);

// Fires `trigger` for `request`. Returns the firing as recorded — launched (with its chat and
// run), skipped (the filter did not hold; a run it started still runs under overlap skip),
// queued (overlap queue) or failed (the declaration, the inputs or the workflow refused it,
// said in `detail`) — or, when the trigger has a firing with this key already, that one: a
// firing is recorded once.
struct Fired {
  FiringRecord firing;
  bool duplicate = false;  // the trigger had a firing with this key: nothing was done
};
Result<Fired> fire_trigger(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                           const FireRequest& request);
// The same with the trigger's declaration (trigger_declaration's answer) already read: the
// scheduler fires many instants of one trigger, and a webhook's receiver checks the declaration
// before it fires.
Result<Fired> fire_trigger(SqlTransaction& tx, const FiringEnv& env, const TriggerRecord& trigger,
                           const Result<workflow::TriggerDeclaration>& declaration,
                           const FireRequest& request);

// Starts the run of a queued firing (its trigger's previous run ended): launched, or failed.
Result<FiringRecord> launch_queued(SqlTransaction& tx, const FiringEnv& env,
                                   const TriggerRecord& trigger, FiringRecord firing,
                                   std::int64_t now_ms);

}  // namespace reliant::triggers
