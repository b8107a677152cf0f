// The workflow interpreter and templates: typed and interpolated templates, fan-out and joins,
// conditions that skip, loops (while, items, parallel), failures, replay, saved messages, and
// CEL daemon selectors.
#include <gtest/gtest.h>

#include <string>

#include "core/cel/parser.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"
#include "core/workflow/selector_expressions.h"
#include "core/workflow/template.h"

namespace reliant::workflow {
namespace {

std::shared_ptr<const Definition> load(const std::string& yaml) {
  auto loaded = load_workflow(yaml, "w.yaml");
  if (!loaded) {
    ADD_FAILURE() << format("w.yaml", loaded.error().front());
    return nullptr;
  }
  return std::make_shared<const Definition>(std::move(*loaded));
}

RunContext context(nlohmann::json inputs = nlohmann::json::object()) {
  RunContext c;
  c.inputs = cel::from_json(inputs);
  c.workflow = cel::from_json({{"id", "run-1"}});
  return c;
}

std::string paths(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& a : actions) out += (out.empty() ? "" : " ") + a.key;
  return out;
}

void finish(Interpreter& run, const std::string& key,
            nlohmann::json output = nlohmann::json::object()) {
  auto reported = run.report(NodeResult{key, cel::from_json(output), std::nullopt});
  ASSERT_TRUE(reported) << reported.error();
}

TEST(WorkflowTemplate, KeepsTypeForAWholeHoleAndInterpolatesText) {
  cel::Activation vars;
  vars.bind("inputs", cel::from_json({{"n", 3}, {"tags", {"a", "b"}}}));
  auto whole = Template::parse("{{ inputs.n + 1 }}");
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole->evaluate(vars), cel::Value(std::int64_t{4}));
  auto padded = Template::parse("  {{ inputs.tags }}\n");
  ASSERT_TRUE(padded);
  EXPECT_EQ(cel::to_json(*padded->evaluate(vars)).dump(), R"(["a","b"])");
  auto text = Template::parse("n={{ inputs.n }}, tags={{ inputs.tags }}, none={{ null }}.");
  ASSERT_TRUE(text);
  EXPECT_EQ(*text->evaluate(vars), cel::Value(R"(n=3, tags=["a","b"], none=.)"));
  auto braces = Template::parse("{{ '}}' + 'x' }}");
  ASSERT_TRUE(braces);
  EXPECT_EQ(*braces->evaluate(vars), cel::Value("}}x"));
  EXPECT_EQ(Template::parse("a {{ b").error().message, "\"{{\" without its \"}}\"");
  EXPECT_EQ(Template::parse("{{ }}").error().message, "empty {{ }}");
  auto failing = Template::parse("x {{ inputs.missing }}");
  ASSERT_TRUE(failing);
  const auto error = failing->evaluate(vars).error();
  EXPECT_EQ(error.message, "no such key: missing");
  EXPECT_EQ(error.offset, 11u);  // the offset of `.missing` in the whole text
}

TEST(WorkflowInterpreter, FansOutSkipsByConditionAndJoinsLiveBranches) {
  auto definition = load(R"(name: fan
entry: start
inputs:
  steps: {type: array, default: [lint, test]}
nodes:
  - {id: start, type: run, command: build}
  - {id: lint, type: run, command: lint, condition: "'lint' in inputs.steps"}
  - {id: test, type: run, command: test, condition: "'test' in inputs.steps"}
  - {id: docs, type: run, command: docs, condition: "'docs' in inputs.steps"}
  - {id: checks, type: join}
  - {id: report, type: save_message, args: {role: assistant, content: "lint {{ nodes.lint.exit_code }}, docs {{ has(nodes.docs) }}"}}
edges:
  - {from: start, to: lint}
  - {from: start, to: test}
  - {from: start, to: docs}
  - {from: lint, to: checks}
  - {from: test, to: checks}
  - {from: docs, to: checks}
  - {from: checks, to: report}
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context({{"steps", {"lint", "test"}}}));
  EXPECT_EQ(paths(run.pending()), "start");
  finish(run, "start");
  EXPECT_EQ(paths(run.pending()), "lint test");  // docs skipped, its edge followed
  finish(run, "test", {{"exit_code", 0}});
  EXPECT_EQ(paths(run.pending()), "lint");  // the join waits for lint
  finish(run, "lint", {{"exit_code", 1}});
  ASSERT_EQ(paths(run.pending()), "report");
  EXPECT_EQ(cel::to_json(run.pending()[0].args).dump(),
            R"({"content":"lint 1, docs false","role":"assistant"})");
  finish(run, "report");
  EXPECT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(run.reached(), (std::vector<std::string>{"start", "lint", "test", "checks", "report"}));
}

TEST(WorkflowInterpreter, LoopsWhileAndCountsIterationsDone) {
  auto definition = load(R"(name: retry
entry: attempts
inputs:
  limit: {type: integer, default: 3}
outputs:
  code: "{{ nodes.attempts.code }}"
  tries: "{{ nodes.attempts._iterations }}"
nodes:
  - id: attempts
    type: loop
    while: outputs.code != 0 && iter.iteration < inputs.limit
    inline:
      entry: test
      outputs: {code: "{{ nodes.test.exit_code }}", seen: "{{ iter.previous == null ? -1 : iter.previous.code }}"}
      nodes: [{id: test, type: run, command: "attempt {{ iter.iteration }}"}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context({{"limit", 3}}));
  ASSERT_EQ(paths(run.pending()), "attempts#0/test");
  EXPECT_EQ(run.pending()[0].path, "attempts.test");
  EXPECT_EQ(run.pending()[0].args, cel::from_json({{"command", "attempt 0"}}));
  finish(run, "attempts#0/test", {{"exit_code", 2}});
  ASSERT_EQ(paths(run.pending()), "attempts#1/test");
  finish(run, "attempts#1/test", {{"exit_code", 0}});
  EXPECT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(cel::to_json(run.outputs()).dump(), R"({"code":0,"tries":2})");
  EXPECT_EQ(cel::to_json(*run.output_at("attempts")).dump(),
            R"({"_iterations":2,"code":0,"seen":2})");
}

TEST(WorkflowInterpreter, RunsItemsInParallelAndCollectsResults) {
  auto definition = load(R"(name: each
entry: each
nodes:
  - id: each
    type: loop
    items: "[10, 20, 30]"
    parallel: 2
    inline:
      entry: work
      outputs: {doubled: "{{ nodes.work.value * 2 }}"}
      nodes: [{id: work, type: run, command: "n={{ iter.item }}"}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context());
  ASSERT_EQ(paths(run.pending()), "each#0/work each#1/work");
  finish(run, "each#1/work", {{"value", 20}});
  ASSERT_EQ(paths(run.pending()), "each#0/work each#2/work");
  finish(run, "each#2/work", {{"value", 30}});
  finish(run, "each#0/work", {{"value", 10}});
  EXPECT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(
      cel::to_json(*run.output_at("each")).dump(),
      R"({"_completed":3,"_failed":0,"_iterations":3,"_results":{"0":{"doubled":20},"1":{"doubled":40},)"
      R"("2":{"doubled":60}},"doubled":20,"results":[{"doubled":20},{"doubled":40},{"doubled":60}]})");
}

TEST(WorkflowInterpreter, AFailingNodeOrExpressionFailsTheRunAtThatNode) {
  auto definition = load(R"(name: f
entry: a
nodes:
  - {id: a, type: run, command: x}
  - {id: b, type: run, command: "{{ nodes.a.path }}"}
edges: [{from: a, to: b}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter expression(definition, context());
  finish(expression, "a", {{"exit_code", 0}});
  EXPECT_EQ(expression.status(), RunStatus::failed);
  EXPECT_EQ(expression.error_node(), "b");
  EXPECT_EQ(expression.error(), "args.command: no such key: path");
  EXPECT_TRUE(expression.pending().empty());

  Interpreter reported(definition, context());
  ASSERT_TRUE(reported.report(NodeResult{"a", cel::Value(nullptr), "exit status 2"}));
  EXPECT_EQ(reported.status(), RunStatus::failed);
  EXPECT_EQ(reported.error_node(), "a");
  EXPECT_FALSE(reported.report(NodeResult{"a", cel::Value(nullptr), std::nullopt}));
}

TEST(WorkflowInterpreter, ReplayOfTheSameHistoryGivesTheSameState) {
  auto definition = load(R"(name: r
entry: a
nodes:
  - {id: a, type: call_llm, save_message: {role: assistant, content: "{{ output.response_text }}"}}
  - {id: b, type: execute_tools, args: {calls: "{{ nodes.a.tool_calls }}"}}
edges: [{from: a, cases: [{to: b, condition: "size(nodes.a.tool_calls) > 0"}]}]
)");
  ASSERT_NE(definition, nullptr);
  const std::vector<NodeResult> history{
      {"a", cel::from_json({{"response_text", "hi"}, {"tool_calls", {{{"name", "ls"}}}}}),
       std::nullopt}};
  auto replayed = replay(definition, context(), history);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(paths((*replayed)->pending()), "b");
  ASSERT_EQ((*replayed)->messages().size(), 1u);
  EXPECT_EQ(cel::to_json((*replayed)->messages()[0].message).dump(),
            R"({"content":"hi","role":"assistant"})");
  // The defaults of a model call fill what the result leaves out.
  auto empty = replay(definition, context(),
                      {{"a", cel::from_json(nlohmann::json::object()), std::nullopt}});
  ASSERT_TRUE(empty);
  EXPECT_EQ((*empty)->status(), RunStatus::completed);
  EXPECT_FALSE(replay(definition, context(), {{"zzz", cel::Value(nullptr), std::nullopt}}));
}

TEST(WorkflowInterpreter, EvaluatesNodeAndWorkflowDaemonSelectors) {
  auto definition = load(R"(name: d
entry: a
daemon: "{{ inputs.where }}"
inputs:
  where: {type: string, default: local}
nodes:
  - {id: a, type: run, command: x}
  - {id: b, type: run, command: y, daemon: {type: cloud, labels: {gpu: "{{ inputs.where == 'local' ? 'no' : 'yes' }}"}}}
edges: [{from: a, to: b}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context({{"where", "gpu-box"}}));
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json("gpu-box"));
  finish(run, "a");
  EXPECT_EQ(run.pending()[0].daemon,
            nlohmann::json({{"labels", {{"gpu", "yes"}}}, {"type", "cloud"}}));
}

// The nearest selector wins: a node's own, then its loop's or group's (evaluated in the scope it
// opens, so a loop's per iteration), then the workflow's (issue 40: `daemon:` on loops and groups
// was accepted and ignored).
TEST(WorkflowInterpreter, ANodeRunsUnderTheNearestEnclosingSelector) {
  auto definition = load(R"(name: placed
entry: each
daemon: laptop
nodes:
  - id: each
    type: loop
    items: "['a', 'b']"
    daemon: "{{ 'box-' + iter.item }}"
    inline:
      entry: plain
      nodes:
        - {id: plain, type: run, command: x}
        - {id: pinned, type: run, command: y, daemon: {type: cloud}}
        - id: grouped
          type: group
          inline: {entry: deep, nodes: [{id: deep, type: run, command: z}]}
      edges: [{from: plain, to: pinned}, {from: pinned, to: grouped}]
  - {id: after, type: run, command: w}
edges: [{from: each, to: after}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context());
  ASSERT_EQ(paths(run.pending()), "each#0/plain") << run.error_node() << ": " << run.error();
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json("box-a"));
  finish(run, "each#0/plain");
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json({{"type", "cloud"}}));
  finish(run, "each#0/pinned");
  ASSERT_EQ(run.pending().size(), 1u);
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json("box-a")) << "a group inherits its loop's";
  finish(run, run.pending()[0].key);
  ASSERT_EQ(paths(run.pending()), "each#1/plain");
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json("box-b"));
  finish(run, "each#1/plain");
  finish(run, "each#1/pinned");
  finish(run, run.pending()[0].key);
  ASSERT_EQ(paths(run.pending()), "after");
  EXPECT_EQ(run.pending()[0].daemon, nlohmann::json("laptop"));
}

// A `while` whose body finishes at once (a router) is evaluated for every iteration inside one
// decision: ~300 bytes of workflow held a monolith's database path for 234 s when each
// evaluation had a budget of its own and nothing bounded them together (issue 38). Now the run
// fails within one report's budget, saying so.
TEST(WorkflowInterpreter, ACostlyWhileSpendsOneReportsBudgetAndFails) {
  auto definition = load(R"yaml(name: spin
inputs:
  big: {type: array}
entry: spin
nodes:
  - id: spin
    type: loop
    while: "inputs.big.all(x, x >= 0)"
    inline:
      entry: r
      nodes:
        - {id: r, type: router}
)yaml");
  ASSERT_NE(definition, nullptr);
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 200'000; ++i) big.push_back(i);
  Interpreter run(definition, context({{"big", big}}));
  ASSERT_EQ(run.status(), RunStatus::failed);
  EXPECT_EQ(run.error_node(), "spin");
  EXPECT_NE(run.error().find("the CEL budget of one step, 10000000 evaluation steps"),
            std::string::npos)
      << run.error();
  // Each evaluation alone is within its own bound: a cheap condition runs its 10,000 iterations.
  auto cheap = load(R"(name: count
entry: spin
nodes:
  - id: spin
    type: loop
    while: "iter.iteration < 10000"
    inline:
      entry: r
      nodes:
        - {id: r, type: router}
)");
  ASSERT_NE(cheap, nullptr);
  Interpreter counted(cheap, context());
  EXPECT_EQ(counted.status(), RunStatus::completed) << counted.error();
}

// What the engine asks of a run with many actions pending: one action by key, without the
// whole list.
TEST(WorkflowInterpreter, PendingActionsAreFoundByKeyAndLeaveInAnyOrder) {
  auto definition = load(R"(name: fan
entry: each
nodes:
  - id: each
    type: loop
    items: "{{ [1, 2, 3, 4] }}"
    parallel: true
    inline: {entry: w, nodes: [{id: w, type: run, command: "x"}]}
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, context());
  EXPECT_EQ(paths(run.pending()), "each#0/w each#1/w each#2/w each#3/w");
  ASSERT_NE(run.pending_action("each#2/w"), nullptr);
  EXPECT_EQ(run.pending_action("each#2/w")->path, "each.w");
  EXPECT_EQ(run.pending_action("each#9/w"), nullptr);
  finish(run, "each#2/w");
  EXPECT_EQ(run.pending_action("each#2/w"), nullptr);
  EXPECT_EQ(paths(run.pending()), "each#0/w each#1/w each#3/w");
  finish(run, "each#0/w");
  finish(run, "each#3/w");
  EXPECT_EQ(paths(run.pending()), "each#1/w");
  EXPECT_FALSE(run.report(NodeResult{"each#0/w", cel::Value(nullptr), std::nullopt}).has_value());
  finish(run, "each#1/w");
  EXPECT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(run.issued().size(), 4u);
}

TEST(CelSelectorExpressions, SelectsADaemonByAComputedSelector) {
  cel::Activation vars;
  vars.bind("inputs", cel::from_json({{"daemon_type", "cloud"}, {"n", 1}}));
  CelSelectorExpressions expressions(vars);
  EXPECT_EQ(*expressions.evaluate("inputs.daemon_type"), nlohmann::json("cloud"));
  EXPECT_EQ(*expressions.evaluate("{'labels': {'gpu': 'a100'}}"),
            nlohmann::json({{"labels", {{"gpu", "a100"}}}}));
  EXPECT_EQ(expressions.evaluate("inputs.n").error().message,
            "a daemon selector is a string or a map, not int");
  EXPECT_EQ(expressions.evaluate("inputs.nope").error().message, "column 7: no such key: nope");

  std::vector<DaemonCandidate> daemons(2);
  daemons[0].id = "d-local";
  daemons[0].type = DaemonType::local;
  daemons[1].id = "d-cloud";
  daemons[1].type = DaemonType::cloud;
  for (auto& d : daemons) {
    d.user_id = "u1";
    d.status = DaemonStatus::active;
  }
  SelectionRequest request;
  request.user_id = "u1";
  request.node_selector = SelectorExpression{"inputs.daemon_type"};
  auto step = select_daemon(request, daemons, &expressions);
  ASSERT_TRUE(step) << step.error().message;
  EXPECT_EQ(std::get<DaemonDecision>(*step).daemon_id, "d-cloud");
}

}  // namespace
}  // namespace reliant::workflow
