// Scripted model: plan from the user's words, one tool per turn, then a summary of the results.
#include "core/agent/scripted_model.h"

#include <algorithm>
#include <cctype>

#include "base/json_parse.h"
#include "core/workflow/agent_inbox.h"

namespace reliant::agent {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string text_of(const llm::Message& message) {
  std::string text;
  for (const auto& block : message.content) {
    if (block.kind == llm::Block::Kind::text) text += block.text;
  }
  return text;
}

// The first lines of a tool's output, so that the answer stays short.
std::string excerpt(const std::string& content) {
  constexpr std::size_t lines_max = 12;
  constexpr std::size_t bytes_max = 1200;
  std::string out;
  std::size_t lines = 0;
  for (std::size_t i = 0; i < content.size() && out.size() < bytes_max; ++i) {
    if (content[i] == '\n' && ++lines == lines_max) {
      out += "\n…";
      break;
    }
    out.push_back(content[i]);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string describe_call(const llm::Block& call) {
  if (call.tool_name == "bash") return "`" + call.input.value("command", std::string()) + "`";
  if (call.tool_name == "ls")
    return "the files in `" + call.input.value("path", std::string(".")) + "`";
  return call.tool_name;
}

// A value that fits a JSON Schema: an enum's first choice, an object's properties filled in
// turn, text from `text` for strings. Deterministic, for the scripted model's structured answers.
llm::Json example_of(const llm::Json& schema, const std::string& text, int depth = 0) {
  if (!schema.is_object() || depth > 8) return nullptr;
  if (schema.contains("enum") && schema["enum"].is_array() && !schema["enum"].empty()) {
    return schema["enum"][0];
  }
  const std::string type = schema.value("type", schema.contains("properties") ? "object" : "");
  if (type == "object") {
    llm::Json out = llm::Json::object();
    const auto properties = schema.find("properties");
    if (properties == schema.end() || !properties->is_object()) return out;
    for (auto it = properties->begin(); it != properties->end(); ++it) {
      out[it.key()] = example_of(it.value(), text, depth + 1);
    }
    return out;
  }
  if (type == "array") return llm::Json::array();
  if (type == "boolean") return true;
  if (type == "integer" || type == "number") return 1;
  return excerpt(text.empty() ? std::string("(scripted)") : text);
}

// The answer once the planned calls are done: a report acknowledged, the user's words echoed
// when they asked for nothing, else what each call returned.
std::string final_answer(bool report, const std::string& user_text,
                         const std::vector<llm::Block>& plan,
                         const std::vector<const llm::Block*>& results) {
  std::string answer;
  if (report) {
    answer = "Noted: " + excerpt(user_text);
  } else if (plan.empty()) {
    answer = "You said: " + user_text +
             "\n(I am the scripted model: ask me to list the files or to run a `command`.)";
  } else {
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const auto& result = *results[i];
      const bool listing = plan[i].tool_name == "ls";
      std::string what = describe_call(plan[i]);
      if (listing) what[0] = 'T';
      answer += (i ? "\n\n" : "") + what +
                (result.is_error ? " failed:\n"
                 : listing       ? " are:\n"
                                 : " printed:\n") +
                excerpt(result.text);
    }
  }
  return answer;
}

}  // namespace

std::vector<llm::Block> scripted_plan(const std::string& user_text) {
  std::vector<llm::Block> plan;
  const std::string text = lower(user_text);
  const bool wants_listing =
      text.find("list") != std::string::npos &&
      (text.find("file") != std::string::npos || text.find("director") != std::string::npos);
  if (wants_listing) {
    llm::Block call;
    call.kind = llm::Block::Kind::tool_call;
    call.tool_name = "ls";
    call.input = {{"path", "."}};
    plan.push_back(std::move(call));
  }
  for (std::size_t open = user_text.find('`'); open != std::string::npos;) {
    const std::size_t close = user_text.find('`', open + 1);
    if (close == std::string::npos) break;
    const std::string command = user_text.substr(open + 1, close - open - 1);
    constexpr std::string_view kToolPrefix = "tool:";
    if (command.rfind(kToolPrefix, 0) == 0) {
      // `tool:NAME {json input}`: any tool, e.g. `tool:view {"file_path":"notes.txt"}`.
      const std::size_t space = command.find(' ');
      llm::Block call;
      call.kind = llm::Block::Kind::tool_call;
      call.tool_name = command.substr(kToolPrefix.size(), space == std::string::npos
                                                              ? std::string::npos
                                                              : space - kToolPrefix.size());
      const std::string input = space == std::string::npos ? "{}" : command.substr(space + 1);
      call.input = parse_json_or_discarded(input);
      if (!call.input.is_object()) call.input = llm::Json::object();
      if (!call.tool_name.empty()) plan.push_back(std::move(call));
    } else if (!command.empty()) {
      llm::Block call;
      call.kind = llm::Block::Kind::tool_call;
      call.tool_name = "bash";
      call.input = {{"command", command}};
      plan.push_back(std::move(call));
    }
    open = user_text.find('`', close + 1);
  }
  return plan;
}

llm::Response scripted_reply(const llm::Request& request) {
  llm::Response response;
  response.model = request.model.empty() ? "scripted" : request.model;
  // The latest user message, the results that followed it, and the number of calls so far
  // (tool call ids are numbered across the whole conversation, so they stay unique).
  const std::vector<const llm::Message*> messages = request.conversation();
  std::size_t last_user = messages.size();
  std::size_t calls_so_far = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (messages[i]->role == llm::Message::Role::user) last_user = i;
    for (const auto& block : messages[i]->content) {
      if (block.kind == llm::Block::Kind::tool_call) ++calls_so_far;
    }
  }
  std::string user_text;
  std::vector<const llm::Block*> results;
  if (last_user < messages.size()) {
    user_text = text_of(*messages[last_user]);
    for (std::size_t i = last_user + 1; i < messages.size(); ++i) {
      for (const auto& block : messages[i]->content) {
        if (block.kind == llm::Block::Kind::tool_result) results.push_back(&block);
      }
    }
  }
  // A sub-agent's report (agent_inbox.h) is news, not a plan: it is acknowledged, never run.
  const bool report = workflow::is_report_text(user_text);
  const auto plan = report ? std::vector<llm::Block>{} : scripted_plan(user_text);
  response.input_tokens = static_cast<std::int64_t>(user_text.size() / 4 + 1);
  if (results.size() < plan.size()) {
    llm::Block call = plan[results.size()];
    call.tool_call_id = "call_" + std::to_string(calls_so_far + 1);
    response.content.push_back(
        llm::Block::text_block("Let me look at " + describe_call(call) + "."));
    response.content.push_back(std::move(call));
    response.stop_reason = "tool_use";
    response.output_tokens = 16;
    return response;
  }
  // Offered a response tool, the model answers through it, with arguments made from its schema.
  const auto respond = std::find_if(request.tools.begin(), request.tools.end(),
                                    [](const llm::ToolSpec& tool) { return tool.response; });
  const bool responded = std::any_of(results.begin(), results.end(), [&](const llm::Block* r) {
    return respond != request.tools.end() && r->text == "Recorded.";
  });
  if (respond != request.tools.end() && !responded) {
    llm::Block call;
    call.kind = llm::Block::Kind::tool_call;
    call.tool_name = respond->name;
    call.tool_call_id = "call_" + std::to_string(calls_so_far + 1);
    call.input = example_of(respond->input_schema, user_text);
    if (!call.input.is_object()) call.input = llm::Json::object();
    response.content.push_back(std::move(call));
    response.stop_reason = "tool_use";
    response.output_tokens = 16;
    return response;
  }
  const std::string answer = final_answer(report, user_text, plan, results);
  response.content.push_back(llm::Block::text_block(answer));
  response.stop_reason = "end_turn";
  response.output_tokens = static_cast<std::int64_t>(answer.size() / 4 + 1);
  return response;
}

Task<Result<llm::Response>> ScriptedLlm::complete(llm::Request request, llm::TextSink on_text) {
  llm::Response response = scripted_reply(request);
  if (on_text) {
    for (const auto& block : response.content) {
      if (block.kind != llm::Block::Kind::text) continue;
      // Deltas of up to eight words, split after a space, as a streaming model sends them.
      std::size_t start = 0, words = 0;
      for (std::size_t i = 0; i < block.text.size(); ++i) {
        if (block.text[i] == ' ' && ++words % 8 == 0) {
          on_text(std::string_view(block.text).substr(start, i + 1 - start));
          start = i + 1;
        }
      }
      if (start < block.text.size()) on_text(std::string_view(block.text).substr(start));
    }
  }
  co_return response;
}

}  // namespace reliant::agent
