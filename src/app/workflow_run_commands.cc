// Workflow runs from the command line, over REST: start (the file's YAML travels in the
// request), follow (each node's state printed as it changes, until the run ends), and answers
// for the nodes that wait for a person. Exit 0 when the run completes, 1 when it fails or the
// server refuses, 2 when the server cannot be reached or the arguments are wrong.
#include "app/workflow_run_commands.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/api_client.h"
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
  std::vector<std::string> inputs;  // k=v
  std::string inputs_json;
  bool follow = false;
  std::string run_id;
  std::string node;
  std::string message;
  std::string answer;
  // Between polls of the run while following.
  std::int64_t poll_ms = 500;
};

std::string shown(const std::string& text) { return strip_terminal_controls(text); }

// The run's inputs: --inputs JSON, then each --input k=v over it (values as text; the server
// converts them to each input's type).
Result<Json> inputs_of(const RunOptions& o) {
  Json inputs = Json::object();
  if (!o.inputs_json.empty()) {
    inputs = parse_json_or_discarded(o.inputs_json);
    if (!inputs.is_object())
      return fail(ErrorCode::invalid_argument, "--inputs must be a JSON object");
  }
  for (const auto& pair : o.inputs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument, "--input takes NAME=VALUE, got '" + pair + "'");
    }
    inputs[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return inputs;
}

// One line per node whose state changed since the last poll; the nodes that wait for a person
// say how to answer them.
class NodePrinter {
 public:
  explicit NodePrinter(std::string run_id) : run_id_(std::move(run_id)) {}

  void show(const Json& run) {
    for (const auto& node : run.value("nodes", Json::array())) {
      const std::string key = node.value("key", "");
      const std::string status = node.value("status", "");
      if (seen_[key] == status) continue;
      seen_[key] = status;
      std::string line = "  " + status + " " + key;
      if (node.contains("type")) line += " (" + node.value("type", "") + ")";
      if (status == "failed") line += ": " + node.value("error", "");
      if (status == "waiting") {
        const Json args = node.value("args", Json::object());
        const std::string title = args.value("title", args.value("question", ""));
        if (!title.empty()) line += ": " + title;
        const std::string verb = node.value("type", "") == "ask_question"
                                     ? "answer " + run_id_ + " VALUE"
                                     : "approve|deny " + run_id_;
        line += "\n    → reliant workflow " + verb + " --node " + key;
      }
      std::printf("%s\n", shown(line).c_str());
    }
    std::fflush(stdout);
  }

 private:
  std::string run_id_;
  std::map<std::string, std::string> seen_;
};

int follow(const ApiClient& client, const std::string& run_id, std::int64_t poll_ms) {
  NodePrinter printer(run_id);
  for (;;) {
    auto run = client.call("GET", "/api/v1/runs/" + run_id);
    if (!run) return report_api_error(run.error());
    printer.show(*run);
    const std::string status = run->value("status", "");
    if (status == "completed") {
      std::printf("completed: %s\n",
                  shown(run->value("result", Json()).value("outputs", Json()).dump()).c_str());
      return 0;
    }
    if (status != "running") {
      const Json& error = (*run)["error"];
      std::printf("%s%s\n", shown(status).c_str(),
                  error.is_string() ? (": " + shown(error.get<std::string>())).c_str() : "");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

int run_workflow(const RunOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto inputs = inputs_of(o);
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
  run->add_option("--input", o->inputs, "An input, NAME=VALUE (repeatable)");
  run->add_option("--inputs", o->inputs_json, "Inputs as a JSON object");
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
