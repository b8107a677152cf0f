// The chat client: create or reuse a chat, send, then follow the chat's update stream (SSE)
// until the run ends. Exit 0 for an answer, 1 when the run fails or the server refuses, 2 when
// the server cannot be reached or the arguments are wrong. Everything printed that came from the
// server (tool output above all) goes through base/terminal_text.h first: escape sequences in
// it would reach the user's terminal.
#include "app/chat_command.h"

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/api_client.h"
#include "app/http_client.h"
#include "app/run_inputs.h"
#include "app/waiting_nodes.h"
#include "base/json_parse.h"
#include "base/terminal_text.h"
#include "core/sse.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct ChatOptions {
  ApiClientOptions api;
  std::string chat_id;
  std::string daemon;
  std::string model;
  std::string preset;
  std::int64_t turns_max = 0;
  std::string mode;      // builtin://agent's (or any workflow's) mode input
  std::string workflow;  // builtin://NAME or a project's workflow; empty: the chat's
  std::string project;   // a new chat's project, where its workflows come from
  RunInputOptions inputs;
  std::string message;
  bool quiet = false;
};

std::string indent(const std::string& text, std::size_t lines_max) {
  std::string out;
  std::size_t lines = 0, start = 0;
  while (start < text.size()) {
    std::size_t eol = text.find('\n', start);
    if (eol == std::string::npos) eol = text.size();
    if (lines == lines_max) {
      std::size_t rest = 0;
      for (std::size_t i = start; i < text.size(); ++i) rest += text[i] == '\n';
      out += "    … (" + std::to_string(rest + 1) + " more lines)\n";
      break;
    }
    out += (lines == 0 ? "  ⎿ " : "    ") + text.substr(start, eol - start) + "\n";
    ++lines;
    start = eol + 1;
  }
  return out.empty() ? "  ⎿ (no output)\n" : out;
}

// Prints the run's updates; remembers how it ended.
class Printer {
 public:
  Printer(std::string run_id, bool quiet) : run_id_(std::move(run_id)), quiet_(quiet) {}

  // False once the run has ended.
  bool on_event(const SseEvent& sse) {
    // Updates carry stored documents (messages with their tool inputs).
    auto event = parse_json_or_discarded(sse.data, kStoredJsonDepthMax);
    if (event.is_discarded()) return true;
    const std::string kind = event.value("kind", sse.event);
    const Json body = event.value("body", Json::object());
    if (kind == "text_delta") {
      const std::string id = body.value("message_id", "");
      const std::string text = body.value("text", "");
      if (streamed_[id].empty()) std::fputs("● ", stdout);
      streamed_[id] += text;
      // One sanitizer per message across its deltas: a sequence cut between two deltas is
      // still removed whole.
      std::fputs(live_[id].feed(text).c_str(), stdout);
      std::fflush(stdout);
    } else if (kind == "tool_running") {
      if (!quiet_)
        std::printf("  … running %s on %s\n",
                    strip_terminal_controls(body.value("name", "")).c_str(),
                    strip_terminal_controls(body.value("daemon_id", "")).c_str());
      std::fflush(stdout);
    } else if (kind == "message") {
      print_message(body);
    } else if (kind == "resync") {
      // The updates after the last one seen were pruned: this stream cannot go on.
      resync_ = event.value("error", "the updates this stream had still to read are gone") +
                " (run " + strip_terminal_controls(run_id_) + " goes on without this stream)";
      return false;
    } else if (kind == "chat_status" && body.value("run_id", "") == run_id_) {
      status_ = body.value("status", "");
      if (status_ == "running") return true;
      outcome_ = body.value("outcome", status_);
      error_ = body.value("error", "");
      return false;
    }
    return true;
  }

  // Whether a message with tool calls came since the last ask (manual mode then waits).
  bool take_tool_calls() { return std::exchange(tool_calls_, false); }
  const std::string& status() const { return status_; }
  const std::string& outcome() const { return outcome_; }
  const std::string& error() const { return error_; }
  // Why the stream ended before the run did, when the server said (a `resync` event).
  const std::string& resync() const { return resync_; }

 private:
  void print_message(const Json& message) {
    const std::string role = message.value("role", "");
    if (role == "user") return;  // the user typed it
    const std::string id = message.value("id", "");
    for (const auto& block : message.value("content", Json::array())) {
      const std::string kind = block.value("kind", "");
      const Json body = block.value("body", Json::object());
      if (kind == "text") {
        const std::string text = body.value("text", "");
        const std::string& shown = streamed_[id];
        if (shown.empty()) {
          std::printf("● %s\n", strip_terminal_controls(text).c_str());
        } else {
          // The deltas showed a prefix (or all) of it already; the rest continues the same
          // sanitizer, which then ends.
          TerminalSanitizer& live = live_[id];
          std::string rest = text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0
                                 ? live.feed(std::string_view(text).substr(shown.size()))
                                 : std::string();
          rest += live.finish();
          std::printf("%s\n", rest.c_str());
        }
        live_.erase(id);
      } else if (kind == "tool_call") {
        tool_calls_ = true;
        const Json input = body.value("input", Json::object());
        std::string summary = input.contains("command") && input["command"].is_string()
                                  ? input["command"].get<std::string>()
                                  : input.dump();
        std::printf("  ⏺ %s %s\n", strip_terminal_controls(body.value("name", "")).c_str(),
                    strip_terminal_controls(summary).c_str());
      } else if (kind == "tool_result") {
        const bool is_error = body.value("is_error", false);
        std::printf(
            "%s%s", is_error ? "  ✗ error\n" : "",
            indent(strip_terminal_controls(body.value("content", "")), quiet_ ? 3 : 12).c_str());
      } else if (kind == "error") {
        std::printf("✗ %s\n", strip_terminal_controls(body.value("message", "")).c_str());
      }
    }
    std::fflush(stdout);
  }

  std::string run_id_;
  bool quiet_;
  std::map<std::string, std::string> streamed_;    // delta text shown per message id
  std::map<std::string, TerminalSanitizer> live_;  // per message id, while its deltas stream
  bool tool_calls_ = false;
  std::string status_ = "running";
  std::string outcome_;
  std::string error_;
  std::string resync_;
};

// A new chat: it keeps its workflow, inputs and preset for the messages that follow; the server
// titles it from the first message. Its id.
Result<std::string> create_chat(const ApiClient& client, const ChatOptions& o, const Json& inputs) {
  Json create = Json::object();
  if (!o.preset.empty()) create["presets"] = o.preset;
  if (!o.workflow.empty()) create["workflow"] = o.workflow;
  if (!o.project.empty()) create["project_id"] = o.project;
  if (!inputs.empty()) create["inputs"] = inputs;
  auto chat = client.call("POST", "/api/v1/chats", create);
  if (!chat) return fail(chat.error());
  return chat->value("id", "");
}

int run_chat(const ChatOptions& o) {
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());

  auto inputs = run_inputs(o.inputs);
  if (!inputs) return report_api_error(inputs.error());
  std::string chat_id = o.chat_id;
  Json send = {{"text", o.message}};
  if (chat_id.empty()) {
    auto created = create_chat(*client, o, *inputs);
    if (!created) return report_api_error(created.error());
    chat_id = std::move(*created);
  } else {
    if (!o.project.empty()) {
      return report_api_error(
          {ErrorCode::invalid_argument, "--project names a new chat's project, not --chat's"});
    }
    // This message only.
    if (!o.workflow.empty()) send["workflow"] = o.workflow;
    if (!o.preset.empty()) send["presets"] = o.preset;
    if (!inputs->empty()) send["inputs"] = *inputs;
  }
  if (!o.daemon.empty()) {
    auto selector = parse_json_or_discarded(o.daemon);
    send["daemon"] = selector.is_discarded() ? Json(o.daemon) : selector;
  }
  if (!o.model.empty()) send["model"] = o.model;
  if (o.turns_max > 0) send["max_turns"] = o.turns_max;
  if (!o.mode.empty()) send["mode"] = o.mode;
  auto sent = client->call("POST", "/api/v1/chats/" + chat_id + "/messages", send);
  if (!sent) return report_api_error(sent.error());
  const std::string run_id = sent->value("run_id", "");
  const std::int64_t seq = sent->value("seq", std::int64_t{1});
  if (!o.quiet)
    std::printf("chat %s · run %s\n", strip_terminal_controls(chat_id).c_str(),
                strip_terminal_controls(run_id).c_str());
  std::fflush(stdout);

  Printer printer(run_id, o.quiet);
  bool running = true;
  // In manual mode each batch of tool calls waits for a person: say so, and how to answer.
  const bool manual = o.mode == "manual" || inputs->value("mode", Json()) == Json("manual");
  std::set<std::string> waiting_shown;
  // The stream resumes from the message's own update, so nothing between the send and the
  // stream's start is missed; a dropped connection resumes from the last id seen.
  std::string last_id = std::to_string(seq - 1);
  for (int attempt = 0; running && attempt < 5; ++attempt) {
    SseParser parser;  // a fresh one per connection: a cut stream leaves a partial event
    std::vector<SseEvent> events;
    auto streamed =
        http_stream(client->endpoint(),
                    "/api/v1/updates?chat_id=" + url_encode(chat_id) + "&since_seq=" + last_id,
                    client->auth(), [&](std::string_view bytes) {
                      events.clear();
                      if (!parser.feed(bytes, events))
                        return false;  // an oversized event: reconnect
                      for (const auto& event : events) {
                        if (!event.id.empty()) last_id = event.id;
                        if (running) running = printer.on_event(event);
                      }
                      if (running && manual && printer.take_tool_calls())
                        (void)print_new_waiting_nodes(*client, run_id, waiting_shown, 3000);
                      return running;
                    });
    if (streamed && streamed->status / 100 != 2)
      return report_api_error({ErrorCode::failed_precondition, server_error(*streamed)});
    if (!streamed && attempt == 4) return report_api_error(streamed.error());
  }
  if (!printer.resync().empty())
    return report_api_error({ErrorCode::failed_precondition, printer.resync()});
  if (running)
    return report_api_error({ErrorCode::unavailable, "the update stream ended before the run did"});
  if (printer.status() == "idle") {
    if (!o.quiet && printer.outcome() == "max_turns") std::printf("(stopped at max_turns)\n");
    return 0;
  }
  std::fprintf(stderr, "error: the run %s%s%s\n", strip_terminal_controls(printer.status()).c_str(),
               printer.error().empty() ? "" : ": ",
               strip_terminal_controls(printer.error()).c_str());
  return 1;
}

}  // namespace

void add_chat_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ChatOptions>();
  auto* chat =
      app.add_subcommand("chat", "Send a message and stream the agent's answer and tool activity");
  chat->add_option("message", o->message, "What to ask")->required();
  add_api_client_options(*chat, o->api);
  chat->add_option("--chat", o->chat_id, "Continue this chat (default: a new one)");
  chat->add_option(
      "--daemon", o->daemon,
      "Daemon selector for the tools: local, cloud, any, a name, or JSON {id,name,type,labels}");
  chat->add_option("--model", o->model, "Model name");
  chat->add_option("--preset", o->preset,
                   "A preset (reliant preset list): a new chat's for every message, else this "
                   "message's");
  chat->add_option("--max-turns", o->turns_max, "Model turns before the agent stops (1..100)");
  chat->add_option("--mode", o->mode,
                   "auto, manual (each tool call waits for `reliant run approve`) or plan "
                   "(read-only tools)")
      ->check(CLI::IsMember({"auto", "manual", "plan"}));
  chat->add_option("--workflow", o->workflow,
                   "What the chat runs: builtin://NAME, or a project's workflow by name (with "
                   "--project); default builtin://agent, or the chat's");
  chat->add_option("--project", o->project, "A new chat's project (its workflows, its worktrees)");
  add_run_input_options(*chat, o->inputs);
  chat->add_flag("--quiet", o->quiet, "Less tool output");
  chat->callback([o, &exit_code] { exit_code = run_chat(*o); });
}

}  // namespace reliant
