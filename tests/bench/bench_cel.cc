// CEL and the workflow interpreter, measured:
// - BM_AgentCondition/i: expression i of agent_conditions.json (the agent loop's conditions),
//   compiled once (cel::Program), evaluated against one turn's variables. tools/bench_cel.sh runs
//   its peer,
//   @bufbuild/cel on the same file, in the same run and prints the ratio.
// - BM_AgentConditionWalk/i: the same by the tree walk, the program's floor to beat.
// - BM_InterpreterDecisions: a 100-node workflow (ten stages, each a fan-out of nine conditional
//   run nodes into a join) run to its end; `decisions/s` counts results reported, each a step of
//   the interpreter. Its floor, BM_InterpreterFloor, evaluates the same conditions and command
//   templates with no interpreter around them: the ratio is the interpreter's own cost.
#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"

namespace reliant {
namespace {

// Expression `index` of agent_conditions.json, parsed, and the turn's variables it reads.
struct AgentCondition {
  cel::Expr tree;
  cel::Activation variables;
};

std::optional<AgentCondition> agent_condition(benchmark::State& state) {
  static const auto spec = [] {
    std::ifstream in(RELIANT_BENCH_DIR "/agent_conditions.json");
    return nlohmann::json::parse(in);
  }();
  const auto& source =
      spec["expressions"][static_cast<std::size_t>(state.range(0))].get_ref<const std::string&>();
  auto tree = cel::parse(source);
  if (!tree) {
    state.SkipWithError(tree.error().message.c_str());
    return std::nullopt;
  }
  AgentCondition condition{std::move(*tree), {}};
  for (const auto& [name, value] : spec["variables"].items())
    condition.variables.bind(name, cel::from_json(value));
  return condition;
}

void BM_AgentCondition(benchmark::State& state) {
  auto condition = agent_condition(state);
  if (!condition) return;
  // Compiled once, as the peer plans once and as workflows hold their conditions.
  const cel::Program program(std::move(condition->tree));
  for (auto _ : state) {
    auto value = program.evaluate(condition->variables);
    benchmark::DoNotOptimize(value);
  }
  state.SetLabel(cel::to_json(*program.evaluate(condition->variables)).dump());
}
BENCHMARK(BM_AgentCondition)->DenseRange(0, 5);

// The same expressions by the tree walk (cel::evaluate), which Program replaces where an
// expression is evaluated more than once: the ratio is what compiling buys.
void BM_AgentConditionWalk(benchmark::State& state) {
  auto condition = agent_condition(state);
  if (!condition) return;
  for (auto _ : state) {
    auto value = cel::evaluate(condition->tree, condition->variables);
    benchmark::DoNotOptimize(value);
  }
}
BENCHMARK(BM_AgentConditionWalk)->DenseRange(0, 5);

constexpr int kStages = 10;
constexpr int kBranches = 9;

std::string hundred_node_workflow() {
  std::string nodes;
  std::string edges;
  std::string previous;
  for (int s = 0; s < kStages; ++s) {
    const auto fan = "fan" + std::to_string(s);
    const auto join = "join" + std::to_string(s);
    nodes += "  - {id: " + fan + ", type: router}\n  - {id: " + join + ", type: join}\n";
    if (!previous.empty()) edges += "  - {from: " + previous + ", to: " + fan + "}\n";
    for (int b = 0; b < kBranches; ++b) {
      const auto id = "s" + std::to_string(s) + "b" + std::to_string(b);
      nodes += "  - {id: " + id +
               ", type: run, condition: \"inputs.level >= " + std::to_string(b % 3) +
               "\", command: \"make part{{ inputs.level }}-" + std::to_string(b) + "\"}\n";
      edges +=
          "  - {from: " + fan + ", to: " + id + "}\n  - {from: " + id + ", to: " + join + "}\n";
    }
    previous = join;
  }
  // 10 × (router + join + 9 runs) = 110 nodes; the ten joins make it 100 that decide or run.
  return "name: hundred\nentry: fan0\ninputs:\n  level: {type: integer, default: 2}\nnodes:\n" +
         nodes + "edges:\n" + edges;
}

std::shared_ptr<const workflow::Definition> hundred() {
  static const auto definition = [] {
    auto loaded = workflow::load_workflow(hundred_node_workflow(), "hundred.yaml");
    return std::make_shared<const workflow::Definition>(std::move(*loaded));
  }();
  return definition;
}

workflow::RunContext hundred_context() {
  workflow::RunContext context;
  context.inputs = cel::from_json({{"level", 2}});
  context.workflow = cel::from_json({{"id", "bench"}});
  return context;
}

void BM_InterpreterDecisions(benchmark::State& state) {
  const auto definition = hundred();
  const auto output = cel::from_json({{"exit_code", 0}});
  std::int64_t decisions = 0;
  for (auto _ : state) {
    workflow::Interpreter run(definition, hundred_context());
    while (!run.pending().empty()) {
      const auto key = run.pending().front().key;
      (void)run.report(workflow::NodeResult{key, output, std::nullopt});
      ++decisions;
    }
    if (run.status() != workflow::RunStatus::completed)
      state.SkipWithError("the run did not complete");
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
  state.counters["decisions/run"] =
      static_cast<double>(decisions) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_InterpreterDecisions);

void BM_InterpreterFloor(benchmark::State& state) {
  // The CEL the run above evaluates: every node's condition and every command template.
  const auto definition = hundred();
  cel::Activation variables;
  variables.bind("inputs", cel::from_json({{"level", 2}}));
  for (auto _ : state) {
    for (const auto& node : definition->graph->nodes) {
      if (node.condition) benchmark::DoNotOptimize(node.condition->evaluate(variables));
      if (const auto* command = node.args.field("command")) {
        benchmark::DoNotOptimize(command->text->evaluate(variables));
      }
    }
  }
}
BENCHMARK(BM_InterpreterFloor);

}  // namespace
}  // namespace reliant

BENCHMARK_MAIN();
