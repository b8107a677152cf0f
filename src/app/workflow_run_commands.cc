// Workflows on the server, over REST: a run started (the file's YAML travels in the request) and
// followed with `run_commands.h`'s follow, and the workflows listed — the server's built-ins
// (GET /api/v1/workflows) and a project's stored ones (GET /api/v1/projects/{id}/workflows, and
// each one's description from GET …/workflows/{name}). Exit 0 when the run completes or the list
// is printed, 1 when the run fails or the server refuses, 2 when the server cannot be reached or
// the arguments are wrong.
#include "app/workflow_run_commands.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/api_client.h"
#include "app/run_commands.h"
#include "app/run_inputs.h"
#include "app/workflow_language_commands.h"
#include "base/terminal_text.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct WorkflowStartOptions {
  ApiClientOptions api;
  std::string workflow;  // a file, builtin://NAME, or a project workflow's name
  std::string project;
  std::string on_failure;  // pause | fail; empty: the workflow's
  RunInputOptions inputs;
  bool follow = false;
  std::int64_t poll_ms = 500;
};

struct WorkflowListOptions {
  ApiClientOptions api;
  std::string project;
};

// One workflow as `workflow list` prints it.
struct ListedWorkflow {
  std::string name;
  std::string source;  // builtin or project
  std::string description;
};

int start_workflow_run(const WorkflowStartOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto inputs = run_inputs(o.inputs);
  if (!inputs) return report_api_error(inputs.error());
  Json body = {{"inputs", *inputs}};
  if (!o.on_failure.empty()) body["on_failure"] = o.on_failure;
  if (o.workflow.starts_with("builtin://")) {
    body["workflow"] = o.workflow;
  } else if (!o.project.empty()) {
    body["workflow"] = o.workflow;
    body["project_id"] = o.project;
  } else {
    auto source = read_workflow_source(o.workflow);
    if (!source) {
      return report_api_error(
          {ErrorCode::invalid_argument,
           source.error().message + " (a project's workflow is named with --project)"});
    }
    body["source"] = std::move(*source);
    body["file"] = o.workflow;
  }
  auto started = client->call("POST", "/api/v1/workflows/runs", body);
  if (!started) return report_api_error(started.error());
  const std::string run_id = started->value("run_id", "");
  std::printf("run %s (%s)\n", strip_terminal_controls(run_id).c_str(),
              strip_terminal_controls(started->value("workflow", "")).c_str());
  std::fflush(stdout);
  if (!o.follow) return 0;
  return follow_run(*client, run_id, o.poll_ms);
}

// A description's first line: the list keeps one line a workflow.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

int list_workflows(const WorkflowListOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto builtins = client->call("GET", "/api/v1/workflows");
  if (!builtins) return report_api_error(builtins.error());
  std::vector<ListedWorkflow> listed;
  // The listing holds the engine's own workflows too (`workflow engine start`): only the
  // builtin://NAME ones run with `workflow run` and in chats.
  for (const auto& entry : builtins->value("workflows", Json::array())) {
    const std::string name = entry.value("name", "");
    if (!name.starts_with("builtin://")) continue;
    listed.push_back({name, "builtin", first_line(entry.value("description", ""))});
  }
  if (!o.project.empty()) {
    const std::string base = "/api/v1/projects/" + url_encode(o.project) + "/workflows";
    auto stored = client->call("GET", base);
    if (!stored) return report_api_error(stored.error());
    for (const auto& record : stored->value("workflows", Json::array())) {
      const std::string name = record.value("name", "");
      // The listing leaves out what only the parsed YAML has.
      auto whole = client->call("GET", base + "/" + url_encode(name));
      if (!whole) return report_api_error(whole.error());
      listed.push_back({name, "project", first_line(whole->value("description", ""))});
    }
  }
  std::size_t width = 4;
  for (const auto& w : listed) width = std::max(width, w.name.size());
  for (const auto& w : listed) {
    std::string line = w.name + std::string(width - w.name.size() + 2, ' ') + w.source;
    if (!w.description.empty()) line += std::string(9 - w.source.size(), ' ') + w.description;
    std::printf("%s\n", strip_terminal_controls(line).c_str());
  }
  return 0;
}

}  // namespace

void add_workflow_run_commands(CLI::App& app, CLI::App& workflow, int& exit_code) {
  auto o = std::make_shared<WorkflowStartOptions>();
  auto* run = workflow.add_subcommand(
      "run",
      "Start a workflow run on the server: a YAML file, builtin://NAME, or a project's "
      "workflow by name with --project; --follow prints each node as it goes");
  run->add_option("workflow", o->workflow, "FILE, builtin://NAME, or NAME with --project")
      ->required();
  run->add_option("--project", o->project, "The project whose stored workflow NAME is");
  add_run_input_options(*run, o->inputs);
  run->add_option("--on-failure", o->on_failure,
                  "What a failed step does: pause (wait for `reliant run retry|skip|fail`) or "
                  "fail; default: the workflow's")
      ->check(CLI::IsMember({"pause", "fail"}));
  run->add_flag("--follow", o->follow, "Print each node's progress until the run ends");
  add_api_client_options(*run, o->api);
  run->callback([o, &exit_code] { exit_code = start_workflow_run(*o); });

  auto l = std::make_shared<WorkflowListOptions>();
  auto* list = workflow.add_subcommand(
      "list",
      "List the workflows to run: the server's built-ins and, with --project, the project's "
      "(name, builtin or project, description); runs are `reliant run list`");
  list->add_option("--project", l->project, "Also list this project's stored workflows");
  add_api_client_options(*list, l->api);
  list->callback([l, &exit_code] { exit_code = list_workflows(*l); });
  add_run_commands(app, workflow, exit_code);
}

}  // namespace reliant
