// The workflow interpreter: scopes (the run's graph, each loop iteration's and each group's),
// node states within them, and the rules that move nodes from activated to done.
#include "core/workflow/interpreter.h"

#include <algorithm>
#include <tuple>

#include "base/assert.h"
#include "core/workflow/interpreter_state.h"
#include "core/workflow/template.h"

namespace reliant::workflow {

using interpreter_detail::contains_iteration_failures;
using interpreter_detail::describe;
using interpreter_detail::map_of;
using interpreter_detail::merged;

namespace {

// The thread a node talks on, and a fork's source: its scope's unless it asks for a thread of
// its own (`new`, or `fork` of the scope's), named by its key so each is one per run.
std::pair<std::string, std::optional<std::string>> thread_of(
    const std::string& scope_thread, const std::optional<std::string>& scope_from,
    const NodeSpec& spec, const std::string& key) {
  if (!spec.thread || spec.thread->mode == ThreadMode::inherit) return {scope_thread, scope_from};
  if (spec.thread->mode == ThreadMode::fresh) return {key, std::nullopt};
  return {key, scope_thread};
}

// The fields a node type's output always has, so expressions can test them without has(): a
// model call's text and tool calls, and the results of a tools node. A reported output is laid
// over these (its own fields win).
std::vector<std::pair<std::string, cel::Value>> output_defaults(NodeType type) {
  switch (type) {
    case NodeType::call_llm:
      return {{"message", map_of({{"role", cel::Value("assistant")}, {"text", cel::Value("")}})},
              {"response_text", cel::Value("")},
              {"tool_calls", cel::Value(cel::ValueList{})},
              {"thinking", cel::Value("")}};
    case NodeType::execute_tools:
      return {{"tool_results", cel::Value(cel::ValueList{})}};
    case NodeType::inbox:
      return {{"text", cel::Value("")},
              {"reports", cel::Value(cel::ValueList{})},
              {"running", cel::Value(std::int64_t{0})}};
    default:
      return {};
  }
}

cel::Value with_defaults(NodeType type, const cel::Value& output) {
  auto defaults = output_defaults(type);
  const auto* given = output.map();
  if (defaults.empty() || given == nullptr) return output;
  std::vector<std::pair<std::string, cel::Value>> fields;
  for (const auto& [k, v] : given->entries()) {
    if (const auto* name = k.get_if<std::string>()) fields.emplace_back(*name, v);
  }
  cel::ValueMap base;
  for (auto& [k, v] : defaults) base.insert(cel::Value(k), std::move(v));
  return merged(cel::Value(std::move(base)), fields);
}

}  // namespace

std::string_view to_string(RunStatus status) noexcept {
  switch (status) {
    case RunStatus::running:
      return "running";
    case RunStatus::completed:
      return "completed";
    case RunStatus::failed:
      return "error";
  }
  return "?";
}

Interpreter::Interpreter(std::shared_ptr<const Definition> definition, RunContext context)
    : definition_(std::move(definition)), context_(std::move(context)) {
  RELIANT_ASSERT(definition_ != nullptr && definition_->graph != nullptr);
  const auto& graph = *definition_->graph;
  if (!context_.start_at.empty() && graph.find(context_.start_at) == nullptr) {
    status_ = RunStatus::failed;
    error_ = "start_at names no node: \"" + context_.start_at + "\"";
    return;
  }
  const auto first = context_.start_at.empty() ? graph.entries : std::vector{context_.start_at};
  open_scope(graph, "", "", context_.inputs, cel::Value(nullptr), cel::Value(cel::ValueMap{}),
             std::nullopt, 0, first);
  drain();
}

Interpreter::~Interpreter() = default;

tl::expected<void, std::string> Interpreter::set_input(const std::string& name, cel::Value value) {
  const cel::Value* old =
      context_.inputs.map() ? context_.inputs.map()->find(std::string_view(name)) : nullptr;
  if (old == nullptr) return tl::unexpected("the run has no input '" + name + "'");
  const cel::Value previous = *old;
  context_.inputs = merged(context_.inputs, {{name, value}});
  for (auto& scope : scopes_) {
    const cel::Value* held =
        scope->inputs.map() ? scope->inputs.map()->find(std::string_view(name)) : nullptr;
    if (scope->finished || held == nullptr || !(*held == previous)) continue;
    scope->inputs = merged(scope->inputs, {{name, value}});
  }
  return {};
}

void Interpreter::open_scope(const Graph& graph, std::string key, std::string path,
                             cel::Value inputs, cel::Value iter, cel::Value params,
                             std::optional<std::size_t> owner, std::size_t owner_node,
                             const std::vector<std::string>& first) {
  RELIANT_ASSERT(!owner ||
                 (*owner < scopes_.size() && owner_node < scopes_[*owner]->graph->nodes.size()));
  if (scopes_.size() >= kScopesMax) {
    status_ = RunStatus::failed;
    error_ =
        "the run opened more than " + std::to_string(kScopesMax) + " loop iterations and groups";
    return;
  }
  auto scope = std::make_unique<Scope>();
  scope->graph = &graph;
  scope->key = std::move(key);
  scope->path = std::move(path);
  scope->inputs = std::move(inputs);
  scope->iter = std::move(iter);
  scope->params = std::move(params);
  scope->owner = owner;
  scope->owner_node = owner_node;
  if (owner) {
    // The loop, group or inline workflow that opened the scope may start a thread for it.
    const auto& outer = *scopes_[*owner];
    const auto& opener = outer.graph->nodes[owner_node];
    std::tie(scope->thread_id, scope->thread_from) =
        thread_of(outer.thread_id, outer.thread_from, opener, outer.key + opener.id);
  }
  scope->status.assign(graph.nodes.size(), NodeStatus::idle);
  scope->activated.assign(graph.nodes.size(), false);
  if (owner) {
    scope->outer_nodes = nodes_value(*scopes_[*owner]);
  } else {
    scope->outer_nodes = cel::Value(cel::ValueMap{});
    for (const auto& [id, output] : context_.state) {
      scope->outputs.emplace_back(id, output);
      last_output_by_path_[id] = output;
    }
  }
  const auto index = scopes_.size();
  scope->index = index;
  scopes_.push_back(std::move(scope));
  if (owner) scopes_[*owner]->children.push_back(index);
  changed_scopes_.insert(index);
  for (const auto& id : first) {
    const auto entry = graph.index.find(id);
    RELIANT_ASSERT(entry != graph.index.end());
    ++scopes_[index]->queued;
    queue_.emplace_back(index, entry->second);
  }
}

const cel::Value& Interpreter::nodes_value(Scope& scope) {
  if (scope.nodes_map == nullptr) {
    auto built = merged(scope.outer_nodes, scope.outputs);
    scope.nodes_map = std::make_shared<cel::ValueMap>(*built.map());
    scope.nodes_cache = cel::Value(std::shared_ptr<const cel::ValueMap>(scope.nodes_map));
  }
  return scope.nodes_cache;
}

cel::Activation Interpreter::variables(Scope& scope) {
  cel::Activation a;
  a.bind("inputs", scope.inputs);
  a.bind("nodes", nodes_value(scope));
  a.bind("workflow", context_.workflow);
  a.bind("iter", scope.iter);
  a.bind("params", scope.params);
  return a;
}

std::string Interpreter::node_path(const Scope& scope, std::size_t node) const {
  return scope.path + scope.graph->nodes[node].id;
}

void Interpreter::set_status(Scope& scope, std::size_t node, NodeStatus status) {
  auto is_busy = [](NodeStatus s) {
    return s == NodeStatus::waiting || s == NodeStatus::running || s == NodeStatus::opened;
  };
  const auto before = scope.status[node];
  // A node runs at most once per scope (activate) and the loader refuses cycles: once it is
  // done or skipped it stays so, unless the run fails at it (an edge's condition broke after it
  // ended); once it failed it stays failed.
  const bool ended = before == NodeStatus::done || before == NodeStatus::skipped;
  RELIANT_ASSERT_MSG(
      before == status || (ended ? status == NodeStatus::failed : before != NodeStatus::failed),
      "a node's terminal state changed");
  if (is_busy(before)) --scope.busy;
  if (is_busy(status)) ++scope.busy;
  if (before == NodeStatus::waiting) --scope.waiting_joins;
  if (status == NodeStatus::waiting) ++scope.waiting_joins;
  RELIANT_ASSERT(scope.busy <= scope.status.size() && scope.waiting_joins <= scope.busy);
  scope.status[node] = status;
  changed_scopes_.insert(scope.index);
}

void Interpreter::drain() {
  while (status_ == RunStatus::running) {
    if (!queue_.empty()) {
      const auto [scope, node] = queue_.front();
      queue_.pop_front();
      RELIANT_ASSERT(scopes_[scope]->queued > 0);  // each queued arrival was counted once
      --scopes_[scope]->queued;
      changed_scopes_.insert(scope);
      if (!scopes_[scope]->finished) activate(scope, node);
      continue;
    }
    // Only scopes that changed since they were last looked at can have a join that became ready
    // or have become idle: a scope's own nodes decide both. Looked at in the order a scan of every
    // scope would take, so the same one goes first — but a parallel loop's 10,000 iteration
    // scopes are not all scanned after each of their results.
    bool progressed = false;
    for (auto at = changed_scopes_.begin(); at != changed_scopes_.end() && !progressed;) {
      const std::size_t s = *at;
      auto& scope = *scopes_[s];
      // A finished scope never moves again: dropped here, or a run of many scopes (a loop of
      // 10,000 iterations inside another) scanned every scope it had finished after each step.
      if (scope.finished) {
        at = changed_scopes_.erase(at);
        continue;
      }
      ++at;
      if (scope.waiting_joins == 0) continue;
      for (std::size_t n = 0; n < scope.status.size(); ++n) {
        if (scope.status[n] == NodeStatus::waiting && join_ready(scope, n)) {
          set_status(scope, n, NodeStatus::idle);
          begin(s, n);
          progressed = true;
          break;
        }
      }
    }
    if (progressed) continue;
    // The innermost idle scope first: its end may start work in the scope around it.
    for (auto at = changed_scopes_.rbegin(); at != changed_scopes_.rend() && !progressed; ++at) {
      const std::size_t s = *at;
      auto& scope = *scopes_[s];
      if (!scope.finished && scope.busy == 0 && scope.queued == 0) {
        finish_scope(s);
        progressed = true;
      }
    }
    if (progressed) continue;
    changed_scopes_.clear();  // none of them can move until something changes in it again
    break;
  }
}

bool Interpreter::join_ready(const Scope& scope, std::size_t node) const {
  RELIANT_ASSERT(scope.graph->nodes[node].type == NodeType::join);
  // Ready when no branch that could still arrive is under way: nothing busy reaches the join.
  for (std::size_t n = 0; n < scope.status.size(); ++n) {
    if (n == node) continue;
    const auto s = scope.status[n];
    const bool busy =
        s == NodeStatus::waiting || s == NodeStatus::running || s == NodeStatus::opened;
    if (busy && scope.graph->reaches[n][node]) return false;
  }
  return true;
}

void Interpreter::activate(std::size_t s, std::size_t n) {
  RELIANT_ASSERT(s < scopes_.size() && n < scopes_[s]->status.size());
  auto& scope = *scopes_[s];
  // A node runs at most once per scope: a second arrival (another branch reaching a node that
  // is not a join) changes nothing.
  if (scope.activated[n]) return;
  scope.activated[n] = true;
  const auto& spec = scope.graph->nodes[n];
  if (spec.type == NodeType::join && spec.join == JoinMode::all) {
    set_status(scope, n, NodeStatus::waiting);
    return;
  }
  begin(s, n);
}

void Interpreter::begin(std::size_t s, std::size_t n) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  auto vars = variables(scope);
  if (spec.condition) {
    auto holds = spec.condition->evaluate(vars, eval_options_);
    if (!holds) return fail(s, n, "condition: " + holds.error().message);
    const auto* b = holds->get_if<bool>();
    if (b == nullptr) {
      return fail(s, n, "condition is " + std::string(holds->type_name()) + ", not bool");
    }
    if (!*b) return skip(s, n);
  }
  const auto path = node_path(scope, n);
  if (reached_set_.insert(path).second) reached_.push_back(path);
  switch (spec.type) {
    case NodeType::join:
      return complete(s, n, cel::Value(cel::ValueMap{}));
    case NodeType::router: {
      auto args = evaluate(spec.args, vars, "args", eval_options_);
      if (!args) return fail(s, n, describe(args.error()));
      return complete(s, n, std::move(*args));
    }
    case NodeType::loop:
      return start_loop(s, n, vars);
    case NodeType::group:
    case NodeType::workflow:
      if (spec.body != nullptr) {
        auto args = evaluate(spec.args, vars, "args", eval_options_);
        if (!args) return fail(s, n, describe(args.error()));
        *args = with_passthrough(scope, spec, std::move(*args));
        set_status(scope, n, NodeStatus::opened);
        // An inline sub-workflow sees its args as inputs; a group shares the run's inputs.
        auto inputs = scope.inputs;
        if (spec.type == NodeType::workflow) {
          std::vector<std::pair<std::string, cel::Value>> fields;
          if (const auto* m = args->map()) {
            for (const auto& [k, v] : m->entries())
              fields.emplace_back(*k.get_if<std::string>(), v);
          }
          inputs = merged(scope.inputs, fields);
        }
        open_scope(*spec.body, scope.key + spec.id + "/", path + ".", std::move(inputs), scope.iter,
                   *args, s, n, spec.body->entries);
        return;
      }
      break;
    default:
      break;
  }
  issue(s, n, vars, scope.key + spec.id, spec.type, spec.ref, cel::Value(nullptr));
}

void Interpreter::issue(std::size_t s, std::size_t n, const cel::Activation& vars, std::string key,
                        NodeType as, const std::string& ref, cel::Value extra_args) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  RELIANT_ASSERT(!key.empty());  // what the answer is matched by
  Action action;
  action.key = std::move(key);
  action.path = node_path(scope, n);
  action.node_id = spec.id;
  action.type = as;
  action.ref = ref;
  action.timeout = spec.timeout;
  // A loop's own policy is about its iterations, not what the engine does with one that fails.
  if (spec.type != NodeType::loop) action.on_failure = spec.on_failure;
  auto args = evaluate(spec.args, vars, "args", eval_options_);
  if (!args) return fail(s, n, describe(args.error()));
  *args = with_passthrough(scope, spec, std::move(*args));
  action.args = extra_args.map() != nullptr
                    ? merged(*args,
                             [&] {
                               std::vector<std::pair<std::string, cel::Value>> fields;
                               for (const auto& [k, v] : extra_args.map()->entries())
                                 fields.emplace_back(*k.get_if<std::string>(), v);
                               return fields;
                             }())
                    : std::move(*args);
  std::tie(action.thread_id, action.thread_from) =
      thread_of(scope.thread_id, scope.thread_from, spec, action.key);
  if (spec.thread) {
    cel::Value inject(nullptr);
    if (spec.thread->inject) {
      auto evaluated = evaluate(*spec.thread->inject, vars, "thread.inject", eval_options_);
      if (!evaluated) return fail(s, n, describe(evaluated.error()));
      inject = std::move(*evaluated);
    }
    action.thread = map_of({{"mode", cel::Value(std::string(to_string(spec.thread->mode)))},
                            {"memo", cel::Value(spec.thread->memo)},
                            {"inject", inject}});
  }
  auto selector = daemon_selector(s, n, vars);
  if (!selector) return fail(s, n, selector.error());
  action.daemon = std::move(*selector);
  const std::uint64_t order = issued_.size();
  RELIANT_ASSERT(pending_.size() == by_key_.size());  // one pending action per key, at most
  if (!by_key_.emplace(action.key, PendingPlace{s, n, order}).second) {
    return fail(s, n, "internal: action " + action.key + " issued twice");
  }
  issued_.push_back(action.key);
  pending_.emplace(order, std::move(action));
  scope.pending_orders.insert(order);
  pending_view_stale_ = true;
  if (scope.status[n] != NodeStatus::opened) set_status(scope, n, NodeStatus::running);
}

tl::expected<nlohmann::json, std::string> Interpreter::daemon_selector(
    std::size_t s, std::size_t n, const cel::Activation& vars) {
  const TemplateTree* written =
      scopes_[s]->graph->nodes[n].daemon ? &*scopes_[s]->graph->nodes[n].daemon : nullptr;
  std::size_t where = s;  // the scope `written` is evaluated in
  // Out through the scopes that enclose the node, innermost first: each was opened by a loop,
  // group or inline workflow node of the scope around it.
  for (std::size_t at = s; written == nullptr && scopes_[at]->owner; at = *scopes_[at]->owner) {
    RELIANT_ASSERT(*scopes_[at]->owner < at);  // an owner is opened before what it encloses
    const Scope& owner = *scopes_[*scopes_[at]->owner];
    const auto& opener = owner.graph->nodes[scopes_[at]->owner_node];
    if (opener.daemon) {
      written = &*opener.daemon;
      where = at;  // a loop's selector sees its iteration's `iter`
    }
  }
  if (written == nullptr && definition_->daemon) written = &*definition_->daemon;
  if (written == nullptr) return nlohmann::json();
  auto selector = where == s
                      ? evaluate(*written, vars, "daemon", eval_options_)
                      : evaluate(*written, variables(*scopes_[where]), "daemon", eval_options_);
  if (!selector) return tl::unexpected(describe(selector.error()));
  return cel::to_json(*selector);
}

const std::vector<Action>& Interpreter::pending() const {
  if (pending_view_stale_) {
    pending_view_.clear();
    pending_view_.reserve(pending_.size());
    for (const auto& [order, action] : pending_) pending_view_.push_back(action);
    pending_view_stale_ = false;
  }
  return pending_view_;
}

const Action* Interpreter::pending_action(std::string_view key) const {
  const auto place = by_key_.find(key);
  if (place == by_key_.end()) return nullptr;
  const auto action = pending_.find(place->second.order);
  RELIANT_ASSERT(action != pending_.end());
  return &action->second;
}

tl::expected<void, std::string> Interpreter::report(const NodeResult& result) {
  const auto it = by_key_.find(result.key);
  if (it == by_key_.end() || status_ != RunStatus::running) {
    return tl::unexpected("no pending node has key \"" + result.key + "\"");
  }
  report_cost_left_ = kReportCostMax;
  const auto [s, n, order] = it->second;
  RELIANT_ASSERT(s < scopes_.size() && n < scopes_[s]->status.size());
  by_key_.erase(it);
  const std::size_t erased = pending_.erase(order) + scopes_[s]->pending_orders.erase(order);
  RELIANT_ASSERT(erased == 2);
  pending_view_stale_ = true;
  const auto loop_iteration = iteration_of_key_.find(result.key);
  if (loop_iteration != iteration_of_key_.end()) {
    const auto index = loop_iteration->second;
    iteration_of_key_.erase(loop_iteration);
    if (result.error && contains_iteration_failures(scopes_[s]->graph->nodes[n])) {
      iteration_failed(s, n, std::nullopt, index, *result.error);
    } else if (result.error) {
      fail(s, n, *result.error);
    } else {
      iteration_done(s, n, index, result.output, cel::Value(cel::ValueMap{}));
    }
  } else if (result.error) {
    fail(s, n, *result.error);
  } else {
    complete(s, n, with_defaults(scopes_[s]->graph->nodes[n].type, result.output));
  }
  drain();
  return {};
}

void Interpreter::complete(std::size_t s, std::size_t n, cel::Value output) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  set_status(scope, n, NodeStatus::done);
  // A node run again (after start_at, over its `state`) replaces what was known of it.
  std::erase_if(scope.outputs, [&](const auto& entry) { return entry.first == spec.id; });
  scope.outputs.emplace_back(spec.id, output);
  if (scope.nodes_map != nullptr) {
    // Held only by the scope (the map and its Value): safe to change in place.
    if (scope.nodes_map.use_count() > 2) {
      scope.nodes_map = std::make_shared<cel::ValueMap>(*scope.nodes_map);
      scope.nodes_cache = cel::Value(std::shared_ptr<const cel::ValueMap>(scope.nodes_map));
    }
    scope.nodes_map->set(cel::Value(spec.id), output);
  }
  last_output_by_path_[node_path(scope, n)] = output;
  if (spec.save_message) {
    auto vars = variables(scope);
    vars.bind("output", output);
    bool wanted = true;
    if (const auto* condition = spec.save_message->field("condition")) {
      auto holds = evaluate(*condition, vars, "save_message.condition", eval_options_);
      if (!holds) return fail(s, n, describe(holds.error()));
      // The condition may be written bare (`condition: x > 1`): a string is an expression.
      if (const auto* text = holds->get_if<std::string>()) {
        auto parsed = Template::parse_expression(*text);
        if (!parsed) return fail(s, n, "save_message.condition: " + parsed.error().message);
        auto value = parsed->evaluate(vars, eval_options_);
        if (!value) return fail(s, n, "save_message.condition: " + value.error().message);
        holds = std::move(*value);
      }
      wanted = *holds == cel::Value(true);
    }
    if (wanted) {
      TemplateTree fields = *spec.save_message;
      std::erase_if(fields.fields, [](const auto& f) { return f.name == "condition"; });
      auto message = evaluate(fields, vars, "save_message", eval_options_);
      if (!message) return fail(s, n, describe(message.error()));
      SavedMessage saved;
      saved.key = scope.key + spec.id;
      saved.path = node_path(scope, n);
      saved.message = std::move(*message);
      // On the thread the node is in: a node that worked on a thread of its own (a fork)
      // reports back to its scope's.
      saved.thread_id = scope.thread_id;
      saved.thread_from = scope.thread_from;
      messages_.push_back(std::move(saved));
    }
  }
  follow_edges(s, n);
}

void Interpreter::skip(std::size_t s, std::size_t n) {
  const Scope& scope = *scopes_[s];
  const std::string& id = scope.graph->nodes[n].id;
  skipped_.push_back(SkippedNode{scope.key + id, node_path(scope, n), id});
  set_status(*scopes_[s], n, NodeStatus::skipped);
  follow_edges(s, n);
}

void Interpreter::follow_edges(std::size_t s, std::size_t n) {
  auto& scope = *scopes_[s];
  const auto& graph = *scope.graph;
  if (graph.edges_from[n].empty()) return;
  auto vars = variables(scope);
  for (const auto e : graph.edges_from[n]) {
    const auto& edge = graph.edges[e];
    const std::vector<std::string>* targets = &edge.fallback;
    for (const auto& c : edge.cases) {
      if (c.condition) {
        auto holds = c.condition->evaluate(vars, eval_options_);
        // Named by its targets ("edge to review, test: …"), built only for a failure.
        auto fail_edge = [&](const std::string& message) {
          std::string targets;
          for (const auto& to : c.to) targets += (targets.empty() ? "" : ", ") + to;
          fail(s, n, "edge to " + targets + ": " + message);
        };
        if (!holds) return fail_edge(holds.error().message);
        if (!holds->is<bool>()) {
          return fail_edge("condition is " + std::string(holds->type_name()) + ", not bool");
        }
        if (!*holds->get_if<bool>()) continue;
      }
      targets = &c.to;
      break;
    }
    for (const auto& target : *targets) {
      const auto next = graph.index.find(target);
      RELIANT_ASSERT_MSG(next != graph.index.end(), "the loader refuses an edge to no node");
      ++scope.queued;
      changed_scopes_.insert(s);
      queue_.emplace_back(s, next->second);
    }
  }
}

void Interpreter::fail(std::size_t s, std::size_t n, std::string message) {
  set_status(*scopes_[s], n, NodeStatus::failed);
  fail_from(s, node_path(*scopes_[s], n), std::move(message));
}

void Interpreter::finish_scope(std::size_t s) {
  auto& scope = *scopes_[s];
  scope.finished = true;
  changed_scopes_.insert(s);
  auto vars = variables(scope);
  cel::Value outputs(cel::ValueMap{});
  if (!scope.graph->outputs.empty()) {
    // A failure is inside the scope, so a parallel loop may keep it to this iteration; named by
    // the node that opened the scope.
    auto fail_outputs = [&](std::string message) {
      const auto where =
          scope.owner ? node_path(*scopes_[*scope.owner], scope.owner_node) : std::string();
      fail_from(s, where, std::move(message));
    };
    cel::ValueMap map;
    for (const auto& [name, tree] : scope.graph->outputs) {
      auto value = evaluate(tree, vars, "outputs." + name, eval_options_);
      if (!value) return fail_outputs(describe(value.error()));
      map.insert(cel::Value(name), std::move(*value));
    }
    outputs = cel::Value(std::move(map));
    // Each output is bounded, not the many of them together.
    if (auto problem = cel::oversize(outputs)) return fail_outputs("outputs: " + *problem);
  } else if (scope.owner) {
    outputs = merged(cel::Value(cel::ValueMap{}), scope.outputs);  // no outputs: its nodes
  }
  if (!scope.owner) {
    status_ = RunStatus::completed;
    outputs_ = std::move(outputs);
    return;
  }
  const auto owner = *scope.owner;
  const auto owner_node = scope.owner_node;
  const auto& spec = scopes_[owner]->graph->nodes[owner_node];
  if (spec.type == NodeType::loop) {
    auto inner = merged(cel::Value(cel::ValueMap{}), scope.outputs);
    return iteration_done(owner, owner_node, scope.iteration, std::move(outputs), inner);
  }
  complete(owner, owner_node, std::move(outputs));
}

const cel::Value* Interpreter::output_at(const std::string& path) const {
  const auto it = last_output_by_path_.find(path);
  return it == last_output_by_path_.end() ? nullptr : &it->second;
}

tl::expected<std::unique_ptr<Interpreter>, std::string> replay(
    std::shared_ptr<const Definition> definition, RunContext context,
    const std::vector<NodeResult>& history) {
  auto interpreter = std::make_unique<Interpreter>(std::move(definition), std::move(context));
  for (const auto& result : history) {
    if (auto reported = interpreter->report(result); !reported) {
      return tl::unexpected("history does not fit the workflow: " + reported.error());
    }
  }
  return interpreter;
}

}  // namespace reliant::workflow
