// The workflow language on the engine (core/workflow/engine_workflow.h), driven the way a
// worker drives it: decide_next over the folded history, activities answered by the test,
// signals and timers appended as the store appends them. Every decision is re-run on the same
// history to check it adds nothing: no node is issued twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/engine/run_state.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/engine_workflow.h"
#include "unit/core/engine_run.h"

namespace reliant::workflow {
namespace {

using engine::EventKind;
using Json = nlohmann::json;

using testing::EngineRun;
using testing::source;

constexpr const char* kBuildThenApprove = R"(name: ship
inputs:
  target: {type: string, default: all}
entry: build
nodes:
  - {id: build, type: run, command: "make {{ inputs.target }}", timeout: 2m}
  - {id: approve, type: approval, title: "Deploy?", timeout: 1h}
  - {id: deploy, type: run, command: deploy, daemon: {type: cloud}}
edges:
  - {from: build, to: approve}
  - from: approve
    cases:
      - {to: deploy, condition: "nodes.approve.status == 'approved'"}
outputs:
  built: "{{ nodes.build.exit_code == 0 }}"
  deployed: "{{ has(nodes.deploy) }}"
)";

TEST(WorkflowEngine, RunsOfOneTextShareItsDefinition) {
  RunRequest request;
  request.file = "one.yaml";
  request.source = "name: one\nentry: a\nnodes:\n  - {id: a, type: run, command: 'true'}\n";
  auto first = load_run_definition(request);
  auto again = load_run_definition(request);
  ASSERT_TRUE(first.has_value() && again.has_value());
  EXPECT_EQ(first->get(), again->get()) << "parsed once";
  // Another name or another text is another definition.
  request.file = "two.yaml";
  auto renamed = load_run_definition(request);
  ASSERT_TRUE(renamed.has_value());
  EXPECT_NE(first->get(), renamed->get());
  request.source += "  - {id: b, type: run, command: 'true'}\n";
  auto longer = load_run_definition(request);
  ASSERT_TRUE(longer.has_value());
  EXPECT_EQ((*longer)->graph->nodes.size(), 2u);
  // An invalid text fails every time, with its place.
  request.source = "name: bad\nentry: a\nnodes:\n  - {id: a, type: nope}\n";
  for (int i = 0; i < 2; ++i) {
    auto bad = load_run_definition(request);
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("two.yaml:4:"), std::string::npos) << bad.error().message;
  }
}

TEST(WorkflowEngine, WorkNodesAreActivitiesAndApprovalsWaitForTheirSignal) {
  EngineRun run(source(kBuildThenApprove, Json{{"target", "web"}}));
  const auto* build = run.activity("build");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ(build->name, "node.run");
  EXPECT_EQ(build->input["args"]["command"], "make web");
  EXPECT_EQ(build->input["run"]["project_id"], "p1");
  EXPECT_EQ(build->input["thread_id"], "");  // the run's main thread
  run.complete("build", Json{{"exit_code", 0}, {"stdout", "ok"}, {"stderr", ""}});

  // The approval is no activity: the run waits, with its timeout as a tagged timer.
  EXPECT_TRUE(run.pending_paths().empty());
  ASSERT_EQ(run.state().timers.size(), 1U);
  const std::string approval_key = run.state().timers.begin()->second.tag;
  EXPECT_EQ(approval_key, "approve");
  EXPECT_FALSE(run.state().terminal.has_value());
  // What the API shows a person: the node that waits, with its args.
  auto waiting = waiting_nodes(run.state());
  ASSERT_TRUE(waiting.has_value());
  ASSERT_EQ(waiting->size(), 1U);
  EXPECT_EQ((*waiting)[0].key, "approve");
  EXPECT_EQ((*waiting)[0].type, NodeType::approval);
  EXPECT_EQ((*waiting)[0].args["title"], "Deploy?");

  // Signals for other keys, or of other names, change nothing.
  run.signal(std::string(kAnswerSignal),
             Json{{"key", "nope"}, {"output", {{"status", "approved"}}}});
  run.signal("other", Json{{"key", approval_key}, {"output", {{"status", "approved"}}}});
  EXPECT_TRUE(run.pending_paths().empty());

  run.signal(std::string(kAnswerSignal),
             Json{{"key", approval_key}, {"output", {{"status", "approved"}, {"message", "go"}}}});
  const auto* deploy = run.activity("deploy");
  ASSERT_NE(deploy, nullptr);
  EXPECT_TRUE(waiting_nodes(run.state())->empty());
  EXPECT_EQ(deploy->input["daemon"], (Json{{"type", "cloud"}}));
  // The timer fires after the answer: too late to matter.
  run.fire_timers();
  ASSERT_NE(run.activity("deploy"), nullptr);
  run.complete("deploy", Json{{"exit_code", 0}, {"stdout", ""}, {"stderr", ""}});

  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"],
            (Json{{"outcome", "completed"}, {"outputs", {{"built", true}, {"deployed", true}}}}));
}

TEST(WorkflowEngine, ADeniedApprovalTakesNoEdgeAndTheRunCompletes) {
  EngineRun run(source(kBuildThenApprove));
  run.complete("build", Json{{"exit_code", 0}});
  run.signal(std::string(kAnswerSignal),
             Json{{"key", "approve"}, {"output", {{"status", "denied"}, {"message", "no"}}}});
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"]["outputs"]["deployed"], false);
}

// An approval nobody answers in time ends with status "timeout", as Reliant's approvals do: no
// edge on approved or denied is taken, and the run goes on (here: it completes, not deployed).
TEST(WorkflowEngine, AnApprovalNobodyAnswersEndsWithStatusTimeout) {
  EngineRun run(source(kBuildThenApprove));
  run.complete("build", Json{{"exit_code", 0}});
  run.fire_timers();
  ASSERT_EQ(run.state().terminal, EventKind::run_completed) << run.end();
  EXPECT_EQ(run.end()["result"]["outputs"]["deployed"], false);
  EXPECT_TRUE(run.pending_paths().empty()) << "deploy never scheduled";
  auto nodes = node_states(run.state());
  ASSERT_TRUE(nodes.has_value());
  ASSERT_FALSE(nodes->empty());
  EXPECT_EQ(nodes->back()["key"], "approve");
  EXPECT_EQ(nodes->back()["status"], "completed");
  EXPECT_EQ(nodes->back()["output"]["status"], "timeout");
  // And a late answer finds the run over.
  EXPECT_TRUE(engine::decide_next(run.state(), nullptr, 0).empty());
}

// A node whose condition is false is skipped: its state says so, beside what ran and what
// waits, while the run goes on and after it ended.
TEST(WorkflowEngine, NodeStatesNameTheNodesAConditionSkipped) {
  EngineRun run(source(R"(name: skip
entry: build
nodes:
  - {id: build, type: run, command: make}
  - {id: lint, type: run, command: "make lint", condition: "1 > 2"}
  - {id: approve, type: approval, title: "Ship?"}
edges:
  - {from: build, to: lint}
  - {from: lint, to: approve}
)"));
  run.complete("build", Json{{"exit_code", 0}, {"stdout", ""}, {"stderr", ""}});
  auto status_of = [&](const Json& nodes, const std::string& key) {
    std::string found;
    for (const auto& node : nodes) {
      if (node["key"] == key) found = node["status"];
    }
    return found;
  };
  auto nodes = node_states(run.state());
  ASSERT_TRUE(nodes.has_value());
  EXPECT_EQ(status_of(*nodes, "build"), "completed") << nodes->dump();
  EXPECT_EQ(status_of(*nodes, "lint"), "skipped") << nodes->dump();
  EXPECT_EQ(status_of(*nodes, "approve"), "waiting") << nodes->dump();
  EXPECT_EQ(run.activity("lint"), nullptr) << "a skipped node does not run";
  run.signal(std::string(kAnswerSignal),
             Json{{"key", "approve"}, {"output", {{"status", "approved"}, {"message", ""}}}});
  ASSERT_EQ(run.state().terminal, EventKind::run_completed) << run.end();
  nodes = node_states(run.state());
  ASSERT_TRUE(nodes.has_value());
  EXPECT_EQ(status_of(*nodes, "lint"), "skipped") << nodes->dump();
  EXPECT_EQ(status_of(*nodes, "approve"), "completed") << nodes->dump();
}

// A question nobody answers in time fails its node, and the run.
TEST(WorkflowEngine, AQuestionNobodyAnswersFailsTheRunAtItsTimeout) {
  EngineRun run(source(R"(name: ask
entry: q
nodes:
  - {id: q, type: ask_question, question: "Which branch?", timeout: 5m}
)"));
  run.fire_timers();
  ASSERT_EQ(run.state().terminal, EventKind::run_failed);
  EXPECT_NE(run.end()["error"].get<std::string>().find("no answer within its timeout"),
            std::string::npos)
      << run.end();
  auto nodes = node_states(run.state());
  ASSERT_TRUE(nodes.has_value());
  EXPECT_EQ(nodes->back()["status"], "failed");
}

// A timeout that fires after the answer changes nothing, and shows nowhere.
TEST(WorkflowEngine, ATimeoutAfterTheAnswerChangesNothing) {
  EngineRun run(source(kBuildThenApprove));
  run.complete("build", Json{{"exit_code", 0}});
  run.signal(std::string(kAnswerSignal),
             Json{{"key", "approve"}, {"output", {{"status", "approved"}, {"message", ""}}}});
  run.fire_timers();
  ASSERT_NE(run.activity("deploy"), nullptr);
  auto nodes = node_states(run.state());
  ASSERT_TRUE(nodes.has_value());
  int approvals = 0;
  for (const auto& node : *nodes) approvals += node["key"] == "approve" ? 1 : 0;
  EXPECT_EQ(approvals, 1);
  auto events = node_events(run.history(), 0);
  ASSERT_TRUE(events.has_value());
  for (const auto& event : *events) {
    EXPECT_FALSE(event["key"] == "approve" && event["kind"] == "node_failed") << event;
  }
}

// Reliant's examples give an approval's timeout in its args, beside its title.
TEST(WorkflowEngine, AnApprovalsTimeoutMayStandInItsArgs) {
  EngineRun run(source(R"(name: gate
entry: approve
nodes:
  - id: approve
    type: approval
    args: {title: "Go?", timeout: 90s}
)"));
  ASSERT_EQ(run.state().timers.size(), 1u);
  const auto& timer = run.state().timers.begin()->second;
  EXPECT_EQ(timer.tag, "approve");
  EXPECT_EQ(timer.fire_at_ms, 1'010 + 90'000) << "started by the first decision, at 1010 ms";
  run.fire_timers();
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.state().timers.begin()->second.info["node_type"], "approval");
}

// A cancelled run says why, as the first request gave it (a later one changes nothing).
TEST(WorkflowEngine, ACancelledRunEndsWithTheReasonItWasCancelledFor) {
  EngineRun run(source(kBuildThenApprove));
  run.cancel("its parent run was cancelled");
  ASSERT_EQ(run.state().terminal, EventKind::run_cancelled);
  EXPECT_EQ(run.end()["reason"], "its parent run was cancelled");
}

TEST(WorkflowEngine, ANodeWhoseActivityFailsFailsTheRunNamingIt) {
  EngineRun run(source(kBuildThenApprove));
  run.fail("build", "exit status 2");
  ASSERT_EQ(run.state().terminal, EventKind::run_failed);
  const std::string error = run.end()["error"];
  EXPECT_NE(error.find("build"), std::string::npos) << error;
  EXPECT_NE(error.find("exit status 2"), std::string::npos) << error;
}

TEST(WorkflowEngine, ParallelBranchesAreScheduledTogetherAndAnsweredInAnyOrder) {
  EngineRun run(source(R"(name: fan
entry: a
nodes:
  - {id: a, type: run, command: a}
  - {id: b, type: run, command: b}
  - {id: c, type: run, command: c}
  - {id: done, type: join}
edges:
  - {from: a, to: b}
  - {from: a, to: c}
  - {from: b, to: done}
  - {from: c, to: done}
outputs:
  order: "{{ [nodes.b.stdout, nodes.c.stdout] }}"
)"));
  run.complete("a", Json{{"stdout", "a"}});
  EXPECT_EQ(run.pending_paths(), (std::vector<std::string>{"b", "c"}));
  run.complete("c", Json{{"stdout", "C"}});
  EXPECT_FALSE(run.state().terminal.has_value());  // the join waits for b
  run.complete("b", Json{{"stdout", "B"}});
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"]["outputs"]["order"], (Json{"B", "C"}));
}

TEST(WorkflowEngine, LoopIterationsAreActivitiesOfTheirOwn) {
  EngineRun run(source(R"(name: retry
entry: attempts
nodes:
  - id: attempts
    type: loop
    while: outputs.code != 0 && iter.iteration < 3
    inline:
      entry: test
      nodes:
        - {id: test, type: run, command: make test}
      outputs:
        code: "{{ nodes.test.exit_code }}"
)"));
  for (int code : {2, 1, 0}) {
    const auto* test = run.activity("attempts.test");
    ASSERT_NE(test, nullptr);
    run.complete("attempts.test", Json{{"exit_code", code}});
  }
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  std::vector<std::string> keys;
  for (const auto& [seq, a] : run.state().activities) keys.push_back(a.input["key"]);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"attempts#0/test", "attempts#1/test", "attempts#2/test"}));
}

TEST(WorkflowEngine, SavedMessagesAreStoredBeforeTheRunEnds) {
  EngineRun run(source(R"(name: note
entry: a
nodes:
  - id: a
    type: run
    command: date
    save_message:
      role: assistant
      content: "ran: {{ output.stdout }}"
)"));
  run.complete("a", Json{{"stdout", "Tuesday"}});
  // The node is done, its message's activity is pending, and the run waits for it.
  const auto* save = run.activity("a");
  ASSERT_NE(save, nullptr);
  EXPECT_EQ(save->name, "node.save_message");
  EXPECT_EQ(save->input["key"], "save:a");
  EXPECT_EQ(save->input["args"]["content"], "ran: Tuesday");
  EXPECT_FALSE(run.state().terminal.has_value());
  run.complete("a", Json::object());
  EXPECT_EQ(run.state().terminal, EventKind::run_completed);
}

TEST(WorkflowEngine, BuiltinAgentRunsTurnsUntilAnAnswerWithoutToolCalls) {
  RunRequest request;
  request.ref = "builtin://agent";
  request.inputs = Json{{"mode", "auto"}};
  EngineRun run(request);
  // The model asks for a tool once, then answers; every other node (tools, messages) succeeds.
  std::vector<Json> answers = {
      Json{{"response_text", ""},
           {"tool_calls",
            Json::array({{{"id", "t1"}, {"name", "bash"}, {"input", Json::object()}}})}},
      Json{{"response_text", "done"}, {"tool_calls", Json::array()}}};
  std::vector<std::string> names;
  for (int step = 0; step < 20 && !run.state().terminal; ++step) {
    const engine::ActivityState* next = nullptr;
    for (const auto& [seq, a] : run.state().activities) {
      if (a.status == engine::ActivityState::Status::pending) {
        next = &a;
        break;
      }
    }
    ASSERT_NE(next, nullptr) << "the run waits for nothing";
    names.push_back(next->name);
    Json result = Json::object();
    if (next->name == "node.call_llm") {
      ASSERT_FALSE(answers.empty());
      EXPECT_GT(next->input["args"].size(), 0U);
      result = answers.front();
      answers.erase(answers.begin());
    }
    run.complete(next->input["path"], result);
  }
  ASSERT_EQ(run.state().terminal, EventKind::run_completed) << Json(names);
  EXPECT_EQ(run.end()["result"]["outputs"]["answer"], "done");
  EXPECT_EQ(run.end()["result"]["outputs"]["turns"], 2);
  EXPECT_EQ(std::count(names.begin(), names.end(), "node.call_llm"), 2) << Json(names);
  EXPECT_EQ(std::count(names.begin(), names.end(), "node.execute_tools"), 1) << Json(names);
}

TEST(WorkflowEngine, BadDefinitionsAndInputsFailTheRunWithTheirPlace) {
  {
    EngineRun run(source("name: x\nentry: a\nnodes:\n  - {id: a, type: nope}\n"));
    ASSERT_EQ(run.state().terminal, EventKind::run_failed);
    const std::string error = run.end()["error"];
    EXPECT_NE(error.find("test.yaml:4:"), std::string::npos) << error;
  }
  {
    EngineRun run(source(kBuildThenApprove, Json{{"target", 3}}));
    ASSERT_EQ(run.state().terminal, EventKind::run_failed);
    EXPECT_NE(run.end()["error"].get<std::string>().find("target"), std::string::npos) << run.end();
  }
  RunRequest unknown;
  unknown.ref = "builtin://nope";
  EngineRun run(unknown);
  ASSERT_EQ(run.state().terminal, EventKind::run_failed);
  EXPECT_NE(run.end()["error"].get<std::string>().find("builtin://nope"), std::string::npos);
  EXPECT_FALSE(run_request_from_json(Json{{"ref", "project://x"}}).has_value());
  EXPECT_FALSE(
      run_request_from_json(Json{{"source", "a"}, {"ref", "builtin://agent"}}).has_value());
  EXPECT_FALSE(run_request_from_json(Json{{"source", "a"}, {"extra", 1}}).has_value());
}

TEST(WorkflowEngine, AChatsRunRecordsItsEndOnTheChatBeforeItEnds) {
  constexpr const char* kOneCommand = R"(name: one
entry: build
nodes:
  - {id: build, type: run, command: make}
)";
  for (const bool succeeds : {true, false}) {
    RunRequest request = source(kOneCommand);
    request.user_id = "u1";
    request.context["chat_id"] = "c1";
    EngineRun run(request);
    if (succeeds) {
      run.complete("build", Json{{"exit_code", 0}, {"stdout", ""}, {"stderr", ""}});
    } else {
      run.fail("build", "boom");
    }
    // The chat's step comes first; the run ends once it is done.
    const auto* finish = run.activity("");
    ASSERT_NE(finish, nullptr);
    EXPECT_EQ(finish->name, "chat_finish");
    EXPECT_EQ(finish->input["chat_id"], "c1");
    EXPECT_EQ(finish->input["user_id"], "u1");
    EXPECT_EQ(finish->input["outcome"], succeeds ? "completed" : "failed");
    EXPECT_FALSE(run.state().terminal.has_value());
    run.complete("", Json::object());
    EXPECT_EQ(run.state().terminal, succeeds ? EventKind::run_completed : EventKind::run_failed);
    // The chat's step is no node.
    auto nodes = node_states(run.state());
    ASSERT_TRUE(nodes.has_value());
    EXPECT_EQ(nodes->size(), 1U) << nodes->dump();
  }
  // A child run (a sub-workflow's) leaves the chat to its parent.
  RunRequest child = source(kOneCommand);
  child.context["chat_id"] = "c1";
  child.context["parent_run_id"] = "r0";
  EngineRun run(child);
  run.complete("build", Json{{"exit_code", 0}, {"stdout", ""}, {"stderr", ""}});
  EXPECT_EQ(run.state().terminal, EventKind::run_completed);
}

TEST(WorkflowEngine, NodesNameTheThreadTheyTalkOn) {
  constexpr const char* kThreads = R"(name: threads
nodes:
  - id: plan
    type: call_llm
    thread: {mode: fork}
  - id: fresh
    type: call_llm
    thread: {mode: new}
  - id: main
    type: call_llm
edges: []
entry: [plan, fresh, main]
)";
  RunRequest request = source(kThreads);
  EngineRun top(request);
  ASSERT_NE(top.activity("plan"), nullptr) << top.pending_paths().size();
  EXPECT_EQ(top.activity("plan")->input["thread_id"], "plan");
  EXPECT_EQ(top.activity("plan")->input["thread_from"], "");  // a fork of the main thread
  EXPECT_EQ(top.activity("fresh")->input["thread_id"], "fresh");
  EXPECT_FALSE(top.activity("fresh")->input.contains("thread_from"));
  EXPECT_EQ(top.activity("main")->input["thread_id"], "");
  // A child run talks on its node's thread and names its own threads under the node's key.
  request.context["thread"] = "plan";
  request.context["thread_prefix"] = "work/";
  EngineRun child(request);
  EXPECT_EQ(child.activity("plan")->input["thread_id"], "work/plan");
  EXPECT_EQ(child.activity("plan")->input["thread_from"], "plan");
  EXPECT_EQ(child.activity("main")->input["thread_id"], "plan");
}

TEST(WorkflowEngine, NodeTimeoutsBecomeStartToCloseLimits) {
  auto options = activity_options(NodeType::run, std::string("2m"));
  ASSERT_TRUE(options.has_value());
  EXPECT_EQ(options->start_to_close, minutes(2));
  EXPECT_GT(activity_options(NodeType::call_llm, std::nullopt)->heartbeat_timeout,
            Duration::zero());
  EXPECT_FALSE(activity_options(NodeType::run, std::string("soon")).has_value());
  EXPECT_FALSE(activity_options(NodeType::run, std::string("-1s")).has_value());
}

}  // namespace
}  // namespace reliant::workflow

namespace reliant::workflow {
namespace {

// The child run's end, as the engine's close of a child run signals its parent.
Json child_ended(const std::string& key, const std::string& run_id, const std::string& status,
                 Json outputs = Json::object(), std::string error = "") {
  return Json{
      {"key", key},
      {"run_id", run_id},
      {"status", status},
      {"result",
       status == "completed" ? Json{{"outcome", "completed"}, {"outputs", outputs}} : Json()},
      {"error", status == "completed" ? Json() : Json(error)}};
}

constexpr const char* kCallsAChild = R"(name: parent
entry: child
nodes:
  - {id: child, type: workflow, ref: "builtin://agent"}
outputs:
  got: "{{ nodes.child.answer }}"
  run: "{{ nodes.child.run_id }}"
)";

// A `workflow` node's activity only starts the child: the node then waits, holding no
// activity, until the child's end arrives as a signal (issue 38: every waiting parent held a
// worker slot for up to 24 h).
TEST(WorkflowEngine, AWorkflowNodeWaitsForItsChildsEndAsStateNotAsAnActivity) {
  EngineRun run(source(kCallsAChild));
  const auto* start = run.activity("child");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->name, "node.workflow");
  run.complete("child", Json{{std::string(kChildRunStartedKey), "run-1-2"}});
  EXPECT_FALSE(run.state().terminal.has_value());
  EXPECT_TRUE(run.pending_paths().empty()) << "the parent holds no activity while it waits";
  auto states = node_states(run.state());
  ASSERT_TRUE(states.has_value());
  ASSERT_FALSE(states->empty());
  EXPECT_EQ((*states)[0]["status"], "running");
  EXPECT_EQ((*states)[0]["child_run_id"], "run-1-2");
  auto events = node_events(run.history(), 0);
  ASSERT_TRUE(events.has_value());
  for (const auto& e : *events) EXPECT_NE(e["kind"], "node_completed") << e.dump();

  run.signal(std::string(engine::kChildEndedSignal),
             child_ended("child", "run-1-2", "completed", Json{{"answer", 42}}));
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"]["outputs"]["got"], 42);
  EXPECT_EQ(run.end()["result"]["outputs"]["run"], "run-1-2");
  events = node_events(run.history(), 0);
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(std::any_of(events->begin(), events->end(), [](const Json& e) {
    return e["kind"] == "node_completed" && e["key"] == "child" && e["output"]["answer"] == 42;
  })) << events->dump();
}

TEST(WorkflowEngine, AChildThatFailsOrIsCancelledFailsItsNode) {
  for (const std::string status : {"failed", "cancelled"}) {
    EngineRun run(source(kCallsAChild));
    run.complete("child", Json{{std::string(kChildRunStartedKey), "run-1-2"}});
    // An end that names no node of this run, or a malformed one, changes nothing.
    run.signal(std::string(engine::kChildEndedSignal), child_ended("other", "x", "completed"));
    run.signal(std::string(engine::kChildEndedSignal), Json{{"key", 7}});
    EXPECT_FALSE(run.state().terminal.has_value());
    run.signal(std::string(engine::kChildEndedSignal),
               child_ended("child", "run-1-2", status, Json(), "boom"));
    ASSERT_EQ(run.state().terminal, EventKind::run_failed) << status;
    EXPECT_EQ(run.end()["error"], "child: child run run-1-2 " + status + ": boom");
  }
}

// A child started before parents waited as state ended before its parent's attempt looked:
// the attempt answers with the child's outputs, as it always did.
TEST(WorkflowEngine, AnAttemptThatAnswersWithTheChildsOutputsCompletesTheNode) {
  EngineRun run(source(kCallsAChild));
  run.complete("child", child_outputs(Json{{"outputs", {{"answer", 7}}}}, "run-1-2"));
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"]["outputs"]["got"], 7);
}

// A parallel loop over 200 items runs at most kRunActivitiesInFlightMax of its activities at
// once, in item order, and the rest as those are answered.
TEST(WorkflowEngine, AWideParallelLoopStreamsItsItemsThroughABoundedWindow) {
  EngineRun run(source(R"(name: wide
inputs:
  items: {type: array}
entry: each
nodes:
  - id: each
    type: loop
    items: "{{ inputs.items }}"
    parallel: true
    inline:
      entry: work
      nodes:
        - {id: work, type: run, command: "echo {{ iter.item }}"}
      outputs:
        out: "{{ nodes.work.stdout }}"
outputs:
  n: "{{ size(nodes.each.results) }}"
)",
                       Json{{"items", [] {
                               Json items = Json::array();
                               for (int i = 0; i < 200; ++i) items.push_back(i);
                               return items;
                             }()}}));
  for (int done = 0; done < 200; ++done) {
    const auto pending = run.state().pending_activities();
    ASSERT_EQ(pending, std::min<std::size_t>(kRunActivitiesInFlightMax, 200 - done)) << done;
    // Answer the oldest; the window moves on in item order.
    const engine::ActivityState* oldest = nullptr;
    for (const auto& [seq, a] : run.state().activities) {
      if (a.status == engine::ActivityState::Status::pending) {
        oldest = &a;
        break;
      }
    }
    ASSERT_NE(oldest, nullptr);
    EXPECT_EQ(oldest->input["key"], "each#" + std::to_string(done) + "/work");
    run.complete("each.work", Json{{"stdout", std::to_string(done)}});
  }
  ASSERT_EQ(run.state().terminal, EventKind::run_completed);
  EXPECT_EQ(run.end()["result"]["outputs"]["n"], 200);
}

// A loop over a referenced workflow starts its children 64 at a time: a child's activity ends
// as soon as it started, so the bound is on children not yet ended.
TEST(WorkflowEngine, AtMostSixtyFourChildRunsOfOneRunAreOpenAtOnce) {
  EngineRun run(source(R"(name: fan
entry: each
nodes:
  - {id: each, type: loop, items: "{{ [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70] }}", parallel: true, ref: "builtin://agent"}
)"));
  ASSERT_EQ(run.state().pending_activities(), kRunActivitiesInFlightMax);
  for (std::size_t i = 0; i < kRunActivitiesInFlightMax; ++i) {
    run.complete("each", Json{{std::string(kChildRunStartedKey), "child-" + std::to_string(i)}});
  }
  EXPECT_EQ(run.state().pending_activities(), 0u) << "64 children run: no 65th starts";
  run.signal(std::string(engine::kChildEndedSignal), child_ended("each#3", "child-3", "completed"));
  EXPECT_EQ(run.state().pending_activities(), 1u) << "one ended: one more starts";
  EXPECT_NE(run.activity("each"), nullptr);
}

// Two workers decide one run in turns. The first keeps its interpreter from a decision before
// the child node was scheduled; the second schedules the child, and the child starts and ends,
// before the first decides again. The first's memo must count that child open before its end
// closes it (the simulator's workflow_cloud_placement found it aborting on an assertion), and
// decide what a fresh replay decides.
TEST(WorkflowEngine, AKeptInterpreterCountsAChildAnotherWorkerStartedAndEnded) {
  EngineRun run(source(R"(name: parent
entry: prepare
nodes:
  - {id: prepare, type: run, command: make}
  - {id: child, type: workflow, ref: "builtin://agent"}
  - {id: finish, type: run, command: ship}
edges:
  - {from: prepare, to: child}
  - {from: child, to: finish}
)"));
  EngineWorkflow workflow;
  engine::RunState kept;  // the first worker's copy, its memo made at this point
  for (const auto& event : run.history()) ASSERT_TRUE(kept.apply(event).has_value());
  (void)engine::decide_next(kept, &workflow, 1'000);
  const std::int64_t kept_through = kept.last_seq;

  run.complete("prepare", Json{{"stdout", "made"}});
  run.complete("child", Json{{std::string(kChildRunStartedKey), "run-1-4"}});
  // The child's end arrives; the run now waits for `finish`, decided below by the kept memo.
  const engine::HistoryEvent ended{run.state().last_seq + 1, EventKind::signal_received,
                                   Json{{"name", std::string(engine::kChildEndedSignal)},
                                        {"payload", child_ended("child", "run-1-4", "completed")}},
                                   5'000};
  for (const auto& event : run.history()) {
    if (event.seq <= kept_through) continue;
    ASSERT_TRUE(kept.apply(event).has_value());
  }
  ASSERT_TRUE(kept.apply(ended).has_value());
  const engine::RunState fresh = kept;  // a copy has no memo: it replays
  const auto replayed = engine::decide_next(fresh, &workflow, 5'000);
  const auto decided = engine::decide_next(kept, &workflow, 5'000);
  ASSERT_EQ(decided.size(), replayed.size());
  for (std::size_t i = 0; i < decided.size(); ++i) EXPECT_EQ(decided[i].body, replayed[i].body);
  ASSERT_FALSE(decided.empty());
  EXPECT_EQ(decided[0].body.value("input", Json::object()).value("path", ""), "finish");
}

}  // namespace
}  // namespace reliant::workflow

namespace reliant::workflow {
namespace {

// The builtin agent driven by scripted answers: model calls take `turns` in order, a tools node
// answers with `spawned` when its call was a spawn. Returns the activities' names in order.
struct AgentDriver {
  EngineRun& run;
  std::vector<Json> turns;
  std::vector<std::string> names;
  std::vector<Json> told;  // what the `tell` nodes stored

  // Completes pending activities until none is left (the run waits, or ended), or until a tools
  // node when no `spawned` list is given for it.
  void drain(const Json& spawned = Json::array()) {
    for (int step = 0; step < 40 && !run.state().terminal; ++step) {
      const engine::ActivityState* next = nullptr;
      for (const auto& [seq, a] : run.state().activities) {
        if (a.status == engine::ActivityState::Status::pending) {
          next = &a;
          break;
        }
      }
      if (next == nullptr) return;
      names.push_back(next->name);
      Json result = Json::object();
      if (next->name == "node.call_llm") {
        ASSERT_FALSE(turns.empty()) << Json(names);
        result = turns.front();
        turns.erase(turns.begin());
      } else if (next->name == "node.execute_tools") {
        if (spawned.empty()) return;  // the tools node still runs: the test completes it later
        result[std::string(kSpawnedField)] = spawned;
      } else if (next->input.value("node_id", "") == "tell") {
        told.push_back(next->input["args"]);
      }
      run.complete(next->input["path"], result);
    }
  }
};

Json spawn_call(const std::string& id) {
  return Json{
      {"response_text", ""},
      {"tool_calls", Json::array({{{"id", id}, {"name", "spawn"}, {"input", Json::object()}}})}};
}

TEST(WorkflowEngine, AnAgentWaitsForItsSubAgentsAndHearsEachReportOnALaterTurn) {
  RunRequest request;
  request.ref = "builtin://agent";
  request.inputs = Json{{"spawn_presets", Json::array({"general"})}};
  EngineRun run(request);
  AgentDriver agent{
      run,
      {spawn_call("c1"), Json{{"response_text", "started them"}},
       Json{{"response_text", "one is done"}}, Json{{"response_text", "both are done"}}},
      {},
      {}};
  // The model spawns two; the tools node reports them; the model answers without tools.
  agent.drain(Json::array({{{"agent_id", "a1"}, {"preset", "general"}, {"title", "one"}},
                           {{"agent_id", "a2"}, {"preset", "general"}, {"title", "two"}}}));
  ASSERT_FALSE(run.state().terminal.has_value()) << "the agent ended with sub-agents running";
  EXPECT_TRUE(run.pending_paths().empty()) << "it waits as state, holding no activity";
  auto states = node_states(run.state());
  ASSERT_TRUE(states.has_value());
  EXPECT_EQ(states->back()["type"], "inbox");
  EXPECT_EQ(states->back()["running"], 2);

  // a1's end reaches it as a report; the next turn answers; it waits again for a2.
  run.signal(std::string(engine::kChildEndedSignal),
             Json{{"key", "spawn/general"},
                  {"run_id", "a1"},
                  {"status", "completed"},
                  {"result", {{"outputs", {{"answer", "found it"}}}}}});
  agent.drain();
  ASSERT_EQ(agent.told.size(), 1U);
  EXPECT_EQ(agent.told[0]["content"], "[general] found it");
  EXPECT_EQ(agent.told[0]["role"], "user");
  ASSERT_FALSE(run.state().terminal.has_value());

  // A message from its parent and a2's cancellation arrive together: one report of both.
  run.signal(std::string(kAgentMessageSignal), Json{{"from", "parent"}, {"text", "hurry"}});
  agent.drain();
  ASSERT_EQ(agent.told.size(), 2U) << "a message is heard too";
  EXPECT_EQ(agent.told[1]["content"], "[message from your parent agent] hurry");
  run.signal(std::string(engine::kChildEndedSignal),
             Json{{"key", "spawn/general"},
                  {"run_id", "a2"},
                  {"status", "cancelled"},
                  {"error", "stopped by the agent that started it"}});
  agent.turns.push_back(Json{{"response_text", "all done"}});
  agent.drain();
  ASSERT_EQ(run.state().terminal, EventKind::run_completed) << Json(agent.names);
  ASSERT_EQ(agent.told.size(), 3U);
  EXPECT_EQ(agent.told[2]["content"],
            "[general] agent a2 was stopped: stopped by the agent that started it");
  // A sub-agent's end is no node of the run's.
  auto events = node_events(run.history(), 0);
  ASSERT_TRUE(events.has_value());
  for (const auto& e : *events) EXPECT_FALSE(e.value("key", "").starts_with("spawn/")) << e.dump();
}

TEST(WorkflowEngine, AnEndThatArrivesBeforeItsSpawnIsReportedIsNotCountedRunning) {
  RunRequest request;
  request.ref = "builtin://agent";
  request.inputs = Json{{"spawn_presets", Json::array({"general"})}};
  EngineRun run(request);
  AgentDriver agent{run,
                    {spawn_call("c1"), Json{{"response_text", "heard it"}},
                     Json{{"response_text", "nothing more"}}},
                    {},
                    {}};
  agent.drain();  // the model's first turn: the tools node is pending
  ASSERT_NE(run.activity("turns.use_tools"), nullptr);
  // The sub-agent ended while its tools node still ran.
  run.signal(
      std::string(engine::kChildEndedSignal),
      Json{{"key", "spawn/general"}, {"run_id", "a1"}, {"status", "failed"}, {"error", "boom"}});
  agent.drain(Json::array({{{"agent_id", "a1"}, {"preset", "general"}, {"title", "t"}}}));
  ASSERT_EQ(run.state().terminal, EventKind::run_completed) << Json(agent.names);
  ASSERT_EQ(agent.told.size(), 1U);
  EXPECT_EQ(agent.told[0]["content"], "[general] agent a1 failed: boom");
}

TEST(AgentInbox, CountsRunningSubAgentsAndBoundsWhatOneAnswerTells) {
  AgentInbox inbox;
  inbox.add({InboxEvent::Kind::started, "a", "general", "one", "", ""});
  inbox.add({InboxEvent::Kind::ended, "b", "general", "", "completed", "early"});
  inbox.add({InboxEvent::Kind::started, "b", "general", "two", "", ""});
  EXPECT_EQ(inbox.running(), 1U);
  inbox.add({InboxEvent::Kind::ended, "b", "general", "", "completed", "again"});  // duplicate
  for (std::size_t i = 0; i < kInboxReportsMax + 3; ++i)
    inbox.add({InboxEvent::Kind::message, "parent", "", "", "",
               std::string(kInboxReportBytesMax + 10, 'x')});
  const Json first = cel::to_json(inbox.take());
  EXPECT_EQ(first["reports"].size(), kInboxReportsMax);
  EXPECT_EQ(first["reports"][0]["title"], "two");
  EXPECT_EQ(first["reports"][0]["text"], "early");
  EXPECT_EQ(first["running"], 1);
  EXPECT_LE(first["reports"][1]["text"].get<std::string>().size(), kInboxReportBytesMax + 3);
  EXPECT_EQ(cel::to_json(inbox.take())["reports"].size(), 4U);  // the rest, next time
  EXPECT_FALSE(inbox.has_reports());
  EXPECT_TRUE(is_report_text("[researcher] it is in main.cc"));
  EXPECT_FALSE(is_report_text("list the files"));
  EXPECT_FALSE(is_report_text("[]"));
}

}  // namespace
}  // namespace reliant::workflow
