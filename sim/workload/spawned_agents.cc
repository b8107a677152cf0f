// workflow_spawns (spawned_agents.h): the spawned_agents rows against their runs, prompts and
// parents' histories.
#include "sim/workload/spawned_agents.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/engine/workflow.h"
#include "core/workflow/agent_inbox.h"
#include "services/agent/spawn_tools.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSpawnsInvariant = "workflow_spawns";
// How long a parent's end may take to cancel its sub-agents once nothing is faulty: a cancel is
// a decision of the sub-agent's, which a worker takes within seconds.
constexpr Duration kSpawnCascadeMax = seconds(30);
// How much later than its parent's end a sub-agent may record an end of its own (completed or
// failed): the two clocks are read before their commits, which a retried transaction delays.
constexpr Duration kSpawnOutliveMax = seconds(5);
constexpr std::string_view kSpawnToolsActivity = "node.execute_tools";

struct SpawnRow {
  std::string id;
  std::string parent;
  std::string chat;
  std::string thread;
  std::string preset;
};

struct SpawnRun {
  engine::RunStatus status = engine::RunStatus::running;
  std::string parent;
  std::string parent_key;
  std::string chat;
  std::int64_t closed_at_ms = 0;
};

struct SpawnPrompt {
  std::string chat;
  std::string thread;
  std::string role;
};

enum class StepState { pending, completed, failed };

// What one run's history says of its sub-agents.
struct SpawnListing {
  std::map<std::int64_t, StepState> step_status;            // by its tools steps' seq
  std::map<std::string, std::vector<std::int64_t>> listed;  // agent id → the steps listing it
  std::map<std::string, int> ends;                          // agent id → child_ended signals
};

struct SpawnBook {
  std::vector<SpawnRow> agents;
  std::map<std::string, SpawnRun> runs;
  std::map<std::string, SpawnPrompt> prompts;  // by message id
  std::map<std::string, SpawnListing> listings;
  std::vector<std::string> problems;
};

std::string spawn_text(const Json& map, const char* key) {
  if (!map.is_object()) return "";
  const auto it = map.find(key);
  return it != map.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A completed tools step's result: the sub-agents it lists must be exactly those its spawn calls
// that succeeded started, each named for its call.
void read_step(const std::string& run_id, std::int64_t seq, const Json& result, SpawnBook& s) {
  SpawnListing& listing = s.listings[run_id];
  const std::string step = "run " + run_id + " step " + std::to_string(seq);
  std::set<std::string> expected;
  const Json results = result.is_object() ? result.value("tool_results", Json::array()) : Json();
  for (std::size_t i = 0; results.is_array() && i < results.size(); ++i) {
    if (spawn_text(results[i], "name") == "spawn" &&
        results[i].value("is_error", Json(true)) == false)
      expected.insert(run_id + "-" + std::to_string(seq) + "-" + std::to_string(i));
  }
  std::set<std::string> listed;
  for (const auto& start : workflow::spawn_starts(result)) {
    if (!listed.insert(start.agent_id).second)
      s.problems.push_back(step + " lists sub-agent " + start.agent_id + " twice");
    listing.listed[start.agent_id].push_back(seq);
  }
  for (const auto& id : listed) {
    if (!expected.contains(id)) {
      s.problems.push_back(step + " lists sub-agent " + id +
                           ", which is not named for one of its spawn calls that succeeded");
    }
  }
  for (const auto& id : expected) {
    if (!listed.contains(id))
      s.problems.push_back(step + ": its spawn call " + id + " succeeded but lists no sub-agent");
  }
}

Result<void> read_history(SqlTransaction& tx, const std::string& run_id, SpawnBook& s) {
  auto history = engine::load_history(tx, run_id);
  if (!history) return fail(history.error());
  SpawnListing& listing = s.listings[run_id];
  for (const auto& e : *history) {
    if (e.kind == engine::EventKind::activity_scheduled) {
      if (e.body.value("name", "") == kSpawnToolsActivity)
        listing.step_status[e.seq] = StepState::pending;
    } else if (e.kind == engine::EventKind::activity_completed ||
               e.kind == engine::EventKind::activity_failed) {
      const auto step = listing.step_status.find(e.ref_seq());
      if (step == listing.step_status.end()) continue;
      const bool completed = e.kind == engine::EventKind::activity_completed;
      step->second = completed ? StepState::completed : StepState::failed;
      if (completed) read_step(run_id, e.ref_seq(), e.body.value("result", Json()), s);
    } else if (e.kind == engine::EventKind::signal_received &&
               e.body.value("name", "") == engine::kChildEndedSignal) {
      const Json payload = e.body.value("payload", Json::object());
      if (spawn_text(payload, "key").starts_with(workflow::kSpawnKeyPrefix))
        ++listing.ends[spawn_text(payload, "run_id")];
    }
  }
  return {};
}

Result<void> read_spawns(SqlTransaction& tx, SpawnBook& s) {
  auto agents =
      tx.query("SELECT id, parent_run_id, chat_id, thread, preset FROM spawned_agents", {});
  if (!agents) return fail(agents.error());
  for (const SqlRecord& r : records(*agents)) {
    s.agents.push_back({r.text("id"), r.text("parent_run_id"), r.text("chat_id"), r.text("thread"),
                        r.text("preset")});
  }
  auto runs = tx.query(
      "SELECT id, status, parent_run_id, parent_key, closed_at_ms, input_json FROM workflow_runs "
      "WHERE workflow_name = 'workflow'",
      {});
  if (!runs) return fail(runs.error());
  for (const SqlRecord& r : records(*runs)) {
    auto status = r.enumerated("status", engine::kRunStatusNames);
    if (!status) return fail(status.error());
    const Json input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
    s.runs[r.text("id")] =
        SpawnRun{*status, r.optional_text("parent_run_id").value_or(""),
                 r.optional_text("parent_key").value_or(""),
                 spawn_text(input.is_object() ? input.value("context", Json()) : Json(), "chat_id"),
                 r.optional_integer("closed_at_ms").value_or(0)};
    if (auto read = read_history(tx, r.text("id"), s); !read) return read;
  }
  auto prompts =
      tx.query("SELECT id, chat_id, thread, role FROM messages WHERE id LIKE 'spawn-%'", {});
  if (!prompts) return fail(prompts.error());
  for (const SqlRecord& r : records(*prompts))
    s.prompts[r.text("id")] = {r.text("chat_id"), r.text("thread"), r.text("role")};
  return {};
}

// The row against its run, its parent and its prompt.
void check_row(const SpawnRow& agent, SpawnBook& s) {
  const std::string who = "sub-agent " + agent.id + " of " + agent.parent;
  const auto run = s.runs.find(agent.id);
  const auto parent = s.runs.find(agent.parent);
  if (run == s.runs.end()) {
    s.problems.push_back(who + " has no run");
  } else if (run->second.parent != agent.parent ||
             run->second.parent_key != std::string(workflow::kSpawnKeyPrefix) + agent.preset) {
    s.problems.push_back(who + ": its run's parent is '" + run->second.parent + "' under key '" +
                         run->second.parent_key + "'");
  }
  if (parent == s.runs.end()) {
    s.problems.push_back(who + ": its parent run does not exist");
  } else if (parent->second.chat != agent.chat) {
    s.problems.push_back(who + " is in chat " + agent.chat + ", its parent in " +
                         parent->second.chat);
  }
  if (agent.thread != "agent:" + agent.id)
    s.problems.push_back(who + " talks on thread '" + agent.thread + "'");
  const auto prompt = s.prompts.find("spawn-" + agent.id);
  if (prompt == s.prompts.end()) {
    s.problems.push_back(who + " has no prompt message");
  } else if (prompt->second.chat != agent.chat || prompt->second.thread != agent.thread ||
             prompt->second.role != "user") {
    s.problems.push_back(who + ": its prompt is a " + prompt->second.role + " message on thread '" +
                         prompt->second.thread + "' of chat " + prompt->second.chat);
  }
}

// Started once: the step its id names lists it, once that step completed.
void check_started_once(const SpawnRow& agent, SpawnBook& s) {
  const std::string who = "sub-agent " + agent.id + " of " + agent.parent;
  const SpawnListing& listing = s.listings[agent.parent];
  const auto listed = listing.listed.find(agent.id);
  if (listed != listing.listed.end() && listed->second.size() > 1) {
    s.problems.push_back(who + " is listed by " + std::to_string(listed->second.size()) +
                         " steps: started more than once");
  }
  // <parent>-<step seq>-<call index>
  const std::string prefix = agent.parent + "-";
  const std::string rest = agent.id.starts_with(prefix) ? agent.id.substr(prefix.size()) : "";
  const std::string seq = rest.substr(0, rest.find('-'));
  std::int64_t seq_number = 0;
  const auto [parsed_to, parsed] = std::from_chars(seq.data(), seq.data() + seq.size(), seq_number);
  const bool named =
      parsed == std::errc() && parsed_to == seq.data() + seq.size() && rest.size() > seq.size();
  const auto step = named ? listing.step_status.find(seq_number) : listing.step_status.end();
  if (step == listing.step_status.end()) {
    s.problems.push_back(who + " is named for no tool step of its parent: started by no call");
  } else if (step->second == StepState::completed && listed == listing.listed.end()) {
    s.problems.push_back(who + ": step " + seq +
                         " completed without listing it: a retried step started a sub-agent of "
                         "its own");
  }
}

void check_bounds(SpawnBook& s) {
  std::map<std::string, std::size_t> per_parent;
  std::map<std::string, const SpawnRow*> by_id;
  for (const auto& agent : s.agents) {
    ++per_parent[agent.parent];
    by_id[agent.id] = &agent;
  }
  for (const auto& [parent, count] : per_parent) {
    if (count > agent::kSpawnsPerRunMax) {
      s.problems.push_back("run " + parent + " started " + std::to_string(count) +
                           " sub-agents (at most " + std::to_string(agent::kSpawnsPerRunMax) + ")");
    }
  }
  for (const auto& agent : s.agents) {
    std::int64_t depth = 1;
    for (auto up = by_id.find(agent.parent); up != by_id.end() && depth <= agent::kSpawnDepthMax;
         up = by_id.find(up->second->parent)) {
      ++depth;
    }
    if (depth > agent::kSpawnDepthMax) {
      s.problems.push_back("sub-agent " + agent.id + " nests more than " +
                           std::to_string(agent::kSpawnDepthMax) + " deep");
    }
  }
}

// What the histories list, and the ends they heard, against the rows.
void check_listings(SpawnBook& s) {
  std::map<std::string, const SpawnRow*> by_id;
  for (const auto& agent : s.agents) by_id[agent.id] = &agent;
  for (const auto& [run_id, listing] : s.listings) {
    for (const auto& [id, steps] : listing.listed) {
      const auto agent = by_id.find(id);
      if (agent == by_id.end() || agent->second->parent != run_id) {
        s.problems.push_back("run " + run_id + " step " + std::to_string(steps.front()) +
                             " lists sub-agent " + id + ", which is no sub-agent of it");
      }
    }
    for (const auto& [id, ends] : listing.ends) {
      if (ends > 1) {
        s.problems.push_back("the end of sub-agent " + id + " reached run " + run_id + " " +
                             std::to_string(ends) + " times");
      }
    }
  }
}

// Ends when its parent ends, once nothing is faulty: it still runs kSpawnCascadeMax after its
// parent ended (or after healing), or it went on to end otherwise than cancelled well after its
// parent ended — the parent's end cancels it in the same transaction, so a sub-agent that finished
// its work later was never told. Times are the closing nodes' wall clocks, taken before their
// transactions commit: scenarios that check this declare no clock faults, and after healing a
// commit follows its clock reading closely.
void check_cascade(SpawnBook& s, Instant heal, Instant end) {
  for (const auto& agent : s.agents) {
    const auto run = s.runs.find(agent.id);
    const auto parent = s.runs.find(agent.parent);
    if (run == s.runs.end() || parent == s.runs.end() ||
        parent->second.status == engine::RunStatus::running) {
      continue;
    }
    const Instant parent_closed = Instant(milliseconds(parent->second.closed_at_ms));
    const std::string parent_end = "its parent " + agent.parent + " ended " +
                                   std::string(engine::to_string(parent->second.status)) + " at " +
                                   format_duration(parent_closed - kSimEpoch);
    if (run->second.status == engine::RunStatus::running) {
      if (std::max(parent_closed, heal) + kSpawnCascadeMax <= end)
        s.problems.push_back("sub-agent " + agent.id + " still runs; " + parent_end);
      continue;
    }
    const Instant closed = Instant(milliseconds(run->second.closed_at_ms));
    if (run->second.status != engine::RunStatus::cancelled && parent_closed >= heal &&
        closed > parent_closed + kSpawnOutliveMax) {
      s.problems.push_back("sub-agent " + agent.id + " ended " +
                           std::string(engine::to_string(run->second.status)) + " at " +
                           format_duration(closed - kSimEpoch) + ", after " + parent_end +
                           ": its parent's end did not cancel it");
    }
  }
}

}  // namespace

SpawnCounts check_spawned_agents(SimDatabase& database, Checker& checker, Instant heal,
                                 Instant end) {
  SpawnBook s;
  auto read = database.database().transact([&](SqlTransaction& tx) { return read_spawns(tx, s); });
  if (!read) {
    checker.violation(end, std::string(kSpawnsInvariant),
                      "cannot read the database: " + read.error().message);
    return {};
  }
  for (const auto& agent : s.agents) {
    check_row(agent, s);
    check_started_once(agent, s);
  }
  std::set<std::string> ids;
  for (const auto& agent : s.agents) ids.insert(agent.id);
  for (const auto& [message, prompt] : s.prompts) {
    if (!ids.contains(message.substr(std::string_view("spawn-").size())))
      s.problems.push_back("prompt " + message + " on thread '" + prompt.thread +
                           "' belongs to no sub-agent");
  }
  check_bounds(s);
  check_listings(s);
  check_cascade(s, heal, end);
  for (const auto& problem : s.problems)
    checker.violation(end, std::string(kSpawnsInvariant), problem);
  SpawnCounts counts;
  for (const auto& agent : s.agents) {
    const auto run = s.runs.find(agent.id);
    ++counts[run == s.runs.end() ? "without a run"
                                 : std::string(engine::to_string(run->second.status))];
  }
  return counts;
}

}  // namespace reliant::sim
