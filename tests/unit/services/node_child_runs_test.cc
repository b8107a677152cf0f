// `workflow` nodes on the engine (services/agent/node_child_runs.cc), in virtual time: a
// project:// or builtin:// ref starts a child run with the args it declares as inputs, the parent
// waits for it — as state, holding no worker slot — and continues with its outputs; a child that
// fails fails its node and the parent; cancelling the parent cancels the child; runs nest at
// most kChildRunDepthMax deep. An `inline:` body runs in place, no child.
#include <gtest/gtest.h>

#include "services/storage/project_workflows.h"
#include "services/storage/projects.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

// user-1's project "proj-1" holding `sources` as its workflows.
void add_project(Monolith& m, const std::vector<std::pair<std::string, std::string>>& sources) {
  auto added = m.run(m.store.transact_for([sources](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_project(tx, ProjectRecord{"proj-1", "user-1", "demo", "/work", 1, {}});
        !ok)
      return ok;
    int n = 0;
    for (const auto& [name, source] : sources) {
      ProjectWorkflowRecord record;
      record.id = "pw-" + std::to_string(++n);
      record.project_id = "proj-1";
      record.name = name;
      record.source = source;
      if (auto ok = insert_project_workflow(tx, "user-1", record); !ok) return ok;
    }
    return {};
  }));
  ASSERT_TRUE(added.has_value()) << added.error().message;
}

constexpr const char* kGreet = R"(name: greet
inputs:
  who: {type: string, default: world}
entry: say
nodes:
  - {id: say, type: run, command: "echo hello {{ inputs.who }}"}
outputs:
  greeting: "{{ nodes.say.stdout }}"
  who: "{{ inputs.who }}"
)";

constexpr const char* kParent = R"(name: parent
entry: child
nodes:
  - id: child
    type: workflow
    ref: project://greet
    args: {who: ada, mood: cheerful}
  - {id: after, type: run, command: "echo got {{ nodes.child.who }}"}
edges:
  - {from: child, to: after}
outputs:
  greeting: "{{ nodes.child.greeting }}"
  child_run: "{{ nodes.child.run_id }}"
  after: "{{ nodes.after.stdout }}"
)";

TEST(WorkflowChildRuns, AProjectWorkflowRunsAsAChildAndItsOutputsAreTheNodes) {
  Monolith m;
  add_project(m, {{"greet", kGreet}});
  start_yaml_run(m, "parent-1", kParent, Json{{"project_id", "proj-1"}});
  const engine::RunSummary parent = ended_run(m, "parent-1");
  ASSERT_EQ(parent.status, engine::RunStatus::completed) << parent.error.value_or("");
  const Json outputs = (*parent.result)["outputs"];
  EXPECT_EQ(outputs["greeting"], "hello ada\n") << outputs.dump();
  EXPECT_EQ(outputs["after"], "got ada\n") << "the node after it read the child's outputs";

  // The child is a run of its own, named after the parent's step, that knows its parent; it got
  // the args it declares as inputs and not the others.
  const std::string child_id = outputs["child_run"];
  EXPECT_TRUE(child_id.starts_with("parent-1-")) << child_id;
  const engine::RunSummary child = run_summary(m, child_id);
  EXPECT_EQ(child.status, engine::RunStatus::completed);
  EXPECT_EQ(child.workflow, std::string(workflow::kEngineWorkflowName));
  auto request = workflow::run_request_from_json(child.input);
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->inputs, (Json{{"who", "ada"}}));
  EXPECT_EQ(request->context["parent_run_id"], "parent-1");
  EXPECT_EQ(request->context["parent_node"], "child");
  EXPECT_EQ(request->context["project_id"], "proj-1");
  EXPECT_EQ((*child.result)["outputs"]["greeting"], "hello ada\n");
}

// The node's selector reaches the child's tools (issue 40: the child ran them wherever the
// parent's context said, on the one daemon there was). The monolith's daemon is local: a child
// placed on `cloud` finds no daemon to run on, one placed on `local` runs there.
TEST(WorkflowChildRuns, TheNodesSelectorIsTheChildsDefault) {
  for (const char* where : {"cloud", "local"}) {
    Monolith m;
    add_project(m, {{"greet", kGreet}});
    std::string parent_yaml = kParent;
    parent_yaml.replace(parent_yaml.find("    ref: project://greet"), 0,
                        std::string("    daemon: ") + where + "\n");
    start_yaml_run(m, "parent-1", parent_yaml, Json{{"project_id", "proj-1"}});
    const engine::RunSummary parent = ended_run(m, "parent-1");
    auto runs = m.run(m.store.transact_for(
        [](SqlTransaction& tx) { return engine::list_runs(tx, "user-1", 10); }));
    ASSERT_TRUE(runs.has_value()) << runs.error().message;
    const auto found = std::find_if(runs->begin(), runs->end(), [](const auto& run) {
      return run.id.starts_with("parent-1-");
    });
    ASSERT_NE(found, runs->end()) << "the child run";
    const engine::RunSummary child = *found;
    auto request = workflow::run_request_from_json(child.input);
    ASSERT_TRUE(request.has_value()) << request.error().message;
    EXPECT_EQ(request->context["daemon"], where);
    if (std::string_view(where) == "cloud") {
      EXPECT_EQ(parent.status, engine::RunStatus::failed);
      EXPECT_EQ(child.status, engine::RunStatus::failed);
      EXPECT_NE(child.error.value_or("").find("no daemon to run on"), std::string::npos)
          << child.error.value_or("");
    } else {
      EXPECT_EQ(parent.status, engine::RunStatus::completed) << parent.error.value_or("");
    }
  }
}

TEST(WorkflowChildRuns, ABuiltinRunsAsAChildOnTheParentsChat) {
  Monolith m;  // the scripted model answers a response tool from its schema
  auto chat = m.run(m.chats.create_chat("user-1", "grading"));
  ASSERT_TRUE(chat.has_value());
  start_yaml_run(m, "grader-1", R"(name: grader
entry: ask
nodes:
  - {id: ask, type: save_message, role: user, content: "Grade the change."}
  - id: grade
    type: workflow
    ref: builtin://structured-agent
    args:
      max_turns: 3
      response_schema:
        type: object
        required: [grade]
        properties: {grade: {type: string, enum: [pass, fail]}}
edges:
  - {from: ask, to: grade}
outputs:
  grade: "{{ nodes.grade.response.grade }}"
  turns: "{{ nodes.grade.turns }}"
)",
                 Json{{"chat_id", chat->id}});
  const engine::RunSummary parent = ended_run(m, "grader-1");
  ASSERT_EQ(parent.status, engine::RunStatus::completed) << parent.error.value_or("");
  EXPECT_EQ((*parent.result)["outputs"]["grade"], "pass") << parent.result->dump();
  EXPECT_EQ((*parent.result)["outputs"]["turns"], 1);
  // The child talked on the parent's chat: its model call is stored there, after the question.
  auto view = m.run(m.chats.get_chat("user-1", chat->id));
  ASSERT_TRUE(view.has_value());
  ASSERT_GE(view->messages.size(), 2u);
  EXPECT_EQ(view->messages[0].role, "user");
  bool responded = false;
  for (const auto& message : view->messages) {
    for (const auto& block : message.blocks) {
      responded |= block.kind == "tool_call" && block.body.value("name", "") == "submit_response";
    }
  }
  EXPECT_TRUE(responded) << "the child's call of its response tool is on the chat";
}

TEST(WorkflowChildRuns, AFailedChildFailsItsNodeAndTheParent) {
  Monolith m;
  add_project(m, {{"broken", R"(name: broken
entry: bad
nodes:
  - {id: bad, type: run, command: "echo {{ inputs.missing.field }}"}
)"}});
  start_yaml_run(m, "parent-2", R"(name: parent
entry: child
nodes:
  - {id: child, type: workflow, ref: project://broken}
  - {id: after, type: run, command: "echo never"}
edges:
  - {from: child, to: after}
)",
                 Json{{"project_id", "proj-1"}});
  const engine::RunSummary parent = ended_run(m, "parent-2");
  ASSERT_EQ(parent.status, engine::RunStatus::failed);
  const std::string error = parent.error.value_or("");
  EXPECT_NE(error.find("child"), std::string::npos) << error;
  EXPECT_NE(error.find("failed"), std::string::npos) << error;
  EXPECT_NE(error.find("missing"), std::string::npos) << "the child's own reason: " << error;
  for (const auto& command : m.host.commands_run()) {
    EXPECT_EQ(command.find("never"), std::string::npos) << "the node after it ran";
  }
}

TEST(WorkflowChildRuns, AProjectRefOutsideAProjectFailsTheNode) {
  Monolith m;
  start_yaml_run(m, "parent-3", R"(name: parent
entry: child
nodes:
  - {id: child, type: workflow, ref: project://greet}
)");
  const engine::RunSummary parent = ended_run(m, "parent-3");
  ASSERT_EQ(parent.status, engine::RunStatus::failed);
  EXPECT_NE(parent.error.value_or("").find("project://greet: the run belongs to no project"),
            std::string::npos)
      << parent.error.value_or("");
}

TEST(WorkflowChildRuns, CancellingTheParentCancelsItsChild) {
  Monolith m;
  add_project(m, {{"waits", R"(name: waits
entry: ok
nodes:
  - {id: ok, type: approval, title: "Go on?"}
)"}});
  start_yaml_run(m, "parent-4", R"(name: parent
entry: child
nodes:
  - {id: child, type: workflow, ref: project://waits}
)",
                 Json{{"project_id", "proj-1"}});
  // The child starts and waits for its approval.
  std::string child_id;
  m.run_until([&] {
    auto runs = m.run(m.store.transact_for(
        [](SqlTransaction& tx) { return engine::list_runs(tx, "user-1", 10); }));
    if (!runs) return false;
    for (const auto& run : *runs) {
      if (run.id != "parent-4") child_id = run.id;
    }
    return !child_id.empty();
  });
  ASSERT_FALSE(child_id.empty());
  for (int i = 0; i < 200 && m.world.step(); ++i) {
  }
  EXPECT_EQ(run_summary(m, child_id).status, engine::RunStatus::running);

  const SqlDialect dialect = m.store.dialect();
  auto cancelled = m.run(m.store.transact_for([dialect](SqlTransaction& tx) {
    return engine::cancel_run(tx, dialect, "parent-4", "the user cancelled it", 0);
  }));
  ASSERT_TRUE(cancelled.has_value()) << cancelled.error().message;
  EXPECT_EQ(ended_run(m, "parent-4").status, engine::RunStatus::cancelled);
  EXPECT_EQ(ended_run(m, child_id).status, engine::RunStatus::cancelled);
  // By its parent's node, which says why.
  auto history = m.run(m.store.transact_for(
      [child_id](SqlTransaction& tx) { return engine::load_history(tx, child_id); }));
  ASSERT_TRUE(history.has_value());
  std::vector<std::string> reasons;
  for (const auto& event : *history) {
    if (event.kind == engine::EventKind::cancel_requested)
      reasons.push_back(event.body.value("reason", ""));
  }
  EXPECT_EQ(reasons, std::vector<std::string>{"its parent run parent-4 ended"});
}

// A project workflow whose node runs itself: each level is a child run, and the one that would
// nest deeper than kChildRunDepthMax fails its node — and with it every run above (issue 38: 65
// runs in 5 s, each holding a worker slot, until every user's chats stopped).
TEST(WorkflowChildRuns, AWorkflowThatCallsItselfStopsAtTheDepthLimit) {
  Monolith m;
  add_project(m, {{"again", R"(name: again
entry: me
nodes:
  - {id: me, type: workflow, ref: project://again}
)"}});
  start_yaml_run(m, "root", R"(name: root
entry: me
nodes:
  - {id: me, type: workflow, ref: project://again}
)",
                 Json{{"project_id", "proj-1"}});
  const engine::RunSummary root = ended_run(m, "root");
  ASSERT_EQ(root.status, engine::RunStatus::failed);
  const std::string error = root.error.value_or("");
  EXPECT_NE(error.find("would nest child runs 9 deep; runs nest at most 8 deep"), std::string::npos)
      << error;
  auto runs = m.run(m.store.transact_for(
      [](SqlTransaction& tx) { return engine::list_runs(tx, "user-1", 100); }));
  ASSERT_TRUE(runs.has_value());
  EXPECT_EQ(runs->size(), 1u + static_cast<std::size_t>(workflow::kChildRunDepthMax));
  for (const auto& run : *runs) EXPECT_TRUE(run.terminal()) << run.id;
}

// Parents wait for their children as state: a chain of children deeper than the worker has
// slots finishes. When a waiting parent held a slot, a worker of two slots stopped for good at
// the second level.
TEST(WorkflowChildRuns, WaitingParentsHoldNoWorkerSlot) {
  Monolith m;
  engine::WorkerConfig narrow;
  narrow.worker_id = "w-narrow";
  narrow.in_flight_max = 2;
  narrow.eager_activities = 1;
  m.worker = std::make_unique<engine::Worker>(m.env, narrow, m.workflows, m.activities);
  add_project(m, {{"level3", kGreet},
                  {"level2", R"(name: level2
entry: down
nodes:
  - {id: down, type: workflow, ref: project://level3, args: {who: deep}}
outputs:
  greeting: "{{ nodes.down.greeting }}"
)"},
                  {"level1", R"(name: level1
entry: down
nodes:
  - {id: down, type: workflow, ref: project://level2}
outputs:
  greeting: "{{ nodes.down.greeting }}"
)"}});
  start_yaml_run(m, "top", R"(name: top
entry: down
nodes:
  - {id: down, type: workflow, ref: project://level1}
outputs:
  greeting: "{{ nodes.down.greeting }}"
)",
                 Json{{"project_id", "proj-1"}});
  const engine::RunSummary top = ended_run(m, "top");
  ASSERT_EQ(top.status, engine::RunStatus::completed) << top.error.value_or("");
  EXPECT_EQ((*top.result)["outputs"]["greeting"], "hello deep\n");
}

TEST(WorkflowChildRuns, AnInlineBodyRunsInPlaceWithItsArgsAsInputs) {
  Monolith m;
  start_yaml_run(m, "inline-1", R"(name: inline
inputs:
  target: {type: string, default: all}
entry: build
nodes:
  - id: build
    type: workflow
    args: {target: web}
    inline:
      entry: make
      nodes:
        - {id: make, type: run, command: "echo making {{ inputs.target }}"}
      outputs:
        made: "{{ nodes.make.stdout }}"
        target: "{{ params.target }}"
outputs:
  made: "{{ nodes.build.made }}"
  target: "{{ nodes.build.target }}"
  run_input: "{{ inputs.target }}"
)");
  const engine::RunSummary run = ended_run(m, "inline-1");
  ASSERT_EQ(run.status, engine::RunStatus::completed) << run.error.value_or("");
  EXPECT_EQ((*run.result)["outputs"],
            (Json{{"made", "making web\n"}, {"target", "web"}, {"run_input", "all"}}));
  // In place: no run but this one.
  auto runs = m.run(
      m.store.transact_for([](SqlTransaction& tx) { return engine::list_runs(tx, "user-1", 10); }));
  ASSERT_TRUE(runs.has_value());
  EXPECT_EQ(runs->size(), 1u);
}

}  // namespace
}  // namespace reliant::agent
