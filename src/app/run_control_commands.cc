// `reliant run pause|resume|retry|skip|fail|set|mode|message RUN`: a user's control of a running
// run, over REST (POST /api/v1/runs/RUN/VERB). Exit 0 when the server took the request, 1 when it
// refused it (a run that is not paused cannot be resumed, a step that did not fail cannot be
// retried: its message says why), 2 when it cannot be reached or the arguments are wrong.
#include "app/run_control_commands.h"

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "base/terminal_text.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct RunControlOptions {
  ApiClientOptions api;
  std::string run_id;
  std::string node;    // retry, skip, fail: the step (key, path or node id)
  std::string args;    // retry: a JSON object merged over the step's args
  std::string output;  // skip: the step's output, a JSON object
  std::string name;    // set: the input
  std::string value;   // set: its value (JSON, or plain text); mode: the mode
};

// Text given on the command line as JSON when it parses as JSON, else as the text itself.
Json json_or_text(const std::string& text) {
  const Json value = parse_json_or_discarded(text);
  return value.is_discarded() ? Json(text) : value;
}

// A JSON object given to an option, or an error naming the option.
Result<Json> object_option(const std::string& text, const std::string& option) {
  if (text.empty()) return Json::object();
  const Json value = parse_json_or_discarded(text);
  if (value.is_discarded() || !value.is_object()) {
    return fail(ErrorCode::invalid_argument, option + " must be a JSON object, e.g. '{\"a\": 1}'");
  }
  return value;
}

Result<Json> control_body(const std::string& verb, const RunControlOptions& o) {
  Json body = Json::object();
  if (!o.node.empty()) body["node"] = o.node;
  if (verb == "retry") {
    auto args = object_option(o.args, "--args");
    if (!args) return fail(args.error());
    if (!args->empty()) body["args"] = std::move(*args);
  } else if (verb == "skip") {
    auto output = object_option(o.output, "--output");
    if (!output) return fail(output.error());
    body["output"] = std::move(*output);
  } else if (verb == "set") {
    body = Json{{"name", o.name}, {"value", json_or_text(o.value)}};
  } else if (verb == "mode") {
    body = Json{{"mode", o.value}};
  } else if (verb == "message") {
    body = Json{{"text", o.value}};
  }
  return body;
}

// What the command prints once the server took the request.
std::string done_line(const std::string& verb, const RunControlOptions& o, const Json& done) {
  const std::string run = o.run_id;
  const std::string key = done.value("key", "");
  if (verb == "pause") return "paused " + run + " (steps running now finish first)";
  if (verb == "resume") return "resumed " + run;
  if (verb == "retry") return "retrying " + key + " of " + run;
  if (verb == "skip") return "skipped " + key + " of " + run;
  if (verb == "fail") return "failed " + key + " of " + run;
  if (verb == "set") return "set input " + o.name + " of " + run + " (the next node sees it)";
  if (verb == "message") return "sent to " + run + " (the agent reads it on its next turn)";
  return "mode of " + run + " is now " + o.value + " (from its next step)";
}

int control_run(const ApiClient& client, const std::string& verb, const RunControlOptions& o) {
  auto body = control_body(verb, o);
  if (!body) return report_api_error(body.error());
  auto done = client.call("POST", "/api/v1/runs/" + url_encode(o.run_id) + "/" + verb, *body);
  if (!done) return report_api_error(done.error());
  std::printf("%s\n", strip_terminal_controls(done_line(verb, o, *done)).c_str());
  return 0;
}

}  // namespace

void add_run_control_commands(CLI::App& run, int& exit_code) {
  auto o = std::make_shared<RunControlOptions>();
  const auto verb = [&run, &exit_code, o](const std::string& name, const std::string& help) {
    auto* command = run.add_subcommand(name, help);
    add_api_client_options(*command, o->api);
    command->add_option("run", o->run_id, "The run's id")->required();
    command->callback([o, &exit_code, name] {
      auto client = ApiClient::open(o->api);
      exit_code = client ? control_run(*client, name, *o) : report_api_error(client.error());
    });
    return command;
  };
  verb("pause", "Pause a run: it starts no new step; steps running now finish");
  verb("resume", "Resume a paused run (its failed steps are retried)");
  auto* retry = verb("retry", "Retry the step a run paused on when it failed");
  retry->add_option("--node", o->node, "Which step, when several failed (key, path or id)");
  retry->add_option("--args", o->args, "A JSON object merged over the step's args");
  auto* skip = verb("skip", "Skip the failed step a run paused on, with a given output");
  skip->add_option("--node", o->node, "Which step, when several failed (key, path or id)");
  skip->add_option("--output", o->output, "The step's output, a JSON object (default {})");
  auto* failing = verb("fail", "Fail the step a run paused on, and so the run");
  failing->add_option("--node", o->node, "Which step, when several failed (key, path or id)");
  auto* set = verb("set", "Set one of a running run's inputs; the next node sees it");
  set->add_option("name", o->name, "The input")->required();
  set->add_option("value", o->value, "Its value (JSON, or plain text)")->required();
  auto* mode = verb("mode", "Change a running agent's mode: auto, manual or plan");
  mode->add_option("mode", o->value, "auto, manual or plan")
      ->required()
      ->check(CLI::IsMember({"auto", "manual", "plan"}));
  auto* message = verb("message", "Send a running agent (a sub-agent's run too) a message");
  message->add_option("text", o->value, "The message")->required();
}

}  // namespace reliant
