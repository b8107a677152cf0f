// Llm: a chat completion with tools, its text streamed as it is generated
// (docs/architecture.md §4). Adapters: Anthropic Messages, OpenAI Chat Completions (any compatible
// base URL) and the scripted model the simulator, the tests and the offline demo use. The
// conversation is kept in one provider-neutral form; each adapter translates it to its wire format.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "runtime/task.h"

namespace reliant::llm {

using Json = nlohmann::json;

struct ToolSpec {
  std::string name;
  std::string description;
  Json input_schema = Json::object();  // JSON Schema of the tool's input object
  // A response tool: calling it is how the model gives its structured answer (a workflow's
  // `response_tool`), not work to run.
  bool response = false;
};

// One piece of a message: text, a tool call the model made, or the result of one.
struct Block {
  enum class Kind { text, tool_call, tool_result };
  Kind kind = Kind::text;
  std::string text;             // text; a tool result's content
  std::string tool_call_id;     // tool_call and tool_result
  std::string tool_name;        // tool_call
  Json input = Json::object();  // tool_call
  bool is_error = false;        // tool_result

  static Block text_block(std::string text) {
    return {Kind::text, std::move(text), {}, {}, Json::object(), false};
  }
};

struct Message {
  enum class Role { user, assistant, tool };
  Role role = Role::user;
  std::vector<Block> content;
};

struct Request {
  std::string model;
  // Whom the call is for ("": nobody in particular): a process that keeps users' own provider
  // keys calls the provider with theirs (services/agent/user_provider_keys.h).
  std::string user_id;
  std::string system;
  // The conversation before `messages`, shared and read-only: a long conversation a worker keeps
  // (services/agent/conversation_cache.h) is then not copied into every turn's request. The
  // model reads `earlier`, then `messages` (conversation()).
  std::shared_ptr<const std::vector<Message>> earlier;
  std::vector<Message> messages;
  std::vector<ToolSpec> tools;
  std::int64_t tokens_max = 4096;
  std::optional<double> temperature;  // the provider's default when unset
  // Thinking before answering, for models that take it: Anthropic's extended thinking budget
  // (0: none) and OpenAI's reasoning effort ("": none). The caller sets the one its provider
  // reads (core/agent/model_catalog.h maps a thinking level to both).
  std::int64_t thinking_tokens = 0;
  std::string reasoning_effort;
  // The caller's own API key for the provider (a user's, from their settings); empty: the
  // provider's configured one. A secret: never logged, never in an error message.
  std::string api_key;

  // Every message, in order.
  std::vector<const Message*> conversation() const {
    std::vector<const Message*> all;
    all.reserve((earlier ? earlier->size() : 0) + messages.size());
    if (earlier) {
      for (const auto& m : *earlier) all.push_back(&m);
    }
    for (const auto& m : messages) all.push_back(&m);
    return all;
  }
};

struct Response {
  std::string model;
  std::vector<Block> content;  // text and tool_call blocks, in the order the model gave them
  std::string stop_reason;     // "end_turn", "tool_use", "max_tokens", …
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::string thinking;  // what the model thought, where the provider shows it
};

// Receives the response's text as it is generated (called on the caller's executor).
using TextSink = std::function<void(std::string_view delta)>;

class Llm {
 public:
  virtual ~Llm() = default;
  // Fails with `unavailable` (unreachable, 5xx, 429 after retries), `timeout`, `invalid_argument`
  // (the provider refused the request) or `unauthenticated` (a bad key).
  virtual Task<Result<Response>> complete(Request request, TextSink on_text) = 0;
};

}  // namespace reliant::llm
