// Loop failure policies (continue, fail_fast, fail_all), iteration keys and `_results`,
// `passthrough`, and the node-level `on_failure` carried to actions: in the interpreter.
#include <gtest/gtest.h>

#include <string>

#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"

namespace reliant::workflow {
namespace {

std::shared_ptr<const Definition> load_policy_workflow(const std::string& yaml) {
  auto loaded = load_workflow(yaml, "w.yaml");
  if (!loaded) {
    ADD_FAILURE() << format_all("w.yaml", loaded.error());
    return nullptr;
  }
  return std::make_shared<const Definition>(std::move(*loaded));
}

RunContext policy_context(nlohmann::json inputs = nlohmann::json::object()) {
  RunContext c;
  c.inputs = cel::from_json(inputs);
  c.workflow = cel::from_json({{"id", "run-1"}});
  return c;
}

std::string pending_keys(const Interpreter& run) {
  std::string out;
  for (const auto& a : run.pending()) out += (out.empty() ? "" : " ") + a.key;
  return out;
}

void answer(Interpreter& run, const std::string& key, nlohmann::json output = {{"v", 1}}) {
  auto reported = run.report(NodeResult{key, cel::from_json(output), std::nullopt});
  ASSERT_TRUE(reported) << reported.error();
}

void break_node(Interpreter& run, const std::string& key, const std::string& why) {
  auto reported = run.report(NodeResult{key, cel::Value(nullptr), why});
  ASSERT_TRUE(reported) << reported.error();
}

// Five items at once, two nodes an iteration; `policy` is the loop's on_failure line (or "").
std::string five_items(const std::string& policy) {
  return R"(name: each
entry: each
outputs:
  done: "{{ nodes.each._completed }}"
nodes:
  - id: each
    type: loop
    items: "['a', 'b', 'c', 'd', 'e']"
    parallel: true
)" + policy +
         R"(
    inline:
      entry: work
      outputs: {item: "{{ iter.item }}", v: "{{ nodes.check.v }}"}
      nodes:
        - {id: work, type: run, command: "do {{ iter.item }}"}
        - {id: check, type: run, command: "check {{ iter.item }}"}
      edges: [{from: work, to: check}]
  - {id: after, type: router}
edges: [{from: each, to: after}]
)";
}

TEST(WorkflowLoopPolicy, ContinueCountsAFailedIterationAndCompletesTheLoop) {
  for (const std::string policy : {"", "    on_failure: continue"}) {
    auto definition = load_policy_workflow(five_items(policy));
    ASSERT_NE(definition, nullptr);
    Interpreter run(definition, policy_context());
    EXPECT_EQ(pending_keys(run), "each#0/work each#1/work each#2/work each#3/work each#4/work");
    answer(run, "each#2/work");
    ASSERT_EQ(pending_keys(run), "each#0/work each#1/work each#3/work each#4/work each#2/check");
    // The failing iteration's other work goes with it; the rest carry on.
    break_node(run, "each#2/check", "disk full");
    EXPECT_EQ(run.status(), RunStatus::running);
    EXPECT_EQ(pending_keys(run), "each#0/work each#1/work each#3/work each#4/work");
    for (const auto* i : {"0", "1", "3", "4"}) answer(run, std::string("each#") + i + "/work");
    for (const auto* i : {"4", "0", "3", "1"}) answer(run, std::string("each#") + i + "/check");
    ASSERT_EQ(run.status(), RunStatus::completed) << run.error_node() << ": " << run.error();
    const auto output = cel::to_json(*run.output_at("each"));
    EXPECT_EQ(output["_iterations"], 5);
    EXPECT_EQ(output["_completed"], 4);
    EXPECT_EQ(output["_failed"], 1);
    EXPECT_EQ(output["_results"].dump(),
              R"({"0":{"item":"a","v":1},"1":{"item":"b","v":1},"2":{"_error":"disk full"},)"
              R"("3":{"item":"d","v":1},"4":{"item":"e","v":1}})");
    EXPECT_EQ(output["results"][2].dump(), R"({"_error":"disk full"})");
    EXPECT_EQ(output["item"], "b") << "the last iteration that completed";
    EXPECT_EQ(cel::to_json(run.outputs()).dump(), R"({"done":4})");
    EXPECT_EQ(run.dropped(), std::vector<std::string>{}) << "check ran in iteration 2 alone";
  }
}

TEST(WorkflowLoopPolicy, ContinueDropsTheFailedIterationsOtherBranches) {
  auto definition = load_policy_workflow(R"(name: two
entry: each
nodes:
  - id: each
    type: loop
    items: "[1, 2]"
    parallel: 2
    inline:
      entry: [left, right]
      nodes: [{id: left, type: run, command: l}, {id: right, type: call_llm}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  EXPECT_EQ(pending_keys(run), "each#0/left each#0/right each#1/left each#1/right");
  break_node(run, "each#0/left", "no");
  EXPECT_EQ(pending_keys(run), "each#1/left each#1/right");
  EXPECT_EQ(run.dropped(), std::vector<std::string>{"each#0/right"});
  // A late answer for a dropped action is an unknown key, as after a failed run: nothing changes.
  EXPECT_FALSE(run.report(NodeResult{"each#0/right", cel::Value(nullptr), std::nullopt}));
  answer(run, "each#1/left");
  answer(run, "each#1/right");
  ASSERT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(cel::to_json(*run.output_at("each"))["_failed"], 1);
}

TEST(WorkflowLoopPolicy, FailFastCancelsTheIterationsInFlightAndFailsTheLoop) {
  auto definition = load_policy_workflow(five_items("    on_failure: fail_fast"));
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  answer(run, "each#0/work");
  break_node(run, "each#3/work", "cannot reach the host");
  EXPECT_EQ(run.status(), RunStatus::failed);
  EXPECT_EQ(run.error_node(), "each.work");
  EXPECT_EQ(run.error(), "cannot reach the host");
  EXPECT_TRUE(run.pending().empty());
  EXPECT_FALSE(run.report(NodeResult{"each#0/check", cel::Value(nullptr), std::nullopt}));
  EXPECT_EQ(run.reached(), (std::vector<std::string>{"each", "each.work", "each.check"}));
}

// Held in an iteration of an outer loop that carries on, a fail_fast loop's failure cancels its
// own iterations and fails that outer iteration only; the late answers are unknown keys.
TEST(WorkflowLoopPolicy, AFailFastLoopInsideAContinueLoopFailsOneOuterIteration) {
  auto definition = load_policy_workflow(R"(name: nested
entry: outer
nodes:
  - id: outer
    type: loop
    items: "['x', 'y']"
    parallel: true
    inline:
      entry: inner
      nodes:
        - id: inner
          type: loop
          items: "[1, 2, 3]"
          parallel: 3
          on_failure: fail_fast
          inline: {entry: w, nodes: [{id: w, type: run, command: "{{ iter.item }}"}]}
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  EXPECT_EQ(pending_keys(run),
            "outer#0/inner#0/w outer#0/inner#1/w outer#0/inner#2/w outer#1/inner#0/w "
            "outer#1/inner#1/w outer#1/inner#2/w");
  answer(run, "outer#0/inner#0/w");
  break_node(run, "outer#0/inner#1/w", "bad");
  EXPECT_EQ(run.status(), RunStatus::running);
  EXPECT_EQ(pending_keys(run), "outer#1/inner#0/w outer#1/inner#1/w outer#1/inner#2/w");
  EXPECT_EQ(run.dropped(), std::vector<std::string>{"outer#0/inner#2/w"});
  EXPECT_FALSE(run.report(NodeResult{"outer#0/inner#2/w", cel::Value(nullptr), std::nullopt}));
  for (const auto* i : {"0", "1", "2"}) answer(run, std::string("outer#1/inner#") + i + "/w");
  ASSERT_EQ(run.status(), RunStatus::completed) << run.error();
  const auto output = cel::to_json(*run.output_at("outer"));
  EXPECT_EQ(output["_completed"], 1);
  EXPECT_EQ(output["_results"]["0"].dump(), R"({"_error":"bad"})");
  EXPECT_EQ(output["_results"]["1"]["inner"]["_completed"], 3);
}

TEST(WorkflowLoopPolicy, FailAllRunsEveryIterationThenFails) {
  auto definition =
      load_policy_workflow(five_items("    on_failure: fail_all\n    key: iter.item"));
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  break_node(run, "each#1/work", "first");
  break_node(run, "each#4/work", "second");
  EXPECT_EQ(pending_keys(run), "each#0/work each#2/work each#3/work");
  for (const auto* i : {"0", "2", "3"}) answer(run, std::string("each#") + i + "/work");
  for (const auto* i : {"0", "2"}) answer(run, std::string("each#") + i + "/check");
  EXPECT_EQ(run.status(), RunStatus::running) << "every iteration runs to its end";
  answer(run, "each#3/check");
  ASSERT_EQ(run.status(), RunStatus::failed);
  EXPECT_EQ(run.error_node(), "each");
  EXPECT_EQ(run.error(), "2 of 5 iterations failed; the first, \"b\": first");
}

TEST(WorkflowLoopPolicy, ALoopOverARefContainsAFailedIteration) {
  auto definition = load_policy_workflow(R"(name: refs
entry: each
nodes:
  - id: each
    type: loop
    items: "['p', 'q', 'r']"
    parallel: 2
    key: "'file-' + iter.item"
    ref: builtin://agent
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  EXPECT_EQ(pending_keys(run), "each#0 each#1");
  break_node(run, "each#0", "child failed");
  EXPECT_EQ(pending_keys(run), "each#1 each#2");
  answer(run, "each#2", {{"ok", true}});
  answer(run, "each#1", {{"ok", true}});
  ASSERT_EQ(run.status(), RunStatus::completed);
  EXPECT_EQ(cel::to_json(*run.output_at("each"))["_results"].dump(),
            R"({"file-p":{"_error":"child failed"},"file-q":{"ok":true},"file-r":{"ok":true}})");
}

TEST(WorkflowLoopPolicy, ASequentialItemsLoopStillFailsAtItsFirstFailedIteration) {
  auto definition = load_policy_workflow(R"(name: seq
entry: each
nodes:
  - id: each
    type: loop
    items: "[1, 2]"
    inline: {entry: w, nodes: [{id: w, type: run, command: x}]}
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context());
  break_node(run, "each#0/w", "broken");
  EXPECT_EQ(run.status(), RunStatus::failed);
  EXPECT_EQ(run.error_node(), "each.w");
}

std::string keyed(const std::string& items, const std::string& key) {
  return R"(name: keys
entry: each
nodes:
  - id: each
    type: loop
    items: ")" +
         items + R"("
    parallel: true
)" + (key.empty() ? "" : "    key: \"" + key + "\"\n") +
         R"(    inline: {entry: w, outputs: {n: "{{ iter.index }}"}, nodes: [{id: w, type: router}]}
)";
}

TEST(WorkflowLoopPolicy, KeysNameIterationsInResults) {
  auto by_index = load_policy_workflow(keyed("['a', 'b']", ""));
  ASSERT_NE(by_index, nullptr);
  Interpreter first(by_index, policy_context());
  ASSERT_EQ(first.status(), RunStatus::completed) << first.error();
  EXPECT_EQ(cel::to_json(*first.output_at("each"))["_results"].dump(),
            R"({"0":{"n":0},"1":{"n":1}})");

  auto by_field = load_policy_workflow(keyed("[{'id': 7}, {'id': 9}]", "iter.item.id"));
  ASSERT_NE(by_field, nullptr);
  Interpreter ints(by_field, policy_context());
  ASSERT_EQ(ints.status(), RunStatus::completed) << ints.error();
  EXPECT_EQ(cel::to_json(*ints.output_at("each"))["_results"].dump(),
            R"({"7":{"n":0},"9":{"n":1}})");
}

TEST(WorkflowLoopPolicy, ARepeatedOrUnusableKeyFailsTheLoop) {
  auto repeated = load_policy_workflow(keyed("['a', 'b', 'a']", "iter.item"));
  ASSERT_NE(repeated, nullptr);
  Interpreter twice(repeated, policy_context());
  ASSERT_EQ(twice.status(), RunStatus::failed);
  EXPECT_EQ(twice.error_node(), "each");
  EXPECT_EQ(twice.error(),
            "iteration 2 has the key \"a\" of iteration 0: keys name iterations in _results and "
            "must differ");

  auto listed = load_policy_workflow(keyed("[[1], [2]]", "iter.item"));
  ASSERT_NE(listed, nullptr);
  Interpreter list(listed, policy_context());
  ASSERT_EQ(list.status(), RunStatus::failed);
  EXPECT_EQ(list.error(), "the key of iteration 0 is list, not a string or an int");

  auto broken = load_policy_workflow(keyed("[1]", "iter.item.name"));
  ASSERT_NE(broken, nullptr);
  Interpreter missing(broken, policy_context());
  ASSERT_EQ(missing.status(), RunStatus::failed);
  EXPECT_NE(missing.error().find("the key of iteration 0: "), std::string::npos) << missing.error();
}

TEST(WorkflowLoopPolicy, PassthroughHandsInputsOnUnderExplicitArgs) {
  auto definition = load_policy_workflow(R"(name: pass
entry: child
inputs:
  prompt: {type: string}
  model: {type: string}
nodes:
  - id: child
    type: workflow
    ref: builtin://agent
    passthrough: [prompt, model, absent]
    args: {model: "{{ 'fixed' }}"}
  - id: each
    type: loop
    items: "[1]"
    ref: builtin://agent
    passthrough: prompt
  - id: inline_child
    type: workflow
    passthrough: prompt
    inline: {entry: r, outputs: {seen: "{{ params.prompt }}"}, nodes: [{id: r, type: router}]}
edges: [{from: child, to: each}, {from: each, to: inline_child}]
)");
  ASSERT_NE(definition, nullptr);
  Interpreter run(definition, policy_context({{"prompt", "hello"}, {"model", "big"}}));
  ASSERT_EQ(pending_keys(run), "child");
  EXPECT_EQ(cel::to_json(run.pending()[0].args).dump(), R"({"model":"fixed","prompt":"hello"})");
  answer(run, "child");
  ASSERT_EQ(pending_keys(run), "each#0");
  EXPECT_EQ(cel::to_json(run.pending()[0].args)["prompt"], "hello");
  answer(run, "each#0");
  ASSERT_EQ(run.status(), RunStatus::completed) << run.error();
  EXPECT_EQ(cel::to_json(*run.output_at("inline_child")).dump(), R"({"seen":"hello"})");
}

TEST(WorkflowLoopPolicy, ActionsCarryTheirNodesOwnFailurePolicy) {
  auto definition = load_policy_workflow(R"(name: carried
entry: a
on_failure: pause
nodes:
  - {id: a, type: run, command: x, on_failure: fail}
  - {id: b, type: call_llm}
  - id: each
    type: loop
    items: "[1]"
    parallel: 2
    on_failure: fail_all
    inline: {entry: w, nodes: [{id: w, type: run, command: y, on_failure: pause}]}
edges: [{from: a, to: b}, {from: b, to: each}]
)");
  ASSERT_NE(definition, nullptr);
  EXPECT_EQ(definition->on_failure, FailurePolicy::pause);
  Interpreter run(definition, policy_context());
  ASSERT_EQ(pending_keys(run), "a");
  EXPECT_EQ(run.pending()[0].on_failure, FailurePolicy::fail);
  answer(run, "a");
  EXPECT_EQ(run.pending()[0].on_failure, std::nullopt) << "the workflow's default is the host's";
  answer(run, "b");
  ASSERT_EQ(pending_keys(run), "each#0/w");
  EXPECT_EQ(run.pending()[0].on_failure, FailurePolicy::pause);
}

}  // namespace
}  // namespace reliant::workflow
