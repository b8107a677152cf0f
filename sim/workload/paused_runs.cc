// paused_runs_start_nothing (paused_runs.h): each workflow run's history read in order, its
// pauses, held steps and retries tracked apart from the engine's own RunControl.
#include "sim/workload/paused_runs.h"

#include <algorithm>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/engine/history.h"
#include "core/workflow/definition.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/history_answers.h"
#include "core/workflow/node_types.h"
#include "core/workflow/run_control.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kPausedInvariant = "paused_runs_start_nothing";
// How long after it starts (or after healing) a run is held to having ended, as
// workflow_runs_end holds it: a run younger than this may be paused by a client that has not yet
// resumed it.
constexpr Duration kPausedRunBudget = seconds(40);

// The failure policies a run's steps have, as its start and its workflow's file write them:
// the node's own `on_failure`, else the run's (its start's), else the workflow's.
struct FailurePolicies {
  std::string run;  // "pause", "fail" or ""
  std::shared_ptr<const workflow::Definition> definition;

  bool holds(const std::string& path) const {
    if (definition == nullptr) return run == "pause";
    // "a.b": node b in the body of node a.
    const workflow::Graph* graph = definition->graph.get();
    const workflow::NodeSpec* node = nullptr;
    for (std::size_t from = 0; graph != nullptr && from <= path.size();) {
      const std::size_t dot = std::min(path.find('.', from), path.size());
      node = graph->find(std::string_view(path).substr(from, dot - from));
      graph = node != nullptr ? node->body.get() : nullptr;
      from = dot + 1;
    }
    if (node != nullptr && node->on_failure)
      return *node->on_failure == workflow::FailurePolicy::pause;
    if (!run.empty()) return run == "pause";
    return definition->on_failure == workflow::FailurePolicy::pause;
  }
};

struct PausedRunRow {
  std::string status;
  std::string parent;
  FailurePolicies policies;
  std::vector<engine::HistoryEvent> history;
};

// A retry asked of a held step: by a retry signal (with its args), or by a resume.
struct AskedRetry {
  std::int64_t seq = 0;
  Json args = Json::object();
  int scheduled = 0;
};

struct ScheduledActivity {
  std::string key;
  std::string path;
  std::string name;
};

// One run's history, read in order: what its user paused, what failures hold, what was asked.
struct ControlWalk {
  std::string run_id;
  const FailurePolicies* policies = nullptr;
  bool by_user = false;
  std::int64_t paused_since = 0;
  std::map<std::string, std::int64_t> held;  // step key → the seq of the failure holding it
  std::map<std::int64_t, ScheduledActivity> activities;
  std::map<std::string, std::vector<AskedRetry>> asked;  // step key → its retries, in order
  std::string ended;                                     // the terminal event's kind, if any
  std::vector<std::string>* problems = nullptr;
  ControlCounts* counts = nullptr;

  void problem(std::int64_t seq, const std::string& what) const {
    problems->push_back("run " + run_id + " (seq " + std::to_string(seq) + "): " + what);
  }
  bool paused() const { return by_user || !held.empty(); }
  std::string why_paused() const {
    if (by_user) return "paused by its user since seq " + std::to_string(paused_since);
    const auto& [key, seq] = *held.begin();
    return "holding step " + key + ", which failed at seq " + std::to_string(seq);
  }
};

// A node's own activity, as opposed to storing a message of one that ran, or the run's end.
bool starts_a_node(const std::string& key) {
  return !key.empty() && !key.starts_with(workflow::kSaveMessageKeyPrefix) &&
         key != workflow::kFinishKey;
}

std::string control_text(const Json& map, const char* key) {
  if (!map.is_object()) return "";
  const auto it = map.find(key);
  return it != map.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A retry's activity: the latest one asked of its step, once, with the args asked over the step's.
void check_retry(ControlWalk& w, const engine::HistoryEvent& e, const std::string& key,
                 const Json& input) {
  const Json retry = input.value("retry", Json(0));
  const std::int64_t number = retry.is_number_integer() ? retry.get<std::int64_t>() : 0;
  if (number <= 0) return;
  ++(*w.counts)["retries scheduled"];
  auto& asks = w.asked[key];
  if (number != static_cast<std::int64_t>(asks.size())) {
    w.problem(e.seq, "scheduled retry " + std::to_string(number) + " of step " + key + " when " +
                         std::to_string(asks.size()) + " had been asked");
    return;
  }
  AskedRetry& ask = asks.back();
  if (++ask.scheduled > 1) {
    w.problem(e.seq, "scheduled retry " + std::to_string(number) + " of step " + key +
                         " again (asked at seq " + std::to_string(ask.seq) + ")");
  }
  const Json args = input.value("args", Json::object());
  for (const auto& [name, value] : ask.args.items()) {
    if (!args.is_object() || !args.contains(name) || args[name] != value) {
      w.problem(e.seq, "retry " + std::to_string(number) + " of step " + key + " runs with " +
                           name + " = " +
                           (args.is_object() ? args.value(name, Json()) : Json()).dump() +
                           ", asked " + value.dump());
    }
  }
}

void on_scheduled(ControlWalk& w, const engine::HistoryEvent& e) {
  const Json input = e.body.value("input", Json::object());
  const std::string key = control_text(input, "key");
  w.activities[e.seq] = {key, control_text(input, "path"), e.body.value("name", "")};
  if (!starts_a_node(key)) return;
  if (w.paused()) w.problem(e.seq, "scheduled step " + key + " while " + w.why_paused());
  check_retry(w, e, key, input);
}

// A node's activity that failed (its attempts spent) under on_failure: pause holds its step — a
// sub-workflow's excepted, whose failure is its child run's.
void on_failed(ControlWalk& w, const engine::HistoryEvent& e) {
  const auto activity = w.activities.find(e.ref_seq());
  if (activity == w.activities.end()) return;
  const ScheduledActivity& failed = activity->second;
  if (!starts_a_node(failed.key) ||
      failed.name == workflow::node_type_info(workflow::NodeType::workflow).activity ||
      !w.policies->holds(failed.path)) {
    return;
  }
  w.held[failed.key] = e.seq;
  ++(*w.counts)["steps held"];
}

void on_control(ControlWalk& w, const engine::HistoryEvent& e) {
  const Json payload = e.body.value("payload", Json::object());
  const std::string action = control_text(payload, "action");
  ++(*w.counts)[action + " signals"];
  if (action == "pause") {
    if (w.by_user) w.problem(e.seq, "a pause was recorded while " + w.why_paused());
    w.by_user = true;
    w.paused_since = e.seq;
  } else if (action == "resume") {
    if (!w.paused()) w.problem(e.seq, "a resume was recorded of a run not paused");
    w.by_user = false;
    for (const auto& [key, failed_at] : w.held) w.asked[key].push_back({e.seq, Json::object(), 0});
    w.held.clear();
  } else if (action == "retry" || action == "skip" || action == "fail") {
    const std::string key = control_text(payload, "key");
    if (w.held.erase(key) == 0) {
      w.problem(e.seq, "a " + action + " of step " + key + " was recorded, which no failure holds");
    } else if (action == "retry") {
      const Json args = payload.value("args", Json::object());
      w.asked[key].push_back({e.seq, args.is_object() ? args : Json::object(), 0});
    }
  } else if (action != "set_input") {
    w.problem(e.seq, "a control signal of unknown action '" + action + "'");
  }
}

ControlWalk walk_history(const std::string& run_id, const PausedRunRow& run,
                         std::vector<std::string>& problems, ControlCounts& counts) {
  ControlWalk w;
  w.run_id = run_id;
  w.policies = &run.policies;
  w.problems = &problems;
  w.counts = &counts;
  for (const auto& e : run.history) {
    if (engine::is_terminal(e.kind)) {
      w.ended = std::string(engine::to_string(e.kind));
      break;
    }
    switch (e.kind) {
      case engine::EventKind::activity_scheduled:
        on_scheduled(w, e);
        break;
      case engine::EventKind::activity_failed:
        on_failed(w, e);
        break;
      case engine::EventKind::timer_started:
        if (w.paused()) w.problem(e.seq, "started a timer while " + w.why_paused());
        break;
      case engine::EventKind::signal_received:
        if (e.body.value("name", "") == workflow::kRunControlSignal) on_control(w, e);
        break;
      default:
        break;
    }
  }
  return w;
}

Result<void> read_paused_runs(SqlTransaction& tx, std::map<std::string, PausedRunRow>& runs) {
  auto rows = tx.query(
      "SELECT id, status, parent_run_id, input_json FROM workflow_runs WHERE workflow_name = $1",
      {std::string(workflow::kEngineWorkflowName)});
  if (!rows) return fail(rows.error());
  for (const SqlRecord& r : records(*rows)) {
    const Json input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
    PausedRunRow& run = runs[r.text("id")];
    run.status = r.text("status");
    run.parent = r.optional_text("parent_run_id").value_or("");
    run.policies.run = control_text(input, "on_failure");
    // The workflow's file, for the nodes' and its own on_failure (one that does not load has
    // no run to speak of: the run's policy stands alone).
    if (auto request = workflow::run_request_from_json(input)) {
      if (auto definition = workflow::load_run_definition(*request))
        run.policies.definition = std::move(*definition);
    }
    auto history = engine::load_history(tx, r.text("id"));
    if (!history) return fail(history.error());
    run.history = std::move(*history);
  }
  return {};
}

// The runs the clients followed, by id.
std::map<std::string, const FollowedRun*> followed_runs(
    const std::vector<std::unique_ptr<WorkflowClientBook>>& books) {
  std::map<std::string, const FollowedRun*> out;
  for (const auto& book : books) {
    for (const auto& [id, run] : book->runs) out[id] = &run;
  }
  return out;
}

// Whether a run still running at the end may be paused there: it, or the run at the top of its
// family, was left so by its client, or started too late to be held to ending.
bool may_be_paused_at_end(const std::string& run_id,
                          const std::map<std::string, PausedRunRow>& runs,
                          const std::map<std::string, const FollowedRun*>& followed, Instant heal,
                          Instant end) {
  std::string top = run_id;
  for (int depth = 0; depth <= workflow::kChildRunDepthMax; ++depth) {
    if (const auto run = followed.find(top); run != followed.end()) {
      if (run->second->left) return true;
    }
    const auto row = runs.find(top);
    if (row == runs.end() || row->second.parent.empty()) break;
    top = row->second.parent;
  }
  const auto root = followed.find(top);
  return root != followed.end() && std::max(root->second->started, heal) + kPausedRunBudget > end;
}

// The end of each run against what was asked of it and what its client left it as.
void check_ends(const std::map<std::string, PausedRunRow>& runs,
                const std::map<std::string, ControlWalk>& walks,
                const std::map<std::string, const FollowedRun*>& followed, Instant heal,
                Instant end, std::vector<std::string>& problems, ControlCounts& counts) {
  for (const auto& [run_id, w] : walks) {
    if (w.ended == "run_completed") {
      for (const auto& [key, asks] : w.asked) {
        for (std::size_t i = 0; i < asks.size(); ++i) {
          if (asks[i].scheduled == 0) {
            problems.push_back("run " + run_id + " completed without scheduling retry " +
                               std::to_string(i + 1) + " of step " + key + ", asked at seq " +
                               std::to_string(asks[i].seq));
          }
        }
      }
    }
    if (runs.at(run_id).status != "running" || !w.ended.empty()) continue;
    const auto client = followed.find(run_id);
    if (client != followed.end() && client->second->leave_paused && client->second->paused &&
        !w.by_user) {
      problems.push_back("run " + run_id + " was left paused by its client and runs unpaused");
    }
    if (!w.paused()) continue;
    ++counts[w.by_user ? "runs paused at the end" : "runs holding a step at the end"];
    if (!may_be_paused_at_end(run_id, runs, followed, heal, end)) {
      problems.push_back("run " + run_id + " is " + w.why_paused() +
                         " at the end, and its client did not leave it so");
    }
  }
}

}  // namespace

ControlCounts check_paused_runs(const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
                                SimDatabase& database, Checker& checker, Instant heal,
                                Instant end) {
  std::map<std::string, PausedRunRow> runs;
  auto read =
      database.database().transact([&](SqlTransaction& tx) { return read_paused_runs(tx, runs); });
  if (!read) {
    checker.violation(end, std::string(kPausedInvariant),
                      "cannot read the database: " + read.error().message);
    return {};
  }
  std::vector<std::string> problems;
  ControlCounts counts;
  std::map<std::string, ControlWalk> walks;
  for (const auto& [run_id, run] : runs)
    walks[run_id] = walk_history(run_id, run, problems, counts);
  check_ends(runs, walks, followed_runs(books), heal, end, problems, counts);
  for (const auto& problem : problems)
    checker.violation(end, std::string(kPausedInvariant), problem);
  return counts;
}

}  // namespace reliant::sim
