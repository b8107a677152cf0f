// A user's control of a running workflow run (core/workflow/run_control.h) on the engine: pause
// and resume, a failed step held under on_failure: pause and then retried (with other args),
// skipped or failed, inputs changed mid-run, and the checks the API makes before it signals.
#include <gtest/gtest.h>

#include <string>

#include "core/workflow/engine_workflow.h"
#include "core/workflow/run_control.h"
#include "unit/core/engine_run.h"

namespace reliant::workflow {
namespace {

using Json = nlohmann::json;
using testing::EngineRun;

constexpr const char* kThreeSteps = R"(name: three
inputs:
  target: {type: string, default: all}
  tries: {type: integer, default: 1, min: 1, max: 3}
entry: build
nodes:
  - {id: build, type: run, command: "make {{ inputs.target }}"}
  - {id: test, type: run, command: "test {{ inputs.target }}"}
  - {id: ship, type: run, command: "ship {{ nodes.test.exit_code }}"}
edges:
  - {from: build, to: test}
  - {from: test, to: ship}
outputs:
  shipped: "{{ nodes.ship.exit_code }}"
)";

RunRequest pausing(Json inputs = Json::object()) {
  RunRequest request = testing::source(kThreeSteps, std::move(inputs));
  request.on_failure = "pause";
  return request;
}

void control(EngineRun& run, Json request) {
  run.signal(std::string(kRunControlSignal), std::move(request));
}

Result<ControlRequest> checked(const EngineRun& run, Json request) {
  auto parsed = control_request_from_json(request);
  if (!parsed) return fail(parsed.error());
  return checked_control(run.state(), std::move(*parsed));
}

TEST(RunControl, APausedRunStartsNothingUntilResumedWhileWhatRunsFinishes) {
  EngineRun run(testing::source(kThreeSteps));
  ASSERT_NE(run.activity("build"), nullptr);
  control(run, {{"action", "pause"}});
  EXPECT_TRUE((*control_state(run.state()))["paused_by_user"].get<bool>());
  run.complete("build", {{"exit_code", 0}});  // it was running: it finishes and is recorded
  EXPECT_EQ(run.activity("test"), nullptr) << "a paused run started its next step";
  EXPECT_EQ(checked(run, {{"action", "pause"}}).error().message, "the run is already paused");
  control(run, {{"action", "resume"}});
  ASSERT_NE(run.activity("test"), nullptr);
  EXPECT_EQ(checked(run, {{"action", "resume"}}).error().message, "the run is not paused");
}

TEST(RunControl, AFailedStepIsHeldAndARetryRunsItAgainWithTheArgsGiven) {
  EngineRun run(pausing());
  run.complete("build", {{"exit_code", 0}});
  run.fail("test", "daemon unreachable");
  EXPECT_FALSE(run.state().terminal) << "the failure ended the run instead of pausing it";
  const Json state = *control_state(run.state());
  ASSERT_EQ(state["held"].size(), 1u);
  EXPECT_EQ(state["held"][0]["node_id"], "test");
  EXPECT_EQ(state["held"][0]["error"], "daemon unreachable");
  EXPECT_TRUE(run.pending_paths().empty());
  // Only the held step can be retried; it may be named by its node id.
  EXPECT_EQ(checked(run, {{"action", "retry"}, {"key", "build"}}).error().code,
            ErrorCode::failed_precondition);
  auto retry = checked(run, {{"action", "retry"}, {"key", "test"}, {"args", {{"command", "t2"}}}});
  ASSERT_TRUE(retry.has_value()) << retry.error().message;
  control(run, to_json(*retry));
  const auto* again = run.activity("test");
  ASSERT_NE(again, nullptr) << "the retry scheduled nothing";
  EXPECT_EQ(again->input["args"]["command"], "t2");
  EXPECT_EQ(again->input["retry"], 1);
  run.complete("test", {{"exit_code", 0}});
  run.complete("ship", {{"exit_code", 0}});
  EXPECT_EQ(run.end()["result"]["outputs"]["shipped"], 0);
}

TEST(RunControl, ResumingRetriesEveryHeldStepAndAStepMayBeHeldAgain) {
  EngineRun run(pausing());
  run.fail("build", "first");
  control(run, {{"action", "resume"}});
  ASSERT_NE(run.activity("build"), nullptr);
  run.fail("build", "second");
  const Json state = *control_state(run.state());
  ASSERT_EQ(state["held"].size(), 1u);
  EXPECT_EQ(state["held"][0]["error"], "second");
  control(run, {{"action", "retry"}, {"key", state["held"][0]["key"]}});
  EXPECT_EQ(run.activity("build")->input["retry"], 2);
}

TEST(RunControl, ASkippedStepAnswersWithTheOutputGivenAndAFailedOneFailsTheRun) {
  EngineRun skipped(pausing());
  skipped.complete("build", {{"exit_code", 0}});
  skipped.fail("test", "flaky");
  control(skipped, {{"action", "skip"}, {"key", "test"}, {"output", {{"exit_code", 7}}}});
  ASSERT_NE(skipped.activity("ship"), nullptr);
  EXPECT_EQ(skipped.activity("ship")->input["args"]["command"], "ship 7");

  EngineRun failed(pausing());
  failed.fail("build", "no compiler");
  control(failed, {{"action", "fail"}, {"key", "build"}});
  ASSERT_TRUE(failed.state().terminal.has_value());
  EXPECT_NE(failed.end().dump().find("no compiler (failed by the user)"), std::string::npos)
      << failed.end().dump();
}

TEST(RunControl, TheNodesOwnPolicyWinsOverTheRunsWhichWinsOverTheWorkflows) {
  constexpr const char* kPolicies = R"(name: policies
on_failure: pause
entry: a
nodes:
  - {id: a, type: run, command: a, on_failure: fail}
  - {id: b, type: run, command: b}
edges:
  - {from: a, to: b}
)";
  // The workflow pauses; node a's own `fail` wins.
  EngineRun own(testing::source(kPolicies));
  own.fail("a", "broken");
  EXPECT_TRUE(own.state().terminal.has_value()) << "node a's own fail did not fail the run";
  // Node b has none: the workflow's pause holds it, unless the run's start said fail.
  EngineRun workflows(testing::source(kPolicies));
  workflows.complete("a", {{"exit_code", 0}});
  workflows.fail("b", "broken");
  EXPECT_FALSE(workflows.state().terminal.has_value());
  EXPECT_EQ((*control_state(workflows.state()))["held"].size(), 1u);
  RunRequest failing = testing::source(kPolicies);
  failing.on_failure = "fail";
  EngineRun runs(failing);
  runs.complete("a", {{"exit_code", 0}});
  runs.fail("b", "broken");
  EXPECT_TRUE(runs.state().terminal.has_value())
      << "the run's fail did not win over the workflow's";
}

TEST(RunControl, WithoutPauseOnFailureAFailedStepFailsTheRunAsBefore) {
  EngineRun run(testing::source(kThreeSteps));
  run.fail("build", "broken");
  ASSERT_TRUE(run.state().terminal.has_value());
  EXPECT_EQ(*run.state().terminal, engine::EventKind::run_failed);
}

TEST(RunControl, AnInputChangedMidRunIsWhatTheNextNodeSees) {
  EngineRun run(testing::source(kThreeSteps));
  auto set = checked(run, {{"action", "set_input"}, {"name", "target"}, {"value", "docs"}});
  ASSERT_TRUE(set.has_value()) << set.error().message;
  control(run, to_json(*set));
  EXPECT_EQ(run.activity("build")->input["args"]["command"], "make all") << "issued before";
  run.complete("build", {{"exit_code", 0}});
  EXPECT_EQ(run.activity("test")->input["args"]["command"], "test docs");
}

TEST(RunControl, TheChecksRefuseWhatDoesNotApplyWithAClearMessage) {
  EngineRun run(testing::source(kThreeSteps));
  EXPECT_EQ(
      checked(run, {{"action", "set_input"}, {"name", "nosuch"}, {"value", 1}}).error().message,
      "workflow three has no input 'nosuch'");
  const auto bad = checked(run, {{"action", "set_input"}, {"name", "tries"}, {"value", 9}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.error().message.find("input tries"), std::string::npos) << bad.error().message;
  EXPECT_EQ(checked(run, {{"action", "retry"}}).error().message,
            "the run has no failed step waiting");
  run.complete("build", {{"exit_code", 0}});
  run.complete("test", {{"exit_code", 0}});
  run.complete("ship", {{"exit_code", 0}});
  EXPECT_EQ(checked(run, {{"action", "pause"}}).error().message, "the run has ended");
}

// A chat's run records its end on the chat after its last step: in between, the replay reads no
// request, so none is taken (a pause taken there let a second pause be taken after it).
TEST(RunControl, ARunWhoseStepsAreDoneTakesNoRequestWhileItRecordsItsEnd) {
  RunRequest request = testing::source(kThreeSteps);
  request.context["chat_id"] = "chat-1";
  EngineRun run(request);
  run.complete("build", {{"exit_code", 0}});
  run.complete("test", {{"exit_code", 0}});
  run.complete("ship", {{"exit_code", 0}});
  ASSERT_FALSE(run.state().terminal.has_value()) << "no run:finish step to wait for";
  const auto refused = checked(run, {{"action", "pause"}});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(refused.error().message, "the run's steps are done: it is ending");
  EXPECT_FALSE(
      checked(run, {{"action", "set_input"}, {"name", "target"}, {"value", "x"}}).has_value());
}

TEST(RunControl, MalformedRequestsAreRefused) {
  EXPECT_FALSE(control_request_from_json(Json::array()).has_value());
  EXPECT_EQ(control_request_from_json({{"action", "explode"}}).error().message,
            "run control: unknown action 'explode' (pause, resume, retry, skip, fail, set_input)");
  EXPECT_EQ(control_request_from_json({{"action", "pause"}, {"key", "x"}}).error().message,
            "run control: 'key' is not a key of pause");
  EXPECT_FALSE(control_request_from_json({{"action", "retry"}, {"args", 3}}).has_value());
  EXPECT_FALSE(control_request_from_json({{"action", "skip"}, {"output", "x"}}).has_value());
  EXPECT_FALSE(control_request_from_json({{"action", "set_input"}, {"name", "k"}}).has_value());
  const auto round = control_request_from_json(
      to_json(ControlRequest{ControlAction::retry, "k", {{"a", 1}}, Json::object(), "", Json()}));
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(round->args, (Json{{"a", 1}}));
}

}  // namespace
}  // namespace reliant::workflow
