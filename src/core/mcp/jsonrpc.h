// JSON-RPC 2.0 messages as MCP exchanges them (one JSON object a line over stdio, or a POST body
// or SSE event over HTTP): reading a message with a precise reason when it is not one, and
// writing requests, notifications and responses. Batches are not read (MCP 2025-06-18 removed
// them); ids are integers or strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant::mcp {

using Json = nlohmann::json;

// JSON-RPC's error codes.
namespace rpc_error {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
}  // namespace rpc_error

// An id as sent: integer or string (a number is never read as a string, nor the reverse).
using RequestId = std::variant<std::int64_t, std::string>;
std::string to_string(const RequestId& id);
Json to_json(const RequestId& id);

struct RpcError {
  int code = 0;
  std::string message;
  Json data;  // null when absent
};

struct Message {
  enum class Kind { request, notification, result, error };
  Kind kind = Kind::notification;
  std::optional<RequestId> id;  // requests and responses (an error answering nothing has none)
  std::string method;           // requests and notifications
  Json params;                  // requests and notifications: an object, an array or null
  Json result;                  // results
  RpcError error;               // errors
};

// The largest message read: a server that sends more is misbehaving (a tool's output is cut by
// the daemon long before this).
inline constexpr std::size_t kMessageBytesMax = 16u << 20;

// One message from its text. Fails with invalid_argument and a reason naming the field.
Result<Message> parse_message(std::string_view text);
Result<Message> message_from_json(const Json& json);

// The id of a response that does not parse (nested too deep, or broken after its id), read
// without building anything: the top-level "id" of an object that has "result" or "error", and no
// "method", before the point where it breaks; nullopt otherwise. The call it answers can then fail
// at once with what is wrong, instead of waiting out its timeout as if nothing had come. One pass
// over the bytes, no recursion, no allocation beyond a string id.
std::optional<RequestId> response_id_of_malformed(std::string_view text);

// The wire form of each, compact, without a newline.
std::string request(const RequestId& id, std::string_view method, const Json& params);
std::string notification(std::string_view method, const Json& params);
std::string result(const RequestId& id, const Json& result);
std::string error_response(const std::optional<RequestId>& id, int code, std::string_view message);

}  // namespace reliant::mcp
