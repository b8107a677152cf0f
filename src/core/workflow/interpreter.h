// The workflow interpreter: a pure state machine from (definition, inputs, the results of the
// nodes run so far) to the nodes to run next, and in the end the run's outcome and outputs. It
// has no clock and does no I/O: the host (the durable engine, the scenario runner, a benchmark)
// runs each Action and reports its result. Replaying the same results gives the same actions,
// which is what makes a run durable: `decide` is the whole interface the engine needs.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/evaluator.h"
#include "core/cel/value.h"
#include "core/workflow/definition.h"

namespace reliant::workflow {

// What expressions see besides inputs and nodes: `workflow` (id, name, path, branch …).
struct RunContext {
  cel::Value inputs;    // resolved (resolve_inputs)
  cel::Value workflow;  // a map
  // Scenario files' `state` and `start_at`: node outputs known before the run, and the node to
  // start from instead of the entry.
  std::map<std::string, cel::Value> state;
  std::string start_at;
};

// A node the host must run: a model call, tools, a command, a person's answer, a sub-workflow,
// or a message to store.
struct Action {
  std::string key;   // unique in the run: "agent_loop#1/call_llm" (loop iterations numbered)
  std::string path;  // as scenario files name it: "agent_loop.call_llm"
  std::string node_id;
  NodeType type = NodeType::call_llm;
  cel::Value args;  // evaluated templates
  std::string ref;  // workflow nodes (and loops over a ref): what to run
  std::optional<std::string> timeout;
  cel::Value thread;  // {mode, memo, inject} or null
  // The thread the node talks on: "" is the run's main thread; a node or scope with `thread:
  // new|fork` gets one named by its key. `thread_from` names a fork's source, so the host can
  // create the fork the first time it is used.
  std::string thread_id;
  std::optional<std::string> thread_from;
  // The evaluated selector: the nearest one written — the node's, an enclosing loop's, group's or
  // inline workflow's, the workflow's; null if none.
  nlohmann::json daemon;
  // The node's own `on_failure` (none: the workflow's, Definition::on_failure, decides): what the
  // engine does when the action fails. A loop over a ref carries none: its policy is the loop's.
  std::optional<FailurePolicy> on_failure;
};

// A node's result: its output, or why it failed.
struct NodeResult {
  std::string key;
  cel::Value output;
  std::optional<std::string> error;
};

// A message a node's `save_message:` asks to store once the node is done.
struct SavedMessage {
  std::string key;  // the node's
  std::string path;
  cel::Value message;     // {role, content, …}
  std::string thread_id;  // the thread the node is in (its scope's, not one of its own)
  std::optional<std::string> thread_from;
};

// A node the run passed over because its condition was false: not run, its edges followed.
struct SkippedNode {
  std::string key;  // as its action's would be: "agent_loop#1/verify"
  std::string path;
  std::string node_id;
};

enum class RunStatus { running, completed, failed };
std::string_view to_string(RunStatus status) noexcept;

// Bounds, so a workflow (or a hostile file) cannot grow a run without end.
inline constexpr std::size_t kLoopIterationsMax = 10'000;
inline constexpr std::size_t kScopesMax = 100'000;
// CEL work, in the evaluator's steps, that everything one report sets off (conditions, edges,
// templates, a loop's `while` for every iteration that ends in it) may spend together, beside
// each evaluation's own bound (cel::EvalOptions::cost_max): a `while` evaluated 10,000 times in
// one decision cannot cost 10,000 evaluations' budgets. Per report, not per engine decision, so
// that a replay spends as the run did.
inline constexpr std::int64_t kReportCostMax = 10'000'000;

class Interpreter {
 public:
  Interpreter(std::shared_ptr<const Definition> definition, RunContext context);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Actions issued and not yet reported, oldest first. Built when asked for after a change:
  // O(pending) then, so a host that reacts to each result reads `issued()` from where it left
  // off and looks actions up by key instead.
  const std::vector<Action>& pending() const;
  // The pending action of `key`, or null: O(log pending).
  const Action* pending_action(std::string_view key) const;
  // Reports a pending action's result and decides what follows. An unknown key is an error
  // (and changes nothing): results must answer what was asked.
  tl::expected<void, std::string> report(const NodeResult& result);

  // Changes one of the run's inputs (a user's request while it runs): the nodes issued from now
  // on see the new value, in every open scope that has the run's value (an inline workflow's
  // scope that was given its own keeps it). An unknown input is an error and changes nothing.
  tl::expected<void, std::string> set_input(const std::string& name, cel::Value value);

  RunStatus status() const { return status_; }
  const cel::Value& outputs() const { return outputs_; }  // when completed
  const std::string& error() const { return error_; }     // when failed
  const std::string& error_node() const { return error_node_; }
  // Paths of nodes started (not skipped), in order, each once.
  const std::vector<std::string>& reached() const { return reached_; }
  // Nodes skipped because their condition was false, in order.
  const std::vector<SkippedNode>& skipped() const { return skipped_; }
  // Every action key ever issued, in order: the property tests check none repeats.
  const std::vector<std::string>& issued() const { return issued_; }
  // Actions withdrawn while the run went on, in order: those of a loop iteration that failed
  // (and of a fail_fast loop's other iterations). A late answer to one is an unknown key; a child
  // run one started is the host's to cancel.
  const std::vector<std::string>& dropped() const { return dropped_; }
  const std::vector<SavedMessage>& messages() const { return messages_; }
  // The output of a completed node by path ("agent_loop", "implement_loop.verify": the last
  // iteration's), or nullptr.
  const cel::Value* output_at(const std::string& path) const;

 private:
  struct Scope;
  struct Loop;
  enum class NodeStatus : std::uint8_t { idle, waiting, running, opened, done, skipped, failed };

  void open_scope(const Graph& graph, std::string key, std::string path, cel::Value inputs,
                  cel::Value iter, cel::Value params, std::optional<std::size_t> owner,
                  std::size_t owner_node, const std::vector<std::string>& first);
  void drain();
  void activate(std::size_t scope, std::size_t node);
  void begin(std::size_t scope, std::size_t node);
  void issue(std::size_t scope, std::size_t node, const cel::Activation& variables, std::string key,
             NodeType as, const std::string& ref, cel::Value extra_args);
  // The daemon selector a node's action runs under, evaluated: the nearest one wins — the node's
  // own, then the enclosing loop's, group's or inline workflow's (each evaluated in the scope it
  // opened: a loop's once per iteration, with that iteration's `iter`), then the workflow's; null
  // when none is written.
  tl::expected<nlohmann::json, std::string> daemon_selector(std::size_t scope, std::size_t node,
                                                            const cel::Activation& variables);
  void complete(std::size_t scope, std::size_t node, cel::Value output);
  void skip(std::size_t scope, std::size_t node);
  void follow_edges(std::size_t scope, std::size_t node);
  // A node failed: its failure goes to fail_from.
  void fail(std::size_t scope, std::size_t node, std::string message);
  // A failure inside `scope` (of the node at `path`): it ends the innermost iteration around it
  // of a parallel loop whose policy keeps failures in their iteration (continue, fail_all), or
  // else, passing out through fail_fast and sequential loops, groups and inline workflows (each
  // of which fails with it), the run.
  void fail_from(std::size_t scope, std::string path, std::string message);
  void start_loop(std::size_t scope, std::size_t node, const cel::Activation& variables);
  void open_iteration(std::size_t scope, std::size_t node);
  // Items loops: the iteration's name in `_results`, by the loop's `key` (its index if none).
  tl::expected<std::string, std::string> iteration_key(std::size_t scope, std::size_t node,
                                                       const cel::Value& iter);
  void iteration_done(std::size_t loop_scope, std::size_t loop_node, std::size_t index,
                      cel::Value outputs, const cel::Value& inner_nodes);
  // An iteration failed and its loop carries on: its scope (if it has one: a loop over a ref has
  // none) and all inside it are cancelled, and the failure is counted.
  void iteration_failed(std::size_t loop_scope, std::size_t loop_node,
                        std::optional<std::size_t> iteration_scope, std::size_t index,
                        const std::string& message);
  // After an iteration ended: the next one, or the loop's end once none runs.
  void advance_loop(std::size_t loop_scope, std::size_t loop_node);
  void finish_loop(std::size_t loop_scope, std::size_t loop_node);
  // Ends `scope` and every scope inside it that is still open: their pending actions are dropped
  // and their loops forgotten.
  void cancel_scopes(std::size_t scope);
  // `args` with the node's `passthrough` inputs added where args has no value of that name.
  cel::Value with_passthrough(const Scope& scope, const NodeSpec& spec, cel::Value args) const;
  void finish_scope(std::size_t scope);
  bool join_ready(const Scope& scope, std::size_t node) const;
  void set_status(Scope& scope, std::size_t node, NodeStatus status);
  const cel::Value& nodes_value(Scope& scope);
  cel::Activation variables(Scope& scope);
  std::string node_path(const Scope& scope, std::size_t node) const;

  std::shared_ptr<const Definition> definition_;
  RunContext context_;
  std::vector<std::unique_ptr<Scope>> scopes_;
  std::map<std::pair<std::size_t, std::size_t>, Loop> loops_;
  std::deque<std::pair<std::size_t, std::size_t>> queue_;
  // Scopes whose nodes changed since drain() last looked at them (by index: innermost last).
  std::set<std::size_t> changed_scopes_;
  // Pending actions by the order they were issued in, and each pending key's scope, node and
  // order: a report removes its action in O(log pending), not by a scan (a parallel loop over
  // 10,000 items has 10,000 pending at once).
  struct PendingPlace {
    std::size_t scope;
    std::size_t node;
    std::uint64_t order;
  };
  std::map<std::uint64_t, Action> pending_;
  std::map<std::string, PendingPlace, std::less<>> by_key_;
  mutable std::vector<Action> pending_view_;
  mutable bool pending_view_stale_ = false;
  // Loops over a ref: the iteration each pending key stands for.
  std::map<std::string, std::size_t, std::less<>> iteration_of_key_;
  std::vector<std::string> reached_;
  std::unordered_set<std::string> reached_set_;
  std::vector<std::string> issued_;
  std::vector<std::string> dropped_;
  std::vector<SkippedNode> skipped_;
  std::vector<SavedMessage> messages_;
  std::map<std::string, cel::Value, std::less<>> last_output_by_path_;
  std::int64_t report_cost_left_ = kReportCostMax;
  cel::EvalOptions eval_options_{.shared_cost_left = &report_cost_left_};
  RunStatus status_ = RunStatus::running;
  cel::Value outputs_;
  std::string error_;
  std::string error_node_;
};

// The pure form the durable engine calls: the interpreter's state after `history`, replayed from
// the start. Fails if the history reports a key that was never pending (a corrupt history).
tl::expected<std::unique_ptr<Interpreter>, std::string> replay(
    std::shared_ptr<const Definition> definition, RunContext context,
    const std::vector<NodeResult>& history);

}  // namespace reliant::workflow
