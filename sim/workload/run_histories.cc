// workflow_nodes_once, approvals_signalled and workflow_runs_family (run_histories.h).
#include "sim/workload/run_histories.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/workflow/engine_workflow.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {

using Json = nlohmann::json;

// The workflow-language invariants over every run's history: each node (an activity key, one
// per loop iteration) is scheduled at most once, and in manual mode no tools run before a
// person's approval of that turn arrived as a signal.
// workflow_runs_family: child runs nest at most kChildRunDepthMax deep, and none outlives its
// parent — a child still running when its parent ended (after healing, and long enough before
// the end for the cancel to go down) was left behind.
void check_run_families(SimDatabase& database, Checker& checker, Instant heal, Instant end) {
  constexpr Duration kCascadeMax = seconds(30);
  struct Run {
    engine::RunStatus status = engine::RunStatus::running;
    std::string parent;
    std::int64_t closed_at_ms = 0;
    std::int64_t depth = 0;
  };
  std::map<std::string, Run> runs;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query(
        "SELECT id, status, parent_run_id, closed_at_ms, input_json FROM workflow_runs WHERE "
        "workflow_name = 'workflow'",
        {});
    if (!rows) return fail(rows.error());
    for (const SqlRecord& r : records(*rows)) {
      auto status = r.enumerated("status", engine::kRunStatusNames);
      if (!status) return fail(status.error());
      const Json input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
      const Json context = input.is_object() ? input.value("context", Json::object()) : Json();
      const Json depth = context.is_object() ? context.value("depth", Json(0)) : Json(0);
      runs[r.text("id")] = Run{*status, r.optional_text("parent_run_id").value_or(""),
                               r.optional_integer("closed_at_ms").value_or(0),
                               depth.is_number_integer() ? depth.get<std::int64_t>() : 0};
    }
    return {};
  });
  if (!read) {
    checker.violation(end, "workflow_runs_family", "cannot read the runs: " + read.error().message);
    return;
  }
  for (const auto& [id, run] : runs) {
    if (run.depth > workflow::kChildRunDepthMax) {
      checker.violation(end, "workflow_runs_family",
                        "run " + id + " nests " + std::to_string(run.depth) + " deep");
    }
    if (run.parent.empty() || run.status != engine::RunStatus::running) continue;
    const auto parent = runs.find(run.parent);
    if (parent == runs.end() || parent->second.status == engine::RunStatus::running) continue;
    // The closing node's wall clock: this scenario declares no clock faults.
    const Instant parent_closed = Instant(milliseconds(parent->second.closed_at_ms));
    if (parent_closed >= heal && parent_closed + kCascadeMax <= end) {
      checker.violation(end, "workflow_runs_family",
                        "run " + id + " still runs; its parent " + run.parent + " ended at " +
                            format_duration(parent_closed - kSimEpoch));
    }
  }
}

void check_workflow_runs(SimDatabase& database, Checker& checker, Instant end) {
  std::map<std::string, Json> inputs;
  std::map<std::string, std::vector<engine::HistoryEvent>> histories;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto runs =
        tx.query("SELECT id, input_json FROM workflow_runs WHERE workflow_name = 'workflow'", {});
    if (!runs) return fail(runs.error());
    for (const SqlRecord& r : records(*runs)) {
      inputs[r.text("id")] = Json::parse(r.text("input_json"), nullptr, false);
      auto history = engine::load_history(tx, r.text("id"));
      if (!history) return fail(history.error());
      histories[r.text("id")] = std::move(*history);
    }
    return {};
  });
  if (!read) {
    checker.violation(end, "workflow_nodes_once",
                      "cannot read the database: " + read.error().message);
    return;
  }
  for (const auto& [run_id, history] : histories) {
    const Json& input = inputs[run_id];
    const bool manual =
        input.is_object() && input.value("inputs", Json::object()).value("mode", "") == "manual";
    std::set<std::string> scheduled;
    std::set<std::string> approved;  // approval keys answered "approved", so far
    for (const auto& e : history) {
      if (e.kind == engine::EventKind::signal_received &&
          e.body.value("name", "") == workflow::kAnswerSignal) {
        const Json payload = e.body.value("payload", Json::object());
        if (payload.value("output", Json::object()).value("status", "") == "approved") {
          approved.insert(payload.value("key", ""));
        }
      }
      if (e.kind != engine::EventKind::activity_scheduled) continue;
      const Json activity = e.body.value("input", Json::object());
      const std::string key = activity.is_object() ? activity.value("key", "") : "";
      if (key.empty()) continue;
      // A held step's retry (run control) is the same node again, once per retry asked.
      const Json retry = activity.value("retry", Json(0));
      const std::string attempt =
          retry.is_number_integer() && retry.get<std::int64_t>() > 0
              ? key + " (retry " + std::to_string(retry.get<std::int64_t>()) + ")"
              : key;
      if (!scheduled.insert(attempt).second) {
        checker.violation(end, "workflow_nodes_once",
                          "run " + run_id + " scheduled " + attempt + " twice");
      }
      const std::string suffix = "/use_tools";
      if (manual && key.ends_with(suffix) && !key.starts_with("save:")) {
        const std::string approval = key.substr(0, key.size() - suffix.size()) + "/approve_tools";
        if (!approved.contains(approval)) {
          checker.violation(
              end, "approvals_signalled",
              "run " + run_id + " ran " + key + " without an approval of " + approval);
        }
      }
    }
  }
}

}  // namespace reliant::sim
