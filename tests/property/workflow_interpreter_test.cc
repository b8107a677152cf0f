// The workflow interpreter on random workflows: random DAGs of nodes (conditions that skip,
// edges with cases and defaults, fan-out, joins of both kinds, while loops and parallel items
// loops holding sub-graphs, with random failure policies and keys) driven by random results and
// failures in a random order. However the results come, no action key is issued twice (a node
// runs at most once per scope and loop iteration), the run ends, replaying the same results gives
// the same run, and a failure goes exactly as far as the loops around it let it:
//  - a failure inside an iteration of a parallel loop that continues or fails all never fails
//    the run by itself (its message is never the run's error);
//  - any other fails the run at once, with its message, at its node;
//  - actions dropped with a failed iteration stay unknown: a late answer changes nothing;
//  - each action carries its node's own on_failure.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"
#include "property/property_check.h"
#include "property/random_workflow.h"

namespace reliant::workflow {
namespace {

// The node of an action's key ("n3#1/n0#2/n1"), and whether a loop around it keeps a failure
// in its iteration.
struct KeyedNode {
  const NodeSpec* spec = nullptr;
  bool contained = false;
};

KeyedNode node_of_key(const Definition& definition, const std::string& key) {
  KeyedNode found;
  const Graph* graph = definition.graph.get();
  std::size_t at = 0;
  for (auto slash = key.find('/'); slash != std::string::npos; slash = key.find('/', at)) {
    const auto segment = key.substr(at, slash - at);
    const auto* loop = graph->find(segment.substr(0, segment.find('#')));
    RC_ASSERT(loop != nullptr && loop->body != nullptr);
    found.contained =
        found.contained ||
        (loop->parallel_loop() && loop->loop_on_failure.value_or(LoopFailurePolicy::carry_on) !=
                                      LoopFailurePolicy::fail_fast);
    graph = loop->body.get();
    at = slash + 1;
  }
  found.spec = graph->find(key.substr(at));
  RC_ASSERT(found.spec != nullptr);
  return found;
}

TEST(WorkflowInterpreterProperty, NeverIssuesANodeTwicePerIterationAndAlwaysEnds) {
  property::check_property(300, [] {
    const auto yaml = random_workflow_yaml();
    auto loaded = load_workflow(yaml, "random.yaml");
    if (!loaded) {
      for (const auto& e : loaded.error()) RC_LOG() << format("random.yaml", e) << "\n";
      RC_LOG() << yaml;
    }
    RC_ASSERT(loaded.has_value());
    auto definition = std::make_shared<const Definition>(std::move(*loaded));
    RunContext context;
    context.inputs = cel::from_json({{"k", *rc::gen::inRange(0, 3)}});
    context.workflow = cel::from_json({{"id", "r"}});
    const int fail_one_in = *rc::gen::element(0, 3, 10, 50);  // 0: nothing fails

    Interpreter run(definition, context);
    std::vector<NodeResult> history;
    for (int step = 0; run.status() == RunStatus::running && !run.pending().empty(); ++step) {
      RC_ASSERT(step < 10'000);
      const auto pick = *rc::gen::inRange<std::size_t>(0, run.pending().size());
      const Action action = run.pending()[pick];
      const auto node = node_of_key(*definition, action.key);
      RC_ASSERT(action.on_failure == node.spec->on_failure);
      NodeResult result{action.key, cel::from_json({{"v", *rc::gen::inRange(0, 4)}}), std::nullopt};
      if (fail_one_in > 0 && *rc::gen::inRange(0, fail_one_in) == 0)
        result.error = "broke at step " + std::to_string(step);
      history.push_back(result);
      const auto dropped_before = run.dropped().size();
      RC_ASSERT(run.report(result).has_value());
      if (result.error && node.contained) {
        RC_ASSERT(run.error() != *result.error);
      } else if (result.error) {
        RC_ASSERT(run.status() == RunStatus::failed);
        RC_ASSERT(run.error() == *result.error);
        RC_ASSERT(run.error_node() == action.path);
      }
      // Answers to what a failed iteration dropped are refused, and change nothing.
      for (auto i = dropped_before; i < run.dropped().size(); ++i) {
        const auto issued = run.issued().size();
        RC_ASSERT(run.pending_action(run.dropped()[i]) == nullptr);
        RC_ASSERT(!run.report(NodeResult{run.dropped()[i], cel::Value(nullptr), std::nullopt}));
        RC_ASSERT(run.issued().size() == issued);
      }
    }
    RC_ASSERT(run.status() != RunStatus::running);  // nothing pending means the run ended
    const auto& issued = run.issued();
    RC_ASSERT(std::set<std::string>(issued.begin(), issued.end()).size() == issued.size());
    std::set<std::string> dropped(run.dropped().begin(), run.dropped().end());
    RC_ASSERT(dropped.size() == run.dropped().size());
    RC_ASSERT(std::includes(std::set<std::string>(issued.begin(), issued.end()).begin(),
                            std::set<std::string>(issued.begin(), issued.end()).end(),
                            dropped.begin(), dropped.end()));

    auto replayed = replay(definition, context, history);
    RC_ASSERT(replayed.has_value());
    RC_ASSERT((*replayed)->issued() == issued);
    RC_ASSERT((*replayed)->dropped() == run.dropped());
    RC_ASSERT((*replayed)->status() == run.status());
    RC_ASSERT((*replayed)->reached() == run.reached());
    RC_ASSERT((*replayed)->error() == run.error());
    RC_ASSERT((*replayed)->outputs() == run.outputs());
  });
}

// Every items loop that ends counts each iteration once: completed or failed.
TEST(WorkflowInterpreterProperty, AnItemsLoopCountsEachIterationOnce) {
  property::check_property(200, [] {
    auto loaded = load_workflow(random_workflow_yaml(), "random.yaml");
    RC_ASSERT(loaded.has_value());
    auto definition = std::make_shared<const Definition>(std::move(*loaded));
    RunContext context;
    context.inputs = cel::from_json({{"k", *rc::gen::inRange(0, 3)}});
    context.workflow = cel::from_json({{"id", "r"}});
    Interpreter run(definition, context);
    for (int step = 0; run.status() == RunStatus::running && !run.pending().empty(); ++step) {
      RC_ASSERT(step < 10'000);
      const auto key = run.pending()[*rc::gen::inRange<std::size_t>(0, run.pending().size())].key;
      std::optional<std::string> error;
      if (*rc::gen::inRange(0, 4) == 0) error = "no";
      RC_ASSERT(run.report(NodeResult{key, cel::from_json({{"v", 1}}), error}).has_value());
    }
    for (const auto& spec : definition->graph->nodes) {
      const auto* output = spec.items ? run.output_at(spec.id) : nullptr;
      if (output == nullptr) continue;
      const auto json = cel::to_json(*output);
      RC_ASSERT(json["_completed"].get<int>() + json["_failed"].get<int>() ==
                json["_iterations"].get<int>());
      RC_ASSERT(json["_results"].size() == json["results"].size());
      if (!spec.parallel_loop()) RC_ASSERT(json["_failed"].get<int>() == 0);
    }
  });
}

}  // namespace
}  // namespace reliant::workflow
