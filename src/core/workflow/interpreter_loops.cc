// The interpreter's loops: iterations opened one after another or side by side, their keys and
// results, and where a failure ends — in its iteration (a parallel loop that continues or fails
// all), or out through the loops, groups and workflows around it up to the run.
#include <algorithm>

#include "base/assert.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/interpreter_state.h"

namespace reliant::workflow {

using interpreter_detail::contains_iteration_failures;
using interpreter_detail::describe;
using interpreter_detail::map_of;
using interpreter_detail::merged;

void Interpreter::fail_from(std::size_t s, std::string path, std::string message) {
  RELIANT_ASSERT(s < scopes_.size());
  if (status_ != RunStatus::running) return;  // the run failed already (its scope bound)
  if (report_cost_left_ <= 0) {
    message += " (the CEL budget of one step, " + std::to_string(kReportCostMax) +
               " evaluation steps across its conditions and templates, is spent)";
  }
  for (std::size_t at = s; scopes_[at]->owner; at = *scopes_[at]->owner) {
    RELIANT_ASSERT(*scopes_[at]->owner < at);  // an owner is opened before what it encloses
    const Scope& scope = *scopes_[at];
    const auto& opener = scopes_[*scope.owner]->graph->nodes[scope.owner_node];
    if (opener.type == NodeType::loop && contains_iteration_failures(opener)) {
      return iteration_failed(*scope.owner, scope.owner_node, at, scope.iteration, message);
    }
  }
  status_ = RunStatus::failed;
  error_node_ = std::move(path);
  error_ = std::move(message);
  pending_.clear();
  pending_view_stale_ = true;
  by_key_.clear();
  queue_.clear();
}

void Interpreter::cancel_scopes(std::size_t root) {
  std::vector<std::size_t> open{root};
  while (!open.empty()) {
    Scope& scope = *scopes_[open.back()];
    open.pop_back();
    scope.finished = true;
    for (const auto order : scope.pending_orders) {
      const auto action = pending_.find(order);
      RELIANT_ASSERT(action != pending_.end());
      by_key_.erase(action->second.key);
      iteration_of_key_.erase(action->second.key);
      dropped_.push_back(action->second.key);
      pending_.erase(action);
    }
    scope.pending_orders.clear();
    pending_view_stale_ = true;
    loops_.erase(loops_.lower_bound({scope.index, 0}), loops_.lower_bound({scope.index + 1, 0}));
    // A scope that ended by itself has nothing open inside it.
    for (const auto inner : scope.children) {
      if (!scopes_[inner]->finished) open.push_back(inner);
    }
  }
  RELIANT_ASSERT(pending_.size() == by_key_.size());
}

cel::Value Interpreter::with_passthrough(const Scope& scope, const NodeSpec& spec,
                                         cel::Value args) const {
  const auto* inputs = scope.inputs.map();
  if (spec.passthrough.empty() || inputs == nullptr) return args;
  std::vector<std::pair<std::string, cel::Value>> handed;
  for (const auto& name : spec.passthrough) {
    const auto* given = args.map() != nullptr ? args.map()->find(std::string_view(name)) : nullptr;
    const auto* input = inputs->find(std::string_view(name));
    if (given == nullptr && input != nullptr) handed.emplace_back(name, *input);
  }
  return handed.empty() ? args : merged(args, handed);
}

void Interpreter::start_loop(std::size_t s, std::size_t n, const cel::Activation& vars) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  Loop loop;
  auto params = evaluate(spec.args, vars, "args", eval_options_);
  if (!params) return fail(s, n, describe(params.error()));
  loop.params = with_passthrough(scope, spec, std::move(*params));
  if (spec.items) {
    auto items = spec.items->evaluate(vars, eval_options_);
    if (!items) return fail(s, n, "items: " + items.error().message);
    const auto* list = items->list();
    if (list == nullptr)
      return fail(s, n, "items is " + std::string(items->type_name()) + ", not a list");
    if (list->size() > kLoopIterationsMax) {
      return fail(s, n,
                  "items has " + std::to_string(list->size()) + " elements, more than " +
                      std::to_string(kLoopIterationsMax));
    }
    loop.items = *list;
    loop.over_items = true;
  }
  set_status(scope, n, NodeStatus::opened);
  loops_[{s, n}] = std::move(loop);
  const auto& state = loops_.at({s, n});
  if (state.over_items && state.items.empty()) return finish_loop(s, n);
  const auto first = state.over_items ? std::min(spec.parallel, state.items.size()) : 1;
  // An iteration that fails as it opens (its key, its action's args) may end the loop, or the
  // iteration of an outer loop that holds this one.
  for (std::size_t i = 0; i < first && status_ == RunStatus::running && loops_.contains({s, n});
       ++i)
    open_iteration(s, n);
}

tl::expected<std::string, std::string> Interpreter::iteration_key(std::size_t s, std::size_t n,
                                                                  const cel::Value& iter) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  const auto index = loops_.at({s, n}).started - 1;
  if (!spec.key) return std::to_string(index);
  auto vars = variables(scope);
  vars.bind("iter", iter);
  auto value = spec.key->evaluate(vars, eval_options_);
  const std::string which = "the key of iteration " + std::to_string(index);
  if (!value) return tl::unexpected(which + ": " + value.error().message);
  // Integers name an iteration as well as their text does (`key: iter.item.id`).
  if (const auto* text = value->get_if<std::string>()) return *text;
  if (const auto* i = value->get_if<std::int64_t>()) return std::to_string(*i);
  if (const auto* u = value->get_if<std::uint64_t>()) return std::to_string(*u);
  return tl::unexpected(which + " is " + std::string(value->type_name()) +
                        ", not a string or an int");
}

void Interpreter::open_iteration(std::size_t s, std::size_t n) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  auto& loop = loops_.at({s, n});
  // Never more iterations than the bound, nor than a list of items has; never more at once than
  // `parallel` (1 for a `while` loop).
  RELIANT_ASSERT(loop.started < kLoopIterationsMax);
  RELIANT_ASSERT(!loop.over_items || loop.started < loop.items.size());
  RELIANT_ASSERT(loop.running < std::max<std::size_t>(spec.parallel, 1));
  const auto index = loop.started++;
  ++loop.running;
  // `iter.previous`: the last finished iteration's outputs (null in the first), so an attempt
  // can start from what went wrong in the one before.
  const cel::Value previous = index == 0 ? cel::Value(nullptr) : loop.last;
  cel::Value iter = loop.over_items
                        ? map_of({{"iteration", cel::Value(static_cast<std::int64_t>(index))},
                                  {"index", cel::Value(static_cast<std::int64_t>(index))},
                                  {"item", loop.items[index]},
                                  {"previous", previous}})
                        : map_of({{"iteration", cel::Value(static_cast<std::int64_t>(index))},
                                  {"previous", previous}});
  if (loop.over_items) {
    auto key = iteration_key(s, n, iter);
    if (!key) return fail(s, n, key.error());
    const auto [seen, fresh] = loop.index_of_key.emplace(*key, index);
    if (!fresh) {
      return fail(s, n,
                  "iteration " + std::to_string(index) + " has the key \"" + *key +
                      "\" of iteration " + std::to_string(seen->second) +
                      ": keys name iterations in _results and must differ");
    }
    loop.keys.push_back(std::move(*key));
    RELIANT_ASSERT(loop.keys.size() == loop.started);
  }
  const auto key = scope.key + spec.id + "#" + std::to_string(index);
  if (spec.body == nullptr) {
    // A loop over a referenced workflow: each iteration is one action, with `iter` in its args.
    auto vars = variables(scope);
    vars.bind("iter", iter);
    iteration_of_key_[key] = index;
    issue(s, n, vars, key, NodeType::workflow, spec.ref, map_of({{"iter", iter}}));
    return;
  }
  auto inputs = scope.inputs;
  open_scope(*spec.body, key + "/", node_path(scope, n) + ".", std::move(inputs), std::move(iter),
             loop.params, s, n, spec.body->entries);
  if (status_ == RunStatus::running) scopes_.back()->iteration = index;
}

void Interpreter::iteration_done(std::size_t s, std::size_t n, std::size_t index,
                                 cel::Value outputs, const cel::Value& inner_nodes) {
  auto& scope = *scopes_[s];
  const auto& spec = scope.graph->nodes[n];
  auto& loop = loops_.at({s, n});
  RELIANT_ASSERT(loop.running > 0 && index < loop.started);  // an iteration that was opened
  ++loop.done;
  --loop.running;
  RELIANT_ASSERT(loop.done + loop.running <= loop.started);
  if (loop.results.size() <= index) loop.results.resize(index + 1);
  loop.results[index] = outputs;
  loop.last = outputs;
  if (spec.loop_while && !loop.stop) {
    auto vars = variables(scope);
    vars.bind("outputs", outputs);
    vars.bind("nodes", inner_nodes.map() != nullptr && inner_nodes.map()->size() > 0
                           ? inner_nodes
                           : nodes_value(scope));
    // `iter.iteration` counts the iterations done: `while: iter.iteration < 3` runs three.
    cel::Value iter = map_of({{"iteration", cel::Value(static_cast<std::int64_t>(loop.done))}});
    vars.bind("iter", iter);
    auto holds = spec.loop_while->evaluate(vars, eval_options_);
    if (!holds) return fail(s, n, "while: " + holds.error().message);
    if (!holds->is<bool>())
      return fail(s, n, "while is " + std::string(holds->type_name()) + ", not bool");
    loop.stop = !*holds->get_if<bool>();
  }
  advance_loop(s, n);
}

void Interpreter::iteration_failed(std::size_t s, std::size_t n,
                                   std::optional<std::size_t> iteration_scope, std::size_t index,
                                   const std::string& message) {
  RELIANT_ASSERT(contains_iteration_failures(scopes_[s]->graph->nodes[n]));
  if (iteration_scope) cancel_scopes(*iteration_scope);
  auto& loop = loops_.at({s, n});
  RELIANT_ASSERT(loop.running > 0 && index < loop.started && index < loop.keys.size());
  ++loop.done;
  ++loop.failed;
  --loop.running;
  RELIANT_ASSERT(loop.failed <= loop.done && loop.done + loop.running <= loop.started);
  if (loop.results.size() <= index) loop.results.resize(index + 1);
  loop.results[index] = map_of({{"_error", cel::Value(message)}});
  if (loop.first_failure.empty()) loop.first_failure = "\"" + loop.keys[index] + "\": " + message;
  advance_loop(s, n);
}

void Interpreter::advance_loop(std::size_t s, std::size_t n) {
  auto& loop = loops_.at({s, n});
  const bool more = loop.over_items ? loop.started < loop.items.size() : true;
  if (!loop.stop && more) {
    if (loop.started >= kLoopIterationsMax) {
      return fail(s, n,
                  "the loop ran " + std::to_string(kLoopIterationsMax) + " iterations, its limit");
    }
    return open_iteration(s, n);
  }
  if (loop.running > 0) return;  // parallel iterations still under way
  finish_loop(s, n);
}

void Interpreter::finish_loop(std::size_t s, std::size_t n) {
  const auto& spec = scopes_[s]->graph->nodes[n];
  auto loop = std::move(loops_.at({s, n}));
  loops_.erase({s, n});
  RELIANT_ASSERT(loop.running == 0 && loop.done == loop.started);
  if (loop.failed > 0 && spec.loop_on_failure == LoopFailurePolicy::fail_all) {
    return fail(s, n,
                std::to_string(loop.failed) + " of " + std::to_string(loop.done) +
                    " iterations failed; the first, " + loop.first_failure);
  }
  std::vector<std::pair<std::string, cel::Value>> extra{
      {"_iterations", cel::Value(static_cast<std::int64_t>(loop.done))}};
  if (loop.over_items) {
    cel::ValueMap by_key;
    for (std::size_t i = 0; i < loop.results.size(); ++i) {
      const bool inserted = by_key.insert(cel::Value(loop.keys[i]), loop.results[i]);
      RELIANT_ASSERT(inserted);  // open_iteration refused a repeated key
    }
    extra.emplace_back("results", cel::Value(std::move(loop.results)));
    extra.emplace_back("_results", cel::Value(std::move(by_key)));
    extra.emplace_back("_completed",
                       cel::Value(static_cast<std::int64_t>(loop.done - loop.failed)));
    extra.emplace_back("_failed", cel::Value(static_cast<std::int64_t>(loop.failed)));
  }
  complete(s, n, merged(loop.last, extra));
}

}  // namespace reliant::workflow
