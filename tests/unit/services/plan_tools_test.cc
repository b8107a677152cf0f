// The planning tools' pure part: a plan made, read, grown and changed through the calls a model
// makes, and each mistake in a call answered as a tool error the model reads.
#include "services/agent/plan_tools.h"

#include <gtest/gtest.h>

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

Json applied(const std::optional<Json>& plan, std::string_view tool, const Json& input) {
  PlanToolResult result = run_plan_tool(tool, plan, input);
  EXPECT_FALSE(result.is_error) << tool << ": " << result.content;
  EXPECT_TRUE(result.plan.has_value()) << tool << " changed nothing";
  return result.plan.value_or(Json());
}

TEST(PlanTools, APlanIsMadeGrownAndChecked) {
  Json plan = applied(std::nullopt, "create_plan",
                      {{"title", "Ship the parser"}, {"tasks", {"write tests", "fix the lexer"}}});
  plan = applied(plan, "add_task", {{"title", "update the docs"}, {"notes", "README too"}});
  plan = applied(plan, "update_task", {{"id", 1}, {"status", "completed"}});
  plan = applied(plan, "update_task", {{"id", "2"}, {"status", "in_progress"}});
  EXPECT_EQ(render_plan(plan),
            "Plan: Ship the parser\n\nTasks (1 of 3 completed):\n"
            "[x] 1. write tests\n[~] 2. fix the lexer\n[ ] 3. update the docs — README too\n");

  const PlanToolResult pending = run_plan_tool("list_tasks", plan, {{"status", "pending"}});
  EXPECT_FALSE(pending.is_error);
  EXPECT_FALSE(pending.plan.has_value()) << "a read changes nothing";
  EXPECT_EQ(pending.content, "[ ] 3. update the docs — README too\n");
  EXPECT_EQ(run_plan_tool("get_plan", plan, Json::object()).content, render_plan(plan));

  // Ids are never reused: a task added after others keeps counting.
  plan = applied(plan, "update_task", {{"id", 3}, {"status", "cancelled"}});
  plan = applied(plan, "add_task", {{"title", "release"}});
  EXPECT_EQ(plan["tasks"].back()["id"], 4);
  plan = applied(plan, "update_plan", {{"description", "by Friday"}});
  EXPECT_EQ(plan["description"], "by Friday");
  EXPECT_EQ(plan["title"], "Ship the parser");
}

TEST(PlanTools, MistakesAreToolErrorsTheModelReads) {
  const Json plan = applied(std::nullopt, "create_plan", {{"title", "p"}, {"tasks", {"a"}}});
  struct Case {
    std::optional<Json> plan;
    std::string tool;
    Json input;
    std::string says;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "get_plan", Json::object(), "no plan yet"},
      {std::nullopt, "add_task", {{"title", "x"}}, "create_plan"},
      {std::nullopt, "create_plan", Json::object(), "needs a title"},
      {std::nullopt, "create_plan", {{"title", 7}}, "title must be a string"},
      {std::nullopt, "create_plan", {{"title", "t"}, {"tasks", "one"}}, "list of task titles"},
      {std::nullopt,
       "create_plan",
       {{"title", std::string(kPlanTitleBytesMax + 1, 'x')}},
       "the limit is"},
      {plan, "update_task", {{"id", 9}, {"status", "completed"}}, "no task 9"},
      {plan, "update_task", {{"id", "one"}}, "needs the id"},
      {plan, "update_task", {{"id", 1}, {"status", "done"}}, "status must be"},
      {plan, "update_task", {{"id", 1}}, "needs a status, title or notes"},
      {plan, "update_plan", Json::object(), "needs a title or description"},
      {plan, "list_tasks", {{"status", "later"}}, "status must be"},
      {plan, "add_task", Json::array(), "must be a map"},
      {Json{{"title", "broken"}}, "get_plan", Json::object(), "damaged"},
  };
  for (const auto& c : cases) {
    const PlanToolResult result = run_plan_tool(c.tool, c.plan, c.input);
    EXPECT_TRUE(result.is_error) << c.tool << " " << c.input.dump();
    EXPECT_FALSE(result.plan.has_value()) << c.tool << " " << c.input.dump();
    EXPECT_NE(result.content.find(c.says), std::string::npos)
        << c.tool << " " << c.input.dump() << ": " << result.content;
  }
}

TEST(PlanTools, APlanHoldsABoundedNumberOfTasks) {
  Json titles = Json::array();
  for (std::size_t i = 0; i < kPlanTasksMax; ++i) titles.push_back("task " + std::to_string(i));
  const Json plan = applied(std::nullopt, "create_plan", {{"title", "big"}, {"tasks", titles}});
  const PlanToolResult more = run_plan_tool("add_task", plan, {{"title", "one more"}});
  EXPECT_TRUE(more.is_error);
  EXPECT_NE(more.content.find("limit"), std::string::npos) << more.content;
  titles.push_back("one too many");
  EXPECT_TRUE(
      run_plan_tool("create_plan", std::nullopt, {{"title", "big"}, {"tasks", titles}}).is_error);
}

TEST(PlanTools, EverySpecNamesATool) {
  for (const auto& spec : plan_tool_specs()) {
    EXPECT_TRUE(is_plan_tool(spec.name)) << spec.name;
    EXPECT_EQ(spec.input_schema.value("type", ""), "object") << spec.name;
  }
  EXPECT_EQ(plan_tool_specs().size(), 6u);
  EXPECT_FALSE(is_plan_tool("bash"));
}

}  // namespace
}  // namespace reliant::agent
