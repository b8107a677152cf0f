// The planning tools a model uses to keep a plan for its chat: create_plan, get_plan,
// update_plan, add_task, update_task and list_tasks. They run on the server, not on a daemon
// (seed 001's ToolRunsOnServer), so they work with no daemon connected. This file is their pure
// part: each call is a function of the chat's plan document and the call's input, giving the
// text the model reads and, when the call changes it, the new plan. server_tools.h stores it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/llm.h"

namespace reliant::agent {

// Bounds on what a model may put in a plan.
inline constexpr std::size_t kPlanTasksMax = 200;
inline constexpr std::size_t kPlanTitleBytesMax = 500;
inline constexpr std::size_t kPlanTextBytesMax = 8 * 1024;  // a description or a task's notes

bool is_plan_tool(std::string_view tool);
// get_plan and list_tasks change nothing.
bool plan_tool_reads_only(std::string_view tool);
std::vector<llm::ToolSpec> plan_tool_specs();

struct PlanToolResult {
  std::string content;  // what the model reads
  bool is_error = false;
  std::optional<nlohmann::json> plan;  // the new plan, when the call changed it
};

// `plan` is the chat's plan, nullopt when it has none. A mistake in the input is an error result
// the model reads (is_error), never a failure.
PlanToolResult run_plan_tool(std::string_view tool, const std::optional<nlohmann::json>& plan,
                             const nlohmann::json& input);

// The plan as the model and people read it: its title, description and a checklist of tasks.
std::string render_plan(const nlohmann::json& plan);

}  // namespace reliant::agent
