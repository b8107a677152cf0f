// OpenAiLlm: maps the provider-neutral conversation to a Chat Completions request and folds
// the streamed chunks (content deltas, tool call fragments by index, usage, [DONE]) back into
// one Response.
#include "adapters/llm/openai_llm.h"

#include <exception>
#include <map>
#include <utility>
#include <vector>

#include "adapters/llm/wire_json.h"
#include "base/json_parse.h"
#include "core/sse.h"

namespace reliant::llm {

namespace {

constexpr const char* kOpenAi = "openai";

using wire::excerpt;
using wire::integer_at;
using wire::member;
using wire::string_at;

Json parameters(const Json& schema) {
  if (!schema.is_object() || schema.empty()) {
    return {{"type", "object"}, {"properties", Json::object()}};
  }
  return schema;
}

std::string joined_text(const Message& message) {
  std::string text;
  for (const Block& block : message.content) {
    if (block.kind != Block::Kind::text || block.text.empty()) continue;
    if (!text.empty()) text += "\n";
    text += block.text;
  }
  return text;
}

void append_tool_results(const Message& message, Json& messages) {
  for (const Block& block : message.content) {
    if (block.kind != Block::Kind::tool_result) continue;
    messages.push_back({{"role", "tool"},
                        {"tool_call_id", block.tool_call_id},
                        {"content", block.is_error ? "Error: " + block.text : block.text}});
  }
}

// Folds one attempt's chunks into a Response, handing content deltas to the sink as they come.
class OpenAiStream final : public StreamConsumer {
 public:
  OpenAiStream(TextSink on_text, std::string model)
      : on_text_(std::move(on_text)), model_(std::move(model)) {}

  void begin_attempt() override {
    sse_ = SseParser();
    text_.clear();
    calls_.clear();
    finish_reason_.clear();
    response_ = Response();
    response_.model = model_;
    delivered_ = false;
    done_ = false;
  }

  std::optional<StreamFailure> consume(std::string_view bytes) override {
    events_.clear();
    Result<void> fed = sse_.feed(bytes, events_);
    if (!fed) {
      return StreamFailure{{ErrorCode::unavailable, kOpenAi + (": " + fed.error().message)}, false};
    }
    for (const SseEvent& event : events_) {
      std::optional<StreamFailure> failed;
      try {
        failed = on_event(event);
      } catch (const std::exception& e) {
        failed = StreamFailure{
            {ErrorCode::unavailable, std::string(kOpenAi) + ": cannot handle a chunk: " + e.what()},
            false};
      }
      if (failed) return failed;
    }
    return std::nullopt;
  }

  std::optional<StreamFailure> finish() override {
    // Some compatible servers end without [DONE]; a finish_reason says the answer is whole.
    if (!done_ && finish_reason_.empty()) {
      return StreamFailure{
          {ErrorCode::unavailable, std::string(kOpenAi) + ": the stream ended before [DONE]"},
          true};
    }
    if (!text_.empty()) response_.content.push_back(Block::text_block(std::move(text_)));
    for (auto& [index, call] : calls_) {
      Block block;
      block.kind = Block::Kind::tool_call;
      block.tool_call_id = call.id.empty() ? "call_" + std::to_string(index) : call.id;
      block.tool_name = call.name;
      // Invalid arguments become {}: the tool reports what is missing and the model recovers.
      Json input =
          call.arguments.empty() ? Json::object() : parse_json_or_discarded(call.arguments);
      block.input = !input.is_discarded() && input.is_object() ? std::move(input) : Json::object();
      response_.content.push_back(std::move(block));
    }
    response_.stop_reason = openai_stop_reason(finish_reason_);
    if (response_.stop_reason.empty())
      response_.stop_reason = calls_.empty() ? "end_turn" : "tool_use";
    return std::nullopt;
  }

  bool delivered_text() const override { return delivered_; }

  Response take_response() override { return std::move(response_); }

 private:
  struct Call {
    std::string id;
    std::string name;
    std::string arguments;  // JSON text, concatenated from the fragments
  };

  std::optional<StreamFailure> on_event(const SseEvent& event) {
    if (done_) return std::nullopt;
    if (event.data == "[DONE]") {
      done_ = true;
      return std::nullopt;
    }
    Json chunk = parse_json_or_discarded(event.data);
    if (chunk.is_discarded() || !chunk.is_object()) {
      return StreamFailure{
          {ErrorCode::unavailable,
           std::string(kOpenAi) + ": malformed JSON in a chunk: " + excerpt(event.data)},
          false};
    }
    if (const Json& error = member(chunk, "error"); !error.is_null()) {
      std::string message =
          error.is_string() ? error.get<std::string>() : string_at(error, "message");
      const std::string type = string_at(error, "type");
      if (message.empty()) message = excerpt(event.data);
      return StreamFailure{
          {ErrorCode::unavailable,
           std::string(kOpenAi) + ": " + (type.empty() ? "" : type + ": ") + message},
          type == "server_error"};
    }
    if (std::string model = string_at(chunk, "model"); !model.empty()) {
      response_.model = std::move(model);
    }
    if (const Json& usage = member(chunk, "usage"); usage.is_object()) {
      if (auto input = integer_at(usage, "prompt_tokens")) response_.input_tokens = *input;
      if (auto output = integer_at(usage, "completion_tokens")) response_.output_tokens = *output;
    }
    const Json& choices = member(chunk, "choices");
    if (!choices.is_array() || choices.empty()) return std::nullopt;  // e.g. the usage chunk
    const Json* choice = &choices.front();
    for (const Json& candidate : choices) {
      if (integer_at(candidate, "index").value_or(0) == 0) {
        choice = &candidate;
        break;
      }
    }
    const Json& delta = member(*choice, "delta");
    append_text(string_at(delta, "content"));
    append_text(string_at(delta, "refusal"));
    if (const Json& calls = member(delta, "tool_calls"); calls.is_array()) {
      std::int64_t position = 0;
      for (const Json& fragment : calls) {
        Call& call = calls_[integer_at(fragment, "index").value_or(position++)];
        if (std::string id = string_at(fragment, "id"); !id.empty()) call.id = std::move(id);
        const Json& function = member(fragment, "function");
        if (std::string name = string_at(function, "name"); !name.empty() && call.name.empty()) {
          call.name = std::move(name);
        }
        call.arguments += string_at(function, "arguments");
      }
    }
    if (std::string reason = string_at(*choice, "finish_reason"); !reason.empty()) {
      finish_reason_ = std::move(reason);
    }
    return std::nullopt;
  }

  void append_text(const std::string& text) {
    if (text.empty()) return;
    text_ += text;
    if (on_text_) {
      delivered_ = true;
      on_text_(text);
    }
  }

  TextSink on_text_;
  std::string model_;
  SseParser sse_;
  std::vector<SseEvent> events_;
  std::string text_;
  std::map<std::int64_t, Call> calls_;  // by the chunks' tool call index
  std::string finish_reason_;
  Response response_;
  bool delivered_ = false;
  bool done_ = false;
};

}  // namespace

std::string openai_stop_reason(const std::string& finish_reason) {
  if (finish_reason == "stop") return "end_turn";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "length") return "max_tokens";
  return finish_reason;
}

Json openai_request_body(const Request& request, const std::string& model) {
  Json messages = Json::array();
  if (!request.system.empty())
    messages.push_back({{"role", "system"}, {"content", request.system}});
  for (const Message* each : request.conversation()) {
    const Message& message = *each;
    switch (message.role) {
      case Message::Role::user: {
        append_tool_results(message, messages);  // only tool messages should carry them
        const std::string text = joined_text(message);
        if (!text.empty()) messages.push_back({{"role", "user"}, {"content", text}});
        break;
      }
      case Message::Role::assistant: {
        Json out = {{"role", "assistant"}};
        const std::string text = joined_text(message);
        Json calls = Json::array();
        for (const Block& block : message.content) {
          if (block.kind != Block::Kind::tool_call) continue;
          const Json& input = block.input.is_object() ? block.input : Json::object();
          calls.push_back(
              {{"id", block.tool_call_id},
               {"type", "function"},
               {"function",
                {{"name", block.tool_name},
                 {"arguments", input.dump(-1, ' ', false, Json::error_handler_t::replace)}}}});
        }
        // With tool calls and no text the API wants content null rather than "".
        out["content"] = text.empty() && !calls.empty() ? Json(nullptr) : Json(text);
        if (!calls.empty()) out["tool_calls"] = std::move(calls);
        messages.push_back(std::move(out));
        break;
      }
      case Message::Role::tool:
        append_tool_results(message, messages);
        break;
    }
  }
  Json body = {{"model", model},
               {"messages", std::move(messages)},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  if (request.tokens_max > 0) body["max_tokens"] = request.tokens_max;
  // Reasoning models take an effort and refuse a temperature other than the default.
  if (!request.reasoning_effort.empty()) {
    body["reasoning_effort"] = request.reasoning_effort;
  } else if (request.temperature) {
    body["temperature"] = *request.temperature;
  }
  if (!request.tools.empty()) {
    Json tools = Json::array();
    for (const ToolSpec& tool : request.tools) {
      Json function = {{"name", tool.name}, {"parameters", parameters(tool.input_schema)}};
      if (!tool.description.empty()) function["description"] = tool.description;
      tools.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    body["tools"] = std::move(tools);
  }
  return body;
}

std::string openai_error_message(std::string_view body) {
  const Json parsed = parse_json_or_discarded(body);
  if (parsed.is_discarded() || !parsed.is_object()) return {};
  const Json& error = member(parsed, "error");
  if (error.is_string()) return error.get<std::string>();
  if (std::string message = string_at(error, "message"); !message.empty()) return message;
  if (std::string message = string_at(parsed, "message"); !message.empty()) return message;
  return string_at(parsed, "detail");
}

OpenAiLlm::OpenAiLlm(AsioExecutor& executor, OpenAiConfig config)
    : HttpProviderLlm(executor, config.ca_file, config.jitter_seed), config_(std::move(config)) {}

Task<Result<Response>> OpenAiLlm::complete(Request request, TextSink on_text) {
  const std::string model = request.model.empty() ? config_.model : request.model;
  // The user's own key (kept in their settings), else the server's.
  const std::string api_key = request.api_key.empty() ? config_.api_key : request.api_key;
  ProviderCall call;
  call.provider = kOpenAi;
  call.post.url = join_url(config_.base_url, "/chat/completions");
  call.post.headers = {{"authorization", "Bearer " + api_key},
                       {"content-type", "application/json"},
                       {"accept", "text/event-stream"}};
  call.post.body =
      openai_request_body(request, model).dump(-1, ' ', false, Json::error_handler_t::replace);
  call.post.timeouts = config_.timeouts;
  call.error_message = openai_error_message;
  call.secret = api_key;

  Task<Result<Response>> calling = streamed(
      std::move(call), config_.retry, std::make_unique<OpenAiStream>(std::move(on_text), model));
  co_return co_await calling;
}

}  // namespace reliant::llm
