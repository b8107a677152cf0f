// Workflow runs from the command line, over REST: follow (each node's updates printed in order,
// until the run ends), list, show, cancel, and answers for the nodes that wait for a person.
// Exit 0 when the command (or the followed run) succeeds, 1 when the run fails or the server
// refuses, 2 when the server cannot be reached or the arguments are wrong.
#include "app/run_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/run_control_commands.h"
#include "app/waiting_nodes.h"
#include "base/json_parse.h"
#include "base/terminal_text.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct RunCommandOptions {
  ApiClientOptions api;
  std::string run_id;
  std::string node;
  std::string message;
  std::string answer;
  // Between polls of the run while following.
  std::int64_t poll_ms = 500;
};

std::string printable(const std::string& text) { return strip_terminal_controls(text); }

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
    } else if (kind == "run_paused") {
      line = paused_line(event);
      if (line.empty()) return;
    } else {
      return;
    }
    std::printf("%s\n", printable(line).c_str());
    std::fflush(stdout);
  }

 private:
  // What a pause adds, once per pause and per failed step: how to go on.
  std::string paused_line(const Json& event) {
    std::string line;
    for (const auto& held : event.value("held", Json::array())) {
      const std::string key = held.value("key", "");
      if (!held_.insert(key + "@" + std::to_string(held.value("seq", 0))).second) continue;
      line += (line.empty() ? "" : "\n") + std::string("  paused: ") + key +
              " failed: " + held.value("error", "") + " — reliant run retry|skip|fail " + run_id_;
    }
    if (event.value("paused_by_user", false) && !paused_shown_) {
      line += (line.empty() ? "" : "\n") + std::string("  paused — reliant run resume ") + run_id_;
    }
    paused_shown_ = event.value("paused_by_user", false);
    return line;
  }

  std::string run_id_;
  std::set<std::string> waiting_;
  std::set<std::string> held_;
  bool paused_shown_ = false;
};

int print_run_list(const ApiClient& client) {
  auto listed = client.call("GET", "/api/v1/workflows/runs");
  if (!listed) return report_api_error(listed.error());
  for (const auto& run : listed->value("runs", Json::array())) {
    std::string name = run.value("workflow", "");
    if (name.empty()) name = run.value("ref", "");
    std::string line = run.value("id", "") + "  " + run.value("status", "") + "  " + name;
    if (!run.value("parent_run_id", "").empty())
      line += "  (child of " + run.value("parent_run_id", "") + ")";
    std::printf("%s\n", printable(line).c_str());
  }
  return 0;
}

int print_run(const ApiClient& client, const std::string& run_id) {
  auto run = client.call("GET", "/api/v1/runs/" + run_id);
  if (!run) return report_api_error(run.error());
  std::printf("run %s: %s\n", printable(run_id).c_str(),
              printable(run->value("status", "")).c_str());
  for (const auto& node : run->value("nodes", Json::array())) {
    std::string line = "  " + node.value("status", "") + " " + node.value("key", "");
    if (node.contains("type")) line += " (" + node.value("type", "") + ")";
    if (node.contains("error")) line += ": " + node.value("error", "");
    if (node.contains("output")) line += " → " + node["output"].dump();
    std::printf("%s\n", printable(line).c_str());
  }
  const Json control = run->value("control", Json::object());
  if (control.value("paused", false)) {
    std::printf("paused%s\n", control.value("paused_by_user", false) ? " by its user" : "");
    for (const auto& held : control.value("held", Json::array())) {
      std::printf("%s\n", printable("  failed, waiting: " + held.value("key", "") + ": " +
                                    held.value("error", "") + " (reliant run retry|skip|fail " +
                                    run_id + " --node " + held.value("key", "") + ")")
                              .c_str());
    }
  }
  if (run->value("result", Json()).is_object()) {
    std::printf("outputs: %s\n",
                printable((*run)["result"].value("outputs", Json()).dump()).c_str());
  }
  if ((*run)["error"].is_string()) {
    std::printf("error: %s\n", printable((*run)["error"].get<std::string>()).c_str());
  }
  return 0;
}

int request_run_cancel(const ApiClient& client, const std::string& run_id) {
  auto cancelled = client.call("POST", "/api/v1/runs/" + run_id + "/cancel", Json::object());
  if (!cancelled) return report_api_error(cancelled.error());
  std::printf("cancelled %s\n", printable(run_id).c_str());
  return 0;
}

int answer_run(const ApiClient& client, const RunCommandOptions& o, const std::string& verb) {
  Json body = Json::object();
  if (!o.node.empty()) body["node"] = o.node;
  if (verb == "answer") {
    // A JSON value as given ("3", "[\"a\"]", "true"), else the text itself.
    const Json value = parse_json_or_discarded(o.answer);
    body["answer"] = value.is_discarded() ? Json(o.answer) : value;
  } else if (!o.message.empty()) {
    body["message"] = o.message;
  }
  auto answered = client.call("POST", "/api/v1/runs/" + o.run_id + "/" + verb, body);
  if (!answered) return report_api_error(answered.error());
  std::printf("%s %s\n",
              verb == "answer" ? "answered" : (verb == "approve" ? "approved" : "denied"),
              printable(answered->value("node", "")).c_str());
  return 0;
}

// Adds the run commands to `parent`: under `reliant run` by their names, or, `deprecated`, as the
// old aliases under `reliant workflow` (the list as `runs`), each warning before it runs.
void add_run_verbs(CLI::App& parent, int& exit_code, bool deprecated) {
  auto o = std::make_shared<RunCommandOptions>();
  // A subcommand whose callback opens the client and runs `act` with it.
  const auto verb = [&parent, &exit_code, o, deprecated](
                        const std::string& name, const std::string& canonical,
                        const std::string& help,
                        std::function<int(const ApiClient&, const RunCommandOptions&)> act) {
    auto* command = parent.add_subcommand(
        name, deprecated ? "Deprecated: use `reliant run " + canonical + "`" : help);
    if (deprecated) command->group("Deprecated (now under `reliant run`)");
    add_api_client_options(*command, o->api);
    command->callback([o, &exit_code, act, deprecated, name, canonical] {
      if (deprecated) {
        std::fprintf(stderr, "warning: `reliant workflow %s` is deprecated: use `reliant run %s`\n",
                     name.c_str(), canonical.c_str());
      }
      auto client = ApiClient::open(o->api);
      exit_code = client ? act(*client, *o) : report_api_error(client.error());
    });
    return command;
  };

  verb(deprecated ? "runs" : "list", "list", "List your workflow runs, newest first",
       [](const ApiClient& client, const RunCommandOptions&) { return print_run_list(client); });
  verb("show", "show", "Print a run's nodes, their outputs and its end",
       [](const ApiClient& client, const RunCommandOptions& r) {
         return print_run(client, r.run_id);
       })
      ->add_option("run", o->run_id, "The run's id")
      ->required();
  verb("follow", "follow", "Print a run's nodes as they progress, until it ends",
       [](const ApiClient& client, const RunCommandOptions& r) {
         return follow_run(client, r.run_id, r.poll_ms);
       })
      ->add_option("run", o->run_id, "The run's id")
      ->required();
  verb("cancel", "cancel", "Cancel a run",
       [](const ApiClient& client, const RunCommandOptions& r) {
         return request_run_cancel(client, r.run_id);
       })
      ->add_option("run", o->run_id, "The run's id")
      ->required();
  for (const std::string name : {"approve", "deny"}) {
    auto* command = verb(
        name, name,
        (name == "approve" ? "Approve" : "Deny") + std::string(" the approval a run waits for"),
        [name](const ApiClient& client, const RunCommandOptions& r) {
          return answer_run(client, r, name);
        });
    command->add_option("run", o->run_id, "The run's id")->required();
    command->add_option("--node", o->node, "Which approval, when several wait (key or path)");
    command->add_option("--message", o->message, "A note for the run");
  }
  auto* answer = verb("answer", "answer", "Answer the question a run waits for",
                      [](const ApiClient& client, const RunCommandOptions& r) {
                        return answer_run(client, r, "answer");
                      });
  answer->add_option("run", o->run_id, "The run's id")->required();
  answer->add_option("value", o->answer, "The answer (JSON, or plain text)")->required();
  answer->add_option("--node", o->node, "Which question, when several wait (key or path)");
}

}  // namespace

int follow_run(const ApiClient& client, const std::string& run_id, std::int64_t poll_ms) {
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
        std::printf(
            "completed: %s\n",
            printable(event.value("result", Json()).value("outputs", Json()).dump()).c_str());
        return 0;
      }
      if (kind == "run_failed" || kind == "run_cancelled") {
        std::printf("%s: %s\n", kind == "run_failed" ? "failed" : "cancelled",
                    printable(event.value("error", "")).c_str());
        return 1;
      }
      if (kind != "node_waiting") since = std::max(since, event.value("seq", since));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
}

void add_run_commands(CLI::App& app, CLI::App& workflow, int& exit_code) {
  auto* run = app.add_subcommand(
      "run",
      "Workflow runs on the server: list, show, follow, cancel, approve, deny, answer, and pause, "
      "resume, retry, skip, fail, set, mode");
  run->require_subcommand(1);
  add_run_verbs(*run, exit_code, false);
  add_run_control_commands(*run, exit_code);
  add_run_verbs(workflow, exit_code, true);
}

}  // namespace reliant
