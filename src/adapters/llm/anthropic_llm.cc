// AnthropicLlm: maps the provider-neutral conversation to a Messages API request and folds
// the streamed events (message_start … message_stop) back into one Response.
#include "adapters/llm/anthropic_llm.h"

#include <algorithm>
#include <exception>
#include <map>
#include <utility>
#include <vector>

#include "adapters/llm/wire_json.h"
#include "base/json_parse.h"
#include "core/sse.h"

namespace reliant::llm {

namespace {

constexpr const char* kAnthropic = "anthropic";

using wire::excerpt;
using wire::integer_at;
using wire::member;
using wire::string_at;

Json wire_block(const Block& block) {
  switch (block.kind) {
    case Block::Kind::text:
      return {{"type", "text"}, {"text", block.text}};
    case Block::Kind::tool_call:
      return {{"type", "tool_use"},
              {"id", block.tool_call_id},
              {"name", block.tool_name},
              {"input", block.input.is_object() ? block.input : Json::object()}};
    case Block::Kind::tool_result: {
      return {{"type", "tool_result"},
              {"tool_use_id", block.tool_call_id},
              {"content", block.text},
              {"is_error", block.is_error}};
    }
  }
  return Json::object();
}

// The API refuses an input_schema without "type": an empty schema means "no arguments".
Json input_schema(const Json& schema) {
  if (!schema.is_object() || schema.empty()) {
    return {{"type", "object"}, {"properties", Json::object()}};
  }
  if (!schema.contains("type")) {
    Json out = schema;
    out["type"] = "object";
    return out;
  }
  return schema;
}

// Error types the API documents as transient: its 500, 529 and 429 equivalents.
bool transient_error_type(const std::string& type) {
  return type == "overloaded_error" || type == "api_error" || type == "rate_limit_error";
}

ErrorCode code_for_error_type(const std::string& type) {
  if (type == "invalid_request_error") return ErrorCode::invalid_argument;
  if (type == "authentication_error" || type == "permission_error") {
    return ErrorCode::unauthenticated;
  }
  return ErrorCode::unavailable;
}

// Folds one attempt's events into a Response, handing text deltas to the sink as they come.
class AnthropicStream final : public StreamConsumer {
 public:
  AnthropicStream(TextSink on_text, std::string model)
      : on_text_(std::move(on_text)), model_(std::move(model)) {}

  void begin_attempt() override {
    sse_ = SseParser();
    response_ = Response();
    response_.model = model_;
    blocks_.clear();
    delivered_ = false;
    stopped_ = false;
  }

  std::optional<StreamFailure> consume(std::string_view bytes) override {
    events_.clear();
    Result<void> fed = sse_.feed(bytes, events_);
    if (!fed)
      return StreamFailure{{ErrorCode::unavailable, kAnthropic + (": " + fed.error().message)},
                           false};
    for (const SseEvent& event : events_) {
      std::optional<StreamFailure> failed;
      try {
        failed = on_event(event);
      } catch (const std::exception& e) {
        failed =
            StreamFailure{{ErrorCode::unavailable, std::string(kAnthropic) + ": cannot handle a '" +
                                                       event.event + "' event: " + e.what()},
                          false};
      }
      if (failed) return failed;
    }
    return std::nullopt;
  }

  std::optional<StreamFailure> finish() override {
    if (!stopped_) {
      // Cut before message_stop: like a broken connection, retryable while nothing was shown.
      return StreamFailure{{ErrorCode::unavailable,
                            std::string(kAnthropic) + ": the stream ended before message_stop"},
                           true};
    }
    for (auto& [index, slot] : blocks_) close_block(slot);
    std::vector<Block> content;
    for (Block& block : response_.content) {
      if (block.kind == Block::Kind::text && block.text.empty()) continue;
      content.push_back(std::move(block));
    }
    response_.content = std::move(content);
    return std::nullopt;
  }

  bool delivered_text() const override { return delivered_; }

  Response take_response() override { return std::move(response_); }

 private:
  struct Slot {
    bool tracked = false;   // a text, thinking or tool_use block (others are skipped)
    bool thinking = false;  // its text goes to the response's `thinking`
    bool closed = false;
    std::size_t position = 0;  // in response_.content
    bool tool = false;
    std::string json;  // the tool input's partial_json fragments so far
    Json initial_input = Json::object();
  };

  std::optional<StreamFailure> on_event(const SseEvent& event) {
    if (stopped_) return std::nullopt;  // nothing after message_stop matters
    Json data = parse_json_or_discarded(event.data);
    if (data.is_discarded() || !data.is_object()) {
      return StreamFailure{
          {ErrorCode::unavailable, std::string(kAnthropic) + ": malformed JSON in a '" +
                                       event.event + "' event: " + excerpt(event.data)},
          false};
    }
    std::string type = string_at(data, "type");
    if (type.empty()) type = event.event;

    if (type == "message_start") {
      const Json& message = member(data, "message");
      if (std::string model = string_at(message, "model"); !model.empty()) {
        response_.model = std::move(model);
      }
      const Json& usage = member(message, "usage");
      response_.input_tokens = integer_at(usage, "input_tokens").value_or(0);
      response_.output_tokens = integer_at(usage, "output_tokens").value_or(0);
    } else if (type == "content_block_start") {
      start_block(data);
    } else if (type == "content_block_delta") {
      const auto it = blocks_.find(integer_at(data, "index").value_or(-1));
      if (it == blocks_.end() || !it->second.tracked) return std::nullopt;
      const Json& delta = member(data, "delta");
      const std::string kind = string_at(delta, "type");
      if (kind == "thinking_delta" && it->second.thinking) {
        response_.thinking += string_at(delta, "thinking");
      } else if (kind == "text_delta" && !it->second.tool && !it->second.thinking) {
        append_text(it->second, string_at(delta, "text"));
      } else if (kind == "input_json_delta" && it->second.tool) {
        it->second.json += string_at(delta, "partial_json");
      }
    } else if (type == "content_block_stop") {
      const auto it = blocks_.find(integer_at(data, "index").value_or(-1));
      if (it != blocks_.end()) close_block(it->second);
    } else if (type == "message_delta") {
      if (std::string reason = string_at(member(data, "delta"), "stop_reason"); !reason.empty()) {
        response_.stop_reason = std::move(reason);
      }
      const Json& usage = member(data, "usage");
      if (auto output = integer_at(usage, "output_tokens")) response_.output_tokens = *output;
      if (auto input = integer_at(usage, "input_tokens"); input && *input > 0) {
        response_.input_tokens = *input;
      }
    } else if (type == "message_stop") {
      stopped_ = true;
    } else if (type == "error") {
      const Json& error = member(data, "error");
      const std::string error_type = string_at(error, "type");
      std::string message = string_at(error, "message");
      if (message.empty()) message = excerpt(event.data);
      return StreamFailure{{code_for_error_type(error_type),
                            std::string(kAnthropic) + ": " +
                                (error_type.empty() ? "error" : error_type) + ": " + message},
                           transient_error_type(error_type)};
    }
    // ping and event types added after this was written carry nothing we need.
    return std::nullopt;
  }

  // A content block begins: text and tool calls take their place in the response, thinking
  // goes to its `thinking`; other kinds are skipped.
  void start_block(const Json& data) {
    const std::int64_t index = integer_at(data, "index").value_or(-1);
    const Json& block = member(data, "content_block");
    const std::string kind = string_at(block, "type");
    Slot slot;
    if (kind == "text") {
      slot.tracked = true;
      slot.position = response_.content.size();
      response_.content.push_back(Block::text_block(std::string()));
      const std::string initial = string_at(block, "text");
      if (!initial.empty()) append_text(slot, initial);
    } else if (kind == "thinking") {
      slot.tracked = true;
      slot.thinking = true;
      response_.thinking += string_at(block, "thinking");
    } else if (kind == "tool_use") {
      slot.tracked = true;
      slot.tool = true;
      slot.position = response_.content.size();
      Block call;
      call.kind = Block::Kind::tool_call;
      call.tool_call_id = string_at(block, "id");
      call.tool_name = string_at(block, "name");
      const Json& input = member(block, "input");
      if (input.is_object()) slot.initial_input = input;
      response_.content.push_back(std::move(call));
    }
    blocks_[index] = std::move(slot);
  }

  void append_text(Slot& slot, const std::string& text) {
    if (text.empty()) return;
    response_.content[slot.position].text += text;
    if (on_text_) {
      delivered_ = true;
      on_text_(text);
    }
  }

  // A tool's input is complete at its content_block_stop. Input that is not a JSON object
  // becomes {}: the tool then reports the missing arguments to the model, which can recover.
  void close_block(Slot& slot) {
    if (!slot.tracked || slot.closed) return;
    slot.closed = true;
    if (!slot.tool) return;
    Json input = slot.initial_input;
    if (!slot.json.empty()) {
      Json parsed = parse_json_or_discarded(slot.json);
      input = !parsed.is_discarded() && parsed.is_object() ? std::move(parsed) : Json::object();
    }
    response_.content[slot.position].input = std::move(input);
  }

  TextSink on_text_;
  std::string model_;
  SseParser sse_;
  std::vector<SseEvent> events_;
  Response response_;
  std::map<std::int64_t, Slot> blocks_;
  bool delivered_ = false;
  bool stopped_ = false;
};

}  // namespace

Json anthropic_request_body(const Request& request, const std::string& model) {
  Json messages = Json::array();
  for (const Message* each : request.conversation()) {
    const Message& message = *each;
    const char* role = message.role == Message::Role::assistant ? "assistant" : "user";
    Json content = Json::array();
    for (const Block& block : message.content) {
      // The API refuses empty text blocks.
      if (block.kind == Block::Kind::text && block.text.empty()) continue;
      content.push_back(wire_block(block));
    }
    if (content.empty()) continue;
    if (!messages.empty() && messages.back()["role"] == role) {
      for (Json& block : content) messages.back()["content"].push_back(std::move(block));
      continue;
    }
    messages.push_back({{"role", role}, {"content", std::move(content)}});
  }
  Json body = {{"model", model},
               {"max_tokens", request.tokens_max > 0 ? request.tokens_max : 4096},
               {"messages", std::move(messages)},
               {"stream", true}};
  if (!request.system.empty()) body["system"] = request.system;
  // Extended thinking: the budget comes on top of the answer's tokens, and the API takes no
  // temperature with it. A turn that answers tool results goes without: the earlier turn's
  // thinking (which the API then wants first) is not kept in the conversation.
  const auto conversation = request.conversation();
  const bool answers_tools =
      !conversation.empty() && conversation.back()->role == Message::Role::tool;
  if (request.thinking_tokens > 0 && !answers_tools) {
    body["thinking"] = {{"type", "enabled"}, {"budget_tokens", request.thinking_tokens}};
    body["max_tokens"] = body["max_tokens"].get<std::int64_t>() + request.thinking_tokens;
  } else if (request.temperature) {
    body["temperature"] = std::clamp(*request.temperature, 0.0, 1.0);
  }
  if (!request.tools.empty()) {
    Json tools = Json::array();
    for (const ToolSpec& tool : request.tools) {
      Json spec = {{"name", tool.name}, {"input_schema", input_schema(tool.input_schema)}};
      if (!tool.description.empty()) spec["description"] = tool.description;
      tools.push_back(std::move(spec));
    }
    body["tools"] = std::move(tools);
  }
  return body;
}

std::string anthropic_error_message(std::string_view body) {
  const Json parsed = parse_json_or_discarded(body);
  if (parsed.is_discarded()) return {};
  const Json& error = member(parsed, "error");
  std::string message = string_at(error, "message");
  const std::string type = string_at(error, "type");
  if (!type.empty() && !message.empty()) return type + ": " + message;
  return message;
}

AnthropicLlm::AnthropicLlm(AsioExecutor& executor, AnthropicConfig config)
    : HttpProviderLlm(executor, config.ca_file, config.jitter_seed), config_(std::move(config)) {}

Task<Result<Response>> AnthropicLlm::complete(Request request, TextSink on_text) {
  const std::string model = request.model.empty() ? config_.model : request.model;
  // The user's own key (kept in their settings), else the server's.
  const std::string api_key = request.api_key.empty() ? config_.api_key : request.api_key;
  ProviderCall call;
  call.provider = kAnthropic;
  call.post.url = join_url(config_.base_url, "/v1/messages");
  call.post.headers = {{"x-api-key", api_key},
                       {"anthropic-version", config_.api_version},
                       {"content-type", "application/json"},
                       {"accept", "text/event-stream"}};
  // Invalid UTF-8 in the conversation (a tool's binary output) is replaced, not thrown.
  call.post.body =
      anthropic_request_body(request, model).dump(-1, ' ', false, Json::error_handler_t::replace);
  call.post.timeouts = config_.timeouts;
  call.error_message = anthropic_error_message;
  call.secret = api_key;

  Task<Result<Response>> calling = streamed(
      std::move(call), config_.retry, std::make_unique<AnthropicStream>(std::move(on_text), model));
  co_return co_await calling;
}

}  // namespace reliant::llm
