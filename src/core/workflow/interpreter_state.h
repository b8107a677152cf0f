// What the interpreter's two source files share — interpreter.cc (scopes and nodes) and
// interpreter_loops.cc (loops, their failure policies, and failures that end an iteration) —:
// the state of a scope and of a loop, and small value helpers. Not for other code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/cel/value.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/template.h"

namespace reliant::workflow {

// One instance of a graph: the run's own, or one iteration of a loop's inline body.
struct Interpreter::Scope {
  std::size_t index = 0;  // in scopes_
  const Graph* graph = nullptr;
  std::string key;   // "" for the run; "agent_loop#0/" for a loop's first iteration
  std::string path;  // "" or "agent_loop."
  cel::Value inputs;
  cel::Value iter;
  cel::Value params;
  cel::Value outer_nodes;                  // the enclosing scope's `nodes` when this one opened
  std::string thread_id;                   // the thread its nodes talk on ("" the run's main one)
  std::optional<std::string> thread_from;  // a forked thread's source
  std::optional<std::size_t> owner;        // the scope holding the loop or group node
  std::size_t owner_node = 0;
  std::size_t iteration = 0;
  std::vector<NodeStatus> status;
  std::vector<bool> activated;
  std::vector<std::pair<std::string, cel::Value>> outputs;  // completed nodes, in order
  // `nodes` as expressions see it, kept up to date in place as nodes complete (copied first
  // when a value handed out still holds it), so a step costs one insertion, not a rebuild.
  std::shared_ptr<cel::ValueMap> nodes_map;
  cel::Value nodes_cache;
  std::size_t busy = 0;    // nodes waiting, running or opened
  std::size_t queued = 0;  // activations not yet processed
  std::size_t waiting_joins = 0;
  bool finished = false;                   // ended, or cancelled with a failed iteration around it
  std::vector<std::size_t> children;       // scopes its loops, groups and workflows opened
  std::set<std::uint64_t> pending_orders;  // its nodes' pending actions (keys of pending_)
};

// A loop node's progress: iterations started and done, the elements of `items`, the results.
struct Interpreter::Loop {
  std::vector<cel::Value> items;
  bool over_items = false;
  std::size_t started = 0;
  std::size_t done = 0;  // ended: completed or failed
  std::size_t failed = 0;
  std::size_t running = 0;
  bool stop = false;                // `while` turned false: start no more
  std::vector<cel::Value> results;  // by index: the outputs, or {_error} for a failed one
  cel::Value last;                  // the outputs of the last iteration that completed
  cel::Value params;
  // Items loops: each started iteration's key (its name in `_results`), and the index of each.
  std::vector<std::string> keys;
  std::map<std::string, std::size_t, std::less<>> index_of_key;
  std::string first_failure;  // `"key": message` of the first failed iteration
};

namespace interpreter_detail {

inline cel::Value map_of(std::initializer_list<std::pair<const char*, cel::Value>> fields) {
  cel::ValueMap map;
  for (const auto& [k, v] : fields) map.insert(cel::Value(k), v);
  return cel::Value(std::move(map));
}

// `base` with `extra`'s fields added (replacing those of the same name).
inline cel::Value merged(const cel::Value& base,
                         const std::vector<std::pair<std::string, cel::Value>>& extra) {
  cel::ValueMap map;
  if (const auto* m = base.map()) {
    for (const auto& [k, v] : m->entries()) {
      const auto* name = k.get_if<std::string>();
      bool replaced = false;
      for (const auto& [ek, ev] : extra) replaced = replaced || (name != nullptr && *name == ek);
      if (!replaced) map.insert(k, v);
    }
  }
  for (const auto& [k, v] : extra) map.insert(cel::Value(k), v);
  return cel::Value(std::move(map));
}

inline std::string describe(const TreeError& e) {
  return (e.where.empty() ? std::string() : e.where + ": ") + e.error.message;
}

// Whether a failed iteration of `spec` stays in its iteration (continue, fail_all) instead of
// failing the loop at once (fail_fast, and every sequential loop).
inline bool contains_iteration_failures(const NodeSpec& spec) {
  return spec.parallel_loop() &&
         spec.loop_on_failure.value_or(LoopFailurePolicy::carry_on) != LoopFailurePolicy::fail_fast;
}

}  // namespace interpreter_detail
}  // namespace reliant::workflow
