// The planning tools' pure part (plan_tools.h). A plan is {title, description, tasks:
// [{id, title, status, notes}], next_task_id}; task ids are numbers given in order and never
// reused, so "task 3" keeps meaning one task after others are added or cancelled.
#include "services/agent/plan_tools.h"

#include <algorithm>
#include <array>

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 4> kStatuses = {"pending", "in_progress", "completed",
                                                       "cancelled"};

PlanToolResult error(std::string message) { return {std::move(message), true, std::nullopt}; }

Json string_schema(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}

Json status_schema(std::string description) {
  Json schema = string_schema(std::move(description));
  schema["enum"] = Json::array();
  for (auto status : kStatuses) schema["enum"].push_back(std::string(status));
  return schema;
}

Json object_schema(Json properties, std::vector<std::string> required) {
  Json schema = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) schema["required"] = std::move(required);
  return schema;
}

// A string field of the input: absent gives nullopt, a non-string or one over `limit` an error.
struct Text {
  std::optional<std::string> value;
  std::optional<std::string> error;
};

Text text_field(const Json& input, const char* name, std::size_t limit) {
  if (!input.contains(name) || input[name].is_null()) return {};
  if (!input[name].is_string()) return {std::nullopt, std::string(name) + " must be a string"};
  std::string value = input[name].get<std::string>();
  if (value.size() > limit) {
    return {std::nullopt, std::string(name) + " has " + std::to_string(value.size()) +
                              " bytes; the limit is " + std::to_string(limit)};
  }
  return {std::move(value), std::nullopt};
}

bool known_status(const std::string& status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

std::string mark(const std::string& status) {
  if (status == "completed") return "[x]";
  if (status == "in_progress") return "[~]";
  if (status == "cancelled") return "[-]";
  return "[ ]";
}

std::string task_line(const Json& task) {
  std::string line = mark(task.value("status", "pending")) + " " +
                     std::to_string(task.value("id", std::int64_t{0})) + ". " +
                     task.value("title", "");
  const std::string notes = task.value("notes", "");
  if (!notes.empty()) line += " — " + notes;
  return line;
}

Json new_task(Json& plan, std::string title, std::string notes) {
  const std::int64_t id = plan.value("next_task_id", std::int64_t{1});
  plan["next_task_id"] = id + 1;
  return {
      {"id", id}, {"title", std::move(title)}, {"status", "pending"}, {"notes", std::move(notes)}};
}

// The task id an input names: a number, or text holding one ("3").
std::optional<std::int64_t> task_id(const Json& input) {
  const Json id = input.value("id", Json());
  if (id.is_number_integer()) return id.get<std::int64_t>();
  if (id.is_string()) {
    const std::string text = id.get<std::string>();
    if (text.empty() || text.size() > 18 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    return std::stoll(text);
  }
  return std::nullopt;
}

PlanToolResult create_plan(const Json& input, bool replacing) {
  const Text title = text_field(input, "title", kPlanTitleBytesMax);
  if (title.error) return error(*title.error);
  if (!title.value || title.value->empty()) return error("create_plan needs a title");
  const Text description = text_field(input, "description", kPlanTextBytesMax);
  if (description.error) return error(*description.error);
  Json plan = {{"title", *title.value},
               {"description", description.value.value_or("")},
               {"tasks", Json::array()},
               {"next_task_id", 1}};
  const Json tasks = input.value("tasks", Json::array());
  if (!tasks.is_array()) return error("tasks must be a list of task titles");
  if (tasks.size() > kPlanTasksMax) {
    return error("a plan holds at most " + std::to_string(kPlanTasksMax) + " tasks");
  }
  for (const auto& task : tasks) {
    if (!task.is_string() || task.get<std::string>().empty() ||
        task.get<std::string>().size() > kPlanTitleBytesMax) {
      return error("each task is a title: text of 1 to " + std::to_string(kPlanTitleBytesMax) +
                   " bytes");
    }
    plan["tasks"].push_back(new_task(plan, task.get<std::string>(), ""));
  }
  std::string content = std::string(replacing ? "Replaced the plan" : "Created the plan") +
                        ".\n\n" + render_plan(plan);
  return {std::move(content), false, std::move(plan)};
}

PlanToolResult update_plan(Json plan, const Json& input) {
  const Text title = text_field(input, "title", kPlanTitleBytesMax);
  if (title.error) return error(*title.error);
  const Text description = text_field(input, "description", kPlanTextBytesMax);
  if (description.error) return error(*description.error);
  if (!title.value && !description.value) return error("update_plan needs a title or description");
  if (title.value) {
    if (title.value->empty()) return error("a plan's title cannot be empty");
    plan["title"] = *title.value;
  }
  if (description.value) plan["description"] = *description.value;
  std::string content = "Updated the plan.\n\n" + render_plan(plan);
  return {std::move(content), false, std::move(plan)};
}

PlanToolResult add_task(Json plan, const Json& input) {
  const Text title = text_field(input, "title", kPlanTitleBytesMax);
  if (title.error) return error(*title.error);
  if (!title.value || title.value->empty()) return error("add_task needs a title");
  const Text notes = text_field(input, "notes", kPlanTextBytesMax);
  if (notes.error) return error(*notes.error);
  if (plan["tasks"].size() >= kPlanTasksMax) {
    return error("the plan already has " + std::to_string(kPlanTasksMax) + " tasks, its limit");
  }
  Json task = new_task(plan, *title.value, notes.value.value_or(""));
  std::string content = "Added task " + task_line(task);
  plan["tasks"].push_back(std::move(task));
  return {std::move(content), false, std::move(plan)};
}

PlanToolResult update_task(Json plan, const Json& input) {
  const auto id = task_id(input);
  if (!id) return error("update_task needs the id of a task (a number, as list_tasks shows it)");
  Json* task = nullptr;
  for (auto& candidate : plan["tasks"]) {
    if (candidate.value("id", std::int64_t{0}) == *id) task = &candidate;
  }
  if (task == nullptr) return error("the plan has no task " + std::to_string(*id));
  const Text status = text_field(input, "status", 32);
  if (status.error) return error(*status.error);
  const Text title = text_field(input, "title", kPlanTitleBytesMax);
  if (title.error) return error(*title.error);
  const Text notes = text_field(input, "notes", kPlanTextBytesMax);
  if (notes.error) return error(*notes.error);
  if (!status.value && !title.value && !notes.value) {
    return error("update_task needs a status, title or notes to change");
  }
  if (status.value) {
    if (!known_status(*status.value)) {
      return error("status must be pending, in_progress, completed or cancelled, not \"" +
                   *status.value + "\"");
    }
    (*task)["status"] = *status.value;
  }
  if (title.value) {
    if (title.value->empty()) return error("a task's title cannot be empty");
    (*task)["title"] = *title.value;
  }
  if (notes.value) (*task)["notes"] = *notes.value;
  std::string content = "Updated task " + task_line(*task);
  return {std::move(content), false, std::move(plan)};
}

PlanToolResult list_tasks(const Json& plan, const Json& input) {
  const Text status = text_field(input, "status", 32);
  if (status.error) return error(*status.error);
  if (status.value && !known_status(*status.value)) {
    return error("status must be pending, in_progress, completed or cancelled");
  }
  std::string content;
  std::size_t shown = 0;
  for (const auto& task : plan["tasks"]) {
    if (status.value && task.value("status", "") != *status.value) continue;
    content += task_line(task) + "\n";
    ++shown;
  }
  if (shown == 0)
    return {status.value ? "No " + *status.value + " tasks." : "No tasks yet.", false, {}};
  return {std::move(content), false, std::nullopt};
}

}  // namespace

bool is_plan_tool(std::string_view tool) {
  return tool == "create_plan" || tool == "get_plan" || tool == "update_plan" ||
         tool == "add_task" || tool == "update_task" || tool == "list_tasks";
}

bool plan_tool_reads_only(std::string_view tool) {
  return tool == "get_plan" || tool == "list_tasks";
}

std::vector<llm::ToolSpec> plan_tool_specs() {
  return {
      {"create_plan",
       "Start this chat's plan (replacing any earlier one): a title, an optional description, "
       "and its first tasks as a list of titles.",
       object_schema({{"title", string_schema("What the plan achieves")},
                      {"description", string_schema("Context, constraints, approach")},
                      {"tasks",
                       {{"type", "array"},
                        {"items", {{"type", "string"}}},
                        {"description", "Task titles, in order"}}}},
                     {"title"})},
      {"get_plan", "Read this chat's plan: its title, description and every task with its status.",
       object_schema(Json::object(), {})},
      {"update_plan", "Change the plan's title or description.",
       object_schema({{"title", string_schema("A new title")},
                      {"description", string_schema("A new description")}},
                     {})},
      {"add_task", "Add a task to the end of the plan.",
       object_schema(
           {{"title", string_schema("What the task does")}, {"notes", string_schema("Details")}},
           {"title"})},
      {"update_task",
       "Change a task by its id: its status (pending, in_progress, completed, cancelled), title "
       "or notes.",
       object_schema({{"id", {{"type", "integer"}, {"description", "The task's id"}}},
                      {"status", status_schema("The task's new status")},
                      {"title", string_schema("A new title")},
                      {"notes", string_schema("New notes")}},
                     {"id"})},
      {"list_tasks", "List the plan's tasks, optionally only those with one status.",
       object_schema({{"status", status_schema("Only tasks with this status")}}, {})},
  };
}

PlanToolResult run_plan_tool(std::string_view tool, const std::optional<Json>& plan,
                             const Json& input) {
  if (!input.is_object()) return error(std::string(tool) + "'s input must be a map");
  if (tool == "create_plan") return create_plan(input, plan.has_value());
  if (!is_plan_tool(tool)) return error(std::string(tool) + " is not a planning tool");
  if (!plan) return error("this chat has no plan yet: create one with create_plan");
  if (!(*plan).contains("tasks") || !(*plan)["tasks"].is_array()) {
    return error("this chat's plan is damaged (no task list): create a new one with create_plan");
  }
  if (tool == "get_plan") return {render_plan(*plan), false, std::nullopt};
  if (tool == "update_plan") return update_plan(*plan, input);
  if (tool == "add_task") return add_task(*plan, input);
  if (tool == "update_task") return update_task(*plan, input);
  return list_tasks(*plan, input);
}

std::string render_plan(const Json& plan) {
  std::string text = "Plan: " + plan.value("title", "") + "\n";
  const std::string description = plan.value("description", "");
  if (!description.empty()) text += description + "\n";
  const Json tasks = plan.value("tasks", Json::array());
  std::size_t done = 0;
  for (const auto& task : tasks) done += task.value("status", "") == "completed";
  text +=
      "\nTasks (" + std::to_string(done) + " of " + std::to_string(tasks.size()) + " completed):\n";
  for (const auto& task : tasks) text += task_line(task) + "\n";
  if (tasks.empty()) text += "(none yet)\n";
  return text;
}

}  // namespace reliant::agent
