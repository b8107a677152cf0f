// Random workflows for the properties: DAGs of nodes (conditions that skip, edges with cases
// and defaults, fan-out, joins of both kinds, while loops and parallel items loops holding
// sub-graphs, two deep, with random failure policies and iteration keys, and nodes with their own
// `on_failure`), drawn inside a rapidcheck property.
#pragma once

#include <string>
#include <vector>

#include <rapidcheck.h>

namespace reliant::workflow {

// Expressions over the one value every result carries (`v`, 0..3) and the run's input.
inline const std::vector<std::string> kConditions = {"true",
                                                     "false",
                                                     "inputs.k > 1",
                                                     "has(nodes.n0) && nodes.n0.v % 2 == 0",
                                                     "!has(nodes.n1) || nodes.n1.v < 2",
                                                     "inputs.k == 0 || has(nodes.n2)"};
// A parallel loop's on_failure ("": none written), and its key ("": none; the last repeats one).
inline const std::vector<std::string> kLoopPolicies = {"", "continue", "fail_fast", "fail_all"};
inline const std::vector<std::string> kLoopKeys = {"", "string(iter.item)", "iter.item * 10",
                                                   "string(iter.item % 2)"};
inline const std::vector<std::string> kNodePolicies = {"", "", "pause", "fail"};
inline const std::vector<std::string> kKinds = {"run",        "call_llm",  "save_message",
                                                "router",     "join_all",  "join_any",
                                                "loop_while", "loop_items"};

// A graph of `size` nodes named n0..n{size-1}; edges only go forward, so it has no cycle.
inline std::string graph_yaml(int size, int depth, const std::string& indent) {
  std::string out = indent + "entry: n0\n" + indent + "nodes:\n";
  std::string edges;
  for (int i = 0; i < size; ++i) {
    auto kind = *rc::gen::elementOf(kKinds);
    if (depth > 1 && kind.starts_with("loop")) kind = "run";  // loops in loops, no deeper
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
        const int parallel = *rc::gen::inRange(1, 4);
        out += indent + "    items: \"[1, 2, 3]\"\n" + indent +
               "    parallel: " + std::to_string(parallel) + "\n";
        const auto policy = *rc::gen::elementOf(kLoopPolicies);
        if (parallel > 1 && !policy.empty()) out += indent + "    on_failure: " + policy + "\n";
        const auto key = *rc::gen::elementOf(kLoopKeys);
        if (!key.empty()) out += indent + "    key: \"" + key + "\"\n";
      }
      const int inner = *rc::gen::inRange(1, 4);
      out += indent + "    inline:\n" + graph_yaml(inner, depth + 1, indent + "      ");
      out += indent + "      outputs: {last: \"{{ has(nodes.n0) ? nodes.n0.v : 0 }}\"}\n";
    } else {
      out += indent + "    type: " + kind + "\n";
      if (kind == "save_message")
        out += indent + "    args: {role: system, content: \"{{ inputs.k }}\"}\n";
      if (kind == "run") out += indent + "    command: \"step {{ inputs.k }}\"\n";
      const auto policy = *rc::gen::elementOf(kNodePolicies);
      if (!policy.empty()) out += indent + "    on_failure: " + policy + "\n";
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

// A whole random workflow with one integer input `k`.
inline std::string random_workflow_yaml() {
  const int size = *rc::gen::inRange(1, 12);
  return "name: random\ninputs:\n  k: {type: integer, default: 0}\n" + graph_yaml(size, 0, "");
}

}  // namespace reliant::workflow
