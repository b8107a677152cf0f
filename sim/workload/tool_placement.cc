// tool_placement: where each workflow node's command ran, against its nearest selector.
#include "sim/workload/tool_placement.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/json_parse.h"
#include "core/daemon_selection.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/yaml_values.h"
#include "services/engine/engine_sql.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/daemons.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

// The node `id` among a body's `nodes:` list, or an undefined node.
YAML::Node node_in(const YAML::Node& body, const std::string& id) {
  const YAML::Node nodes = body["nodes"];
  if (!nodes || !nodes.IsSequence()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& node : nodes) {
    if (node.IsMap() && node["id"] && node["id"].Scalar() == id) return node;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// The selector a run writes nearest to the node at `key` ("a/b#2/c": c inside loop b's
// iteration inside group a): the innermost of the nodes' own `daemon:`, else the workflow's;
// nullopt when it writes none.
std::optional<Json> written_selector(const YAML::Node& workflow, const std::string& key) {
  std::optional<Json> innermost;
  if (workflow["daemon"]) innermost = workflow::to_json(workflow["daemon"]);
  YAML::Node body = workflow;
  for (std::size_t from = 0;;) {
    const std::size_t slash = key.find('/', from);
    const std::string segment = key.substr(from, slash == std::string::npos ? slash : slash - from);
    const YAML::Node node = node_in(body, segment.substr(0, segment.find('#')));
    if (!node) break;
    if (node["daemon"]) innermost = workflow::to_json(node["daemon"]);
    if (slash == std::string::npos || !(body = node["inline"])) break;
    from = slash + 1;
  }
  return innermost;
}

struct Run {
  YAML::Node workflow;
  std::string parent_run;
  std::string parent_node;
};

// The nearest selector for `key` in `run_id`, through the run's parents; nullopt when none is
// written anywhere (the session daemon or default resolution decides, and anything goes).
std::optional<Json> nearest(const std::map<std::string, Run>& runs, const std::string& run_id,
                            const std::string& key, std::int64_t depth = 0) {
  const auto run = runs.find(run_id);
  if (run == runs.end() || depth > workflow::kChildRunDepthMax) return std::nullopt;
  if (auto written = written_selector(run->second.workflow, key)) return written;
  if (run->second.parent_run.empty()) return std::nullopt;
  return nearest(runs, run->second.parent_run, run->second.parent_node, depth + 1);
}

}  // namespace

void check_tool_placement(SimDatabase& database, Checker& checker, Instant end) {
  std::vector<std::string> problems;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query(
        "SELECT id, parent_run_id, input_json FROM workflow_runs WHERE workflow_name = 'workflow'",
        {});
    if (!rows) return fail(rows.error());
    std::map<std::string, Run> runs;
    for (const SqlRecord& r : records(*rows)) {
      const Json input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
      if (!input.is_object() || !input.contains("source")) continue;  // a builtin's: no YAML
      Run run;
      try {
        run.workflow = YAML::Load(input.value("source", ""));
      } catch (const YAML::Exception&) {
        continue;  // not the checker's to judge: the loader refused it
      }
      const Json context = input.value("context", Json::object());
      run.parent_run = r.optional_text("parent_run_id").value_or("");
      run.parent_node = context.is_object() ? context.value("parent_node", "") : "";
      runs.emplace(r.text("id"), std::move(run));
    }
    for (const auto& [run_id, run] : runs) {
      auto history = engine::load_history(tx, run_id);
      if (!history) return fail(history.error());
      std::map<std::int64_t, std::string> keys;  // scheduled seq → node key
      for (const auto& e : *history) {
        if (e.kind == engine::EventKind::activity_scheduled) {
          const Json input = e.body.value("input", Json::object());
          if (input.is_object()) keys[e.seq] = input.value("key", "");
          continue;
        }
        if (e.kind != engine::EventKind::activity_completed) continue;
        const Json result = e.body.value("result", Json::object());
        const std::string daemon_id = result.is_object() ? result.value("daemon_id", "") : "";
        const auto key = keys.find(e.ref_seq());
        if (daemon_id.empty() || key == keys.end()) continue;
        const std::optional<Json> wanted = nearest(runs, run_id, key->second);
        if (!wanted) continue;
        auto selector = parse_daemon_selector(*wanted);
        if (!selector) continue;  // a CEL selector: workflow_node_daemons checks what it gave
        auto daemon = find_daemon(tx, daemon_id);
        if (!daemon) return fail(daemon.error());
        if (!*daemon) continue;  // workflow_node_daemons reports an unknown daemon
        if (!matches(*selector, routing::candidate_from(**daemon))) {
          problems.push_back("run " + run_id +
                             (run.parent_run.empty() ? "" : " (child of " + run.parent_run + ")") +
                             " node " + key->second + " should run on " + wanted->dump() +
                             " and ran on " + (*daemon)->name + " (" +
                             std::string(to_string((*daemon)->type)) + ")");
        }
      }
    }
    return {};
  });
  if (!read) {
    checker.violation(end, "tool_placement", "cannot read the database: " + read.error().message);
    return;
  }
  for (const auto& problem : problems) checker.violation(end, "tool_placement", problem);
}

}  // namespace reliant::sim
