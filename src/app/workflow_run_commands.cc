// Workflow runs from the command line, over REST: start (the file's YAML travels in the
// request), follow (each node's updates printed in order, until the run ends), list, show,
// cancel, and answers for the nodes that wait for a person. Exit 0 when the run completes, 1 when
// it fails or the server refuses, 2 when the server cannot be reached or the arguments are wrong.
#include "app/workflow_run_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/api_client.h"
#include "app/run_inputs.h"
#include "app/waiting_nodes.h"
#include "app/workflow_language_commands.h"
#include "base/json_parse.h"
#include "base/terminal_text.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct RunOptions {
  ApiClientOptions api;
  std::string workflow;  // a file, builtin://NAME, or a project workflow's name
  std::string project;
  RunInputOptions inputs;
  bool follow = false;
  std::string run_id;
  std::string node;
  std::string message;
  std::string answer;
  // Between polls of the run while following.
  std::int64_t poll_ms = 500;
};

std::string shown(const std::string& text) { return strip_terminal_controls(text); }

// One line per node update, in the order the run made them: started, completed, failed, and
// for nodes that wait for a person how to answer them (once per node).
class NodePrinter {
 public:
  explicit NodePrinter(std::string run_id) : run_id_(std::move(run_id)) {}

  void show(const Json& event) {
    const std::string kind = event.value("kind", "");
    const std::string key = event.value("key", "");
    std::string line;
    if (kind == "node_started") {
      line = "  started " + key + " (" + event.value("type", "") + ")";
    } else if (kind == "node_completed") {
      line = "  completed " + key;
    } else if (kind == "node_failed") {
      line = "  failed " + key + ": " + event.value("error", "");
    } else if (kind == "node_waiting") {
      if (!waiting_.insert(key).second) return;
      line = waiting_node_line(run_id_, event);
    } else {
      return;
    }
    std::printf("%s\n", shown(line).c_str());
    std::fflush(stdout);
  }

 private:
  std::string run_id_;
  std::set<std::string> waiting_;
};

// Prints the run's node updates as they come (polling its events from the last seq seen) until
// it ends. 0 when it completes.
int follow(const ApiClient& client, const std::string& run_id, std::int64_t poll_ms) {
  NodePrinter printer(run_id);
  std::int64_t since = 0;
  for (;;) {
    auto page =
        client.call("GET", "/api/v1/runs/" + run_id + "/events?since_seq=" + std::to_string(since));
    if (!page) return report_api_error(page.error());
    for (const auto& event : page->value("events", Json::array())) {
      printer.show(event);
      const std::string kind = event.value("kind", "");
      if (kind == "run_completed") {
        std::printf("completed: %s\n",
                    shown(event.value("result", Json()).value("outputs", Json()).dump()).c_str());
        return 0;
      }
      if (kind == "run_failed" || kind == "run_cancelled") {
        std::printf("%s: %s\n", kind == "run_failed" ? "failed" : "cancelled",
                    shown(event.value("error", "")).c_str());
        return 1;
      }
      if (kind != "node_waiting") since = std::max(since, event.value("seq", since));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

int list_runs(const ApiClient& client) {
  auto listed = client.call("GET", "/api/v1/workflows/runs");
  if (!listed) return report_api_error(listed.error());
  for (const auto& run : listed->value("runs", Json::array())) {
    std::string name = run.value("workflow", "");
    if (name.empty()) name = run.value("ref", "");
    std::string line = run.value("id", "") + "  " + run.value("status", "") + "  " + name;
    if (!run.value("parent_run_id", "").empty())
      line += "  (child of " + run.value("parent_run_id", "") + ")";
    std::printf("%s\n", shown(line).c_str());
  }
  return 0;
}

int show_run(const ApiClient& client, const std::string& run_id) {
  auto run = client.call("GET", "/api/v1/runs/" + run_id);
  if (!run) return report_api_error(run.error());
  std::printf("run %s: %s\n", shown(run_id).c_str(), shown(run->value("status", "")).c_str());
  for (const auto& node : run->value("nodes", Json::array())) {
    std::string line = "  " + node.value("status", "") + " " + node.value("key", "");
    if (node.contains("type")) line += " (" + node.value("type", "") + ")";
    if (node.contains("error")) line += ": " + node.value("error", "");
    if (node.contains("output")) line += " → " + node["output"].dump();
    std::printf("%s\n", shown(line).c_str());
  }
  if (run->value("result", Json()).is_object()) {
    std::printf("outputs: %s\n", shown((*run)["result"].value("outputs", Json()).dump()).c_str());
  }
  if ((*run)["error"].is_string()) {
    std::printf("error: %s\n", shown((*run)["error"].get<std::string>()).c_str());
  }
  return 0;
}

int run_workflow(const RunOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto inputs = run_inputs(o.inputs);
  if (!inputs) return report_api_error(inputs.error());
  Json body = {{"inputs", *inputs}};
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
  std::printf("run %s (%s)\n", shown(run_id).c_str(),
              shown(started->value("workflow", "")).c_str());
  std::fflush(stdout);
  if (!o.follow) return 0;
  return follow(*client, run_id, o.poll_ms);
}

int answer_run(const RunOptions& o, const std::string& verb) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  Json body = Json::object();
  if (!o.node.empty()) body["node"] = o.node;
  if (verb == "answer") {
    // A JSON value as given ("3", "[\"a\"]", "true"), else the text itself.
    const Json value = parse_json_or_discarded(o.answer);
    body["answer"] = value.is_discarded() ? Json(o.answer) : value;
  } else if (!o.message.empty()) {
    body["message"] = o.message;
  }
  auto answered = client->call("POST", "/api/v1/runs/" + o.run_id + "/" + verb, body);
  if (!answered) return report_api_error(answered.error());
  std::printf("%s %s\n",
              verb == "answer" ? "answered" : (verb == "approve" ? "approved" : "denied"),
              shown(answered->value("node", "")).c_str());
  return 0;
}

}  // namespace

void add_workflow_run_commands(CLI::App& workflow, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  auto* run = workflow.add_subcommand(
      "run",
      "Start a workflow run on the server: a YAML file, builtin://NAME, or a project's "
      "workflow by name with --project; --follow prints each node as it goes");
  run->add_option("workflow", o->workflow, "FILE, builtin://NAME, or NAME with --project")
      ->required();
  run->add_option("--project", o->project, "The project whose stored workflow NAME is");
  add_run_input_options(*run, o->inputs);
  run->add_flag("--follow", o->follow, "Print each node's progress until the run ends");
  add_api_client_options(*run, o->api);
  run->callback([o, &exit_code] { exit_code = run_workflow(*o); });

  auto* follow_command =
      workflow.add_subcommand("follow", "Print a run's nodes as they progress, until it ends");
  follow_command->add_option("run", o->run_id, "The run's id")->required();
  add_api_client_options(*follow_command, o->api);
  follow_command->callback([o, &exit_code] {
    auto client = ApiClient::open(o->api);
    exit_code = client ? follow(*client, o->run_id, o->poll_ms) : report_api_error(client.error());
  });

  auto* list = workflow.add_subcommand("list", "List your workflow runs, newest first");
  add_api_client_options(*list, o->api);
  list->callback([o, &exit_code] {
    auto client = ApiClient::open(o->api);
    exit_code = client ? list_runs(*client) : report_api_error(client.error());
  });
  auto* show = workflow.add_subcommand("show", "Print a run's nodes, their outputs and its end");
  show->add_option("run", o->run_id, "The run's id")->required();
  add_api_client_options(*show, o->api);
  show->callback([o, &exit_code] {
    auto client = ApiClient::open(o->api);
    exit_code = client ? show_run(*client, o->run_id) : report_api_error(client.error());
  });
  auto* cancel = workflow.add_subcommand("cancel", "Cancel a run");
  cancel->add_option("run", o->run_id, "The run's id")->required();
  add_api_client_options(*cancel, o->api);
  cancel->callback([o, &exit_code] {
    auto client = ApiClient::open(o->api);
    if (!client) {
      exit_code = report_api_error(client.error());
      return;
    }
    auto cancelled = client->call("POST", "/api/v1/runs/" + o->run_id + "/cancel", Json::object());
    exit_code = cancelled ? (std::printf("cancelled %s\n", shown(o->run_id).c_str()), 0)
                          : report_api_error(cancelled.error());
  });

  for (const char* verb : {"approve", "deny"}) {
    auto* command = workflow.add_subcommand(
        verb, std::string(verb == std::string("approve") ? "Approve" : "Deny") +
                  " the approval a run waits for");
    command->add_option("run", o->run_id, "The run's id")->required();
    command->add_option("--node", o->node, "Which approval, when several wait (key or path)");
    command->add_option("--message", o->message, "A note for the run");
    add_api_client_options(*command, o->api);
    command->callback([o, &exit_code, verb] { exit_code = answer_run(*o, verb); });
  }
  auto* answer = workflow.add_subcommand("answer", "Answer the question a run waits for");
  answer->add_option("run", o->run_id, "The run's id")->required();
  answer->add_option("value", o->answer, "The answer (JSON, or plain text)")->required();
  answer->add_option("--node", o->node, "Which question, when several wait (key or path)");
  add_api_client_options(*answer, o->api);
  answer->callback([o, &exit_code] { exit_code = answer_run(*o, "answer"); });
}

}  // namespace reliant
