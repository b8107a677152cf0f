// The workflow interpreter on random workflows: random DAGs of nodes (conditions that skip,
// edges with cases and defaults, fan-out, joins of both kinds, while loops and parallel items
// loops holding sub-graphs) driven by random results in a random order. However the results come,
// no action key is issued twice (a node runs at most once per scope and loop iteration), the
// run ends, and replaying the same results gives the same actions.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"
#include "property/property_check.h"

namespace reliant::workflow {
namespace {

// Expressions over the one value every result carries (`v`, 0..3) and the run's input.
const std::vector<std::string> kConditions = {"true",
                                              "false",
                                              "inputs.k > 1",
                                              "has(nodes.n0) && nodes.n0.v % 2 == 0",
                                              "!has(nodes.n1) || nodes.n1.v < 2",
                                              "inputs.k == 0 || has(nodes.n2)"};
const std::vector<std::string> kKinds = {"run",      "call_llm", "save_message", "router",
                                         "join_all", "join_any", "loop_while",   "loop_items"};

// A graph of `size` nodes named n0..n{size-1}; edges only go forward, so it has no cycle.
std::string graph_yaml(int size, int depth, const std::string& indent) {
  std::string out = indent + "entry: n0\n" + indent + "nodes:\n";
  std::string edges;
  for (int i = 0; i < size; ++i) {
    auto kind = *rc::gen::elementOf(kKinds);
    if (depth > 0 && kind.starts_with("loop")) kind = "run";  // one level of nesting
    const auto id = "n" + std::to_string(i);
    out += indent + "  - id: " + id + "\n";
    if (kind.starts_with("join")) {
      out += indent + "    type: join\n" + indent +
             "    condition: " + (kind == "join_all" ? "all" : "any") + "\n";
    } else if (kind.starts_with("loop")) {
      out += indent + "    type: loop\n";
      if (kind == "loop_while") {
        out += indent + "    while: \"iter.iteration < 3 && outputs.last != 1\"\n";
      } else {
        out += indent + "    items: \"[1, 2, 3]\"\n" + indent +
               "    parallel: " + std::to_string(*rc::gen::inRange(1, 4)) + "\n";
      }
      const int inner = *rc::gen::inRange(1, 4);
      out += indent + "    inline:\n" + graph_yaml(inner, depth + 1, indent + "      ");
      out += indent + "      outputs: {last: \"{{ has(nodes.n0) ? nodes.n0.v : 0 }}\"}\n";
    } else {
      out += indent + "    type: " + kind + "\n";
      if (kind == "save_message")
        out += indent + "    args: {role: system, content: \"{{ inputs.k }}\"}\n";
      if (kind == "run") out += indent + "    command: \"step {{ inputs.k }}\"\n";
    }
    if (*rc::gen::inRange(0, 4) == 0 && !kind.starts_with("join")) {
      out += indent + "    condition: \"" + *rc::gen::elementOf(kConditions) + "\"\n";
    }
    // Forward edges: none, a plain one, or cases with a default, to later nodes.
    const int count = i + 1 < size ? *rc::gen::inRange(0, 3) : 0;
    for (int e = 0; e < count; ++e) {
      const auto to = "n" + std::to_string(*rc::gen::inRange(i + 1, size));
      if (*rc::gen::arbitrary<bool>()) {
        edges += indent + "  - {from: " + id + ", to: " + to + "}\n";
      } else {
        const auto other = "n" + std::to_string(*rc::gen::inRange(i + 1, size));
        edges += indent + "  - {from: " + id + ", cases: [{to: " + to + ", condition: \"" +
                 *rc::gen::elementOf(kConditions) + "\"}], default: " + other + "}\n";
      }
    }
  }
  if (!edges.empty()) out += indent + "edges:\n" + edges;
  return out;
}

TEST(WorkflowInterpreterProperty, NeverIssuesANodeTwicePerIterationAndAlwaysEnds) {
  property::check_property(300, [] {
    const int size = *rc::gen::inRange(1, 12);
    const auto yaml =
        "name: random\ninputs:\n  k: {type: integer, default: 0}\n" + graph_yaml(size, 0, "");
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

    Interpreter run(definition, context);
    std::vector<NodeResult> history;
    for (int step = 0; run.status() == RunStatus::running && !run.pending().empty(); ++step) {
      RC_ASSERT(step < 10'000);
      const auto pick = *rc::gen::inRange<std::size_t>(0, run.pending().size());
      NodeResult result{run.pending()[pick].key, cel::from_json({{"v", *rc::gen::inRange(0, 4)}}),
                        std::nullopt};
      if (*rc::gen::inRange(0, 50) == 0) result.error = "it broke";
      history.push_back(result);
      RC_ASSERT(run.report(result).has_value());
    }
    RC_ASSERT(run.status() != RunStatus::running);  // nothing pending means the run ended
    const auto& issued = run.issued();
    RC_ASSERT(std::set<std::string>(issued.begin(), issued.end()).size() == issued.size());

    auto replayed = replay(definition, context, history);
    RC_ASSERT(replayed.has_value());
    RC_ASSERT((*replayed)->issued() == issued);
    RC_ASSERT((*replayed)->status() == run.status());
    RC_ASSERT((*replayed)->reached() == run.reached());
  });
}

}  // namespace
}  // namespace reliant::workflow
