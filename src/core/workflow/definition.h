// A workflow as typed data: what the loader builds from YAML and the interpreter walks. Every
// element keeps its place in the file (line and column, 1-based) for error messages.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/triggers/event_sources.h"
#include "core/triggers/schedule.h"
#include "core/workflow/template.h"

namespace reliant::workflow {

struct Mark {
  int line = 0;  // 1-based; 0 when the element has no place in a file
  int column = 0;
};

enum class NodeType {
  call_llm,
  execute_tools,
  approval,
  ask_question,
  save_message,
  run,
  compact,
  create_worktree,
  loop,
  join,
  group,
  router,
  workflow,
  inbox,
};
std::string_view to_string(NodeType type) noexcept;
std::optional<NodeType> node_type_named(std::string_view name) noexcept;

enum class ThreadMode { inherit, fresh, fork };  // YAML: inherit | new | fork
std::string_view to_string(ThreadMode mode) noexcept;

struct ThreadSpec {
  ThreadMode mode = ThreadMode::inherit;
  bool memo = true;
  std::optional<TemplateTree> inject;  // {role, content}: a message put on the thread first
};

// A join's rule: wait for every branch that can still arrive, or go on the first arrival.
enum class JoinMode { all, any };

// What a failed node asks of the run (YAML `on_failure: pause|fail`, on a node or the workflow):
// the engine pauses the run at a node whose policy is `pause` so that a person can fix the cause
// and resume; `fail` fails it. The interpreter only carries it: to it every failure is one.
enum class FailurePolicy { pause, fail };
std::string_view to_string(FailurePolicy policy) noexcept;
std::optional<FailurePolicy> failure_policy_named(std::string_view name) noexcept;

// What a failed iteration does to a parallel loop (YAML `on_failure` on the loop): `carry_on`
// (continue, the default) counts it and lets the others run; `fail_fast` cancels the iterations
// in flight and fails the loop at once; `fail_all` lets every iteration end, then fails the loop
// if any failed.
enum class LoopFailurePolicy { carry_on, fail_fast, fail_all };  // YAML: continue | fail_fast | …
std::string_view to_string(LoopFailurePolicy policy) noexcept;
std::optional<LoopFailurePolicy> loop_failure_policy_named(std::string_view name) noexcept;

struct Graph;

struct NodeSpec {
  std::string id;
  NodeType type = NodeType::call_llm;
  Mark mark;
  std::optional<Template> condition;  // skipped (not failed) when false
  JoinMode join = JoinMode::all;
  TemplateTree args;  // `args:` merged with the type's own top-level keys (`command:` …)
  std::optional<std::string> timeout;  // as written ("10m", "1h"); the engine enforces it
  std::optional<TemplateTree> save_message;
  std::optional<TemplateTree> daemon;
  std::optional<ThreadSpec> thread;
  // Sub-workflows and loops: a reference (builtin://NAME, project://NAME) or an inline graph.
  std::string ref;
  std::shared_ptr<const Graph> body;
  // Loops: repeat while `loop_while` holds (checked after each iteration), or once per element
  // of `items`; `parallel` iterations at a time (1: one after another).
  std::optional<Template> loop_while;
  std::optional<Template> items;
  std::size_t parallel = 1;
  // A parallel loop's failure policy (none written: carry_on), and its `key`: each iteration's
  // name in the loop's `_results` (none: the iteration's index as text).
  std::optional<LoopFailurePolicy> loop_on_failure;
  std::optional<Template> key;
  // Any other node's own `on_failure` (none: the workflow's default), carried to its action.
  std::optional<FailurePolicy> on_failure;
  // Workflow and loop nodes: inputs of the scope around the node handed to the child as args of
  // the same name, under the node's own args.
  std::vector<std::string> passthrough;

  // Whether a failed iteration is the loop's policy's to judge: items run side by side.
  bool parallel_loop() const { return type == NodeType::loop && items && parallel > 1; }
};

struct EdgeCase {
  std::vector<std::string> to;        // `to:` one node or a list: every one starts
  std::optional<Template> condition;  // none: always
  std::string label;
  Mark mark;
};

// From one node: to `to`; or to the first case that holds, else to `fallback` (YAML `default`).
// A target may be a list of nodes, which all start (a fan-out, as several edges would be).
struct EdgeSpec {
  std::string from;
  std::vector<EdgeCase> cases;
  std::vector<std::string> fallback;
  Mark mark;
};

// A graph of nodes: the workflow's own, or the inline body of a loop, group or sub-workflow.
struct Graph {
  std::vector<std::string> entries;  // `entry:` one id or a list; all start together
  std::vector<NodeSpec> nodes;
  std::vector<EdgeSpec> edges;
  std::vector<std::pair<std::string, TemplateTree>> outputs;
  nlohmann::json ui;  // kept for editors, not interpreted
  // Map-form nodes with no edges run one after another, in the order written.
  bool implicit_chain = false;

  // Filled by finish(): indexes for the interpreter.
  std::map<std::string, std::size_t, std::less<>> index;
  std::vector<std::vector<std::size_t>> edges_from;  // node → indexes into `edges`
  std::vector<std::vector<bool>> reaches;            // reaches[a][b]: a path a → … → b exists

  const NodeSpec* find(std::string_view id) const;
  // Builds the indexes; the graph must be valid (edges name known nodes, no cycle).
  void finish();
};

enum class InputType {
  string,
  integer,
  number,
  boolean,
  enumeration,
  array,
  object,
  model,
  tools,
  preset,
  group
};

struct InputSpec {
  std::string name;
  InputType type = InputType::string;
  Mark mark;
  std::optional<nlohmann::json> default_value;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<nlohmann::json> choices;  // `enum:`
  bool multi = false;
  bool required = false;
  std::string description;
  std::vector<InputSpec> fields;  // a group's own inputs
  nlohmann::json extra;           // ui, tags, presets: kept for clients
};

// A trigger as a workflow file declares it under `triggers:`: what starts a run of the workflow
// and with which inputs (core/workflow/trigger_declarations.h reads and evaluates them).
struct TriggerDeclaration {
  std::string name;  // unique in the workflow
  std::string description;
  Mark mark;
  std::variant<triggers::ScheduleSpec, triggers::WebhookSpec, triggers::WorkflowEventSpec> source;
  // A bare CEL expression over `trigger` that must hold for a run to start; never on schedules,
  // which have no event to filter.
  std::optional<Template> filter;
  std::vector<std::pair<std::string, TemplateTree>> inputs;  // input name → template, in order
  std::optional<Template> prompt;                            // the run's first message
  nlohmann::json raw;  // the declaration as written, for the service to store
};

struct Definition {
  std::string name;
  std::string description;
  std::string api_version;
  nlohmann::json presets;
  std::vector<InputSpec> inputs;
  std::optional<TemplateTree> daemon;  // the workflow-level selector
  // `on_failure:` at the top: the policy of every node that writes none of its own.
  std::optional<FailurePolicy> on_failure;
  std::shared_ptr<const Graph> graph;
  std::vector<TriggerDeclaration> triggers;
  // Only triggers start it: it is not offered to people (a chat, `workflow run`).
  bool automation_only = false;
  std::string file;  // where it was loaded from, for messages
};

}  // namespace reliant::workflow
