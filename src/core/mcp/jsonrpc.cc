// JSON-RPC 2.0 reading and writing (see the header).
#include "core/mcp/jsonrpc.h"

#include <charconv>
#include <utility>

#include "base/json_parse.h"

namespace reliant::mcp {

namespace {

Error bad(std::string reason) {
  return Error{ErrorCode::invalid_argument, "JSON-RPC: " + std::move(reason)};
}

Result<std::optional<RequestId>> id_of(const Json& json) {
  const auto found = json.find("id");
  if (found == json.end() || found->is_null()) return std::optional<RequestId>();
  if (found->is_number_integer()) return std::optional<RequestId>(found->get<std::int64_t>());
  if (found->is_number_unsigned()) {
    const auto value = found->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(INT64_MAX)) return fail(bad("id is out of range"));
    return std::optional<RequestId>(static_cast<std::int64_t>(value));
  }
  if (found->is_string()) return std::optional<RequestId>(found->get<std::string>());
  return fail(bad("id must be an integer or a string, not " + std::string(found->type_name())));
}

}  // namespace

std::string to_string(const RequestId& id) {
  if (const auto* n = std::get_if<std::int64_t>(&id)) return std::to_string(*n);
  return std::get<std::string>(id);
}

Json to_json(const RequestId& id) {
  if (const auto* n = std::get_if<std::int64_t>(&id)) return *n;
  return std::get<std::string>(id);
}

Result<Message> message_from_json(const Json& json) {
  if (json.is_array()) return fail(bad("batches are not supported"));
  if (!json.is_object())
    return fail(bad("a message is an object, not " + std::string(json.type_name())));
  const auto version = json.find("jsonrpc");
  if (version == json.end() || !version->is_string() || version->get<std::string>() != "2.0") {
    return fail(bad("\"jsonrpc\" must be \"2.0\""));
  }
  auto id = id_of(json);
  if (!id) return fail(id.error());
  Message message;
  message.id = std::move(*id);
  const auto method = json.find("method");
  const bool has_result = json.contains("result");
  const auto error = json.find("error");
  if (method != json.end()) {
    if (!method->is_string() || method->get<std::string>().empty()) {
      return fail(bad("\"method\" must be a non-empty string"));
    }
    if (has_result || error != json.end()) {
      return fail(bad("a request has no \"result\" or \"error\""));
    }
    message.method = method->get<std::string>();
    message.kind = message.id ? Message::Kind::request : Message::Kind::notification;
    if (const auto params = json.find("params"); params != json.end()) {
      if (!params->is_object() && !params->is_array() && !params->is_null()) {
        return fail(bad("\"params\" of " + message.method + " must be an object or an array"));
      }
      message.params = *params;
    }
    return message;
  }
  if (has_result == (error != json.end())) {
    return fail(bad("a message has a \"method\", or exactly one of \"result\" and \"error\""));
  }
  if (has_result) {
    if (!message.id) return fail(bad("a result needs the id of its request"));
    message.kind = Message::Kind::result;
    message.result = json.at("result");
    return message;
  }
  if (!error->is_object()) return fail(bad("\"error\" must be an object"));
  const auto code = error->find("code");
  if (code == error->end() || !code->is_number_integer()) {
    return fail(bad("an error's \"code\" must be an integer"));
  }
  const auto text = error->find("message");
  if (text != error->end() && !text->is_string()) {
    return fail(bad("an error's \"message\" must be a string"));
  }
  message.kind = Message::Kind::error;
  const auto raw_code = code->get<std::int64_t>();
  message.error.code = raw_code < INT32_MIN || raw_code > INT32_MAX ? rpc_error::internal_error
                                                                    : static_cast<int>(raw_code);
  message.error.message = text == error->end() ? "" : text->get<std::string>();
  message.error.data = error->value("data", Json());
  return message;
}

Result<Message> parse_message(std::string_view text) {
  if (text.size() > kMessageBytesMax) {
    return fail(bad("a message of " + std::to_string(text.size()) + " bytes is over the limit of " +
                    std::to_string(kMessageBytesMax)));
  }
  // A tool's result nests its content a few levels below the message's own.
  auto json = parse_json(text, kStoredJsonDepthMax);
  if (!json) return fail(bad(json.error().message));
  return message_from_json(*json);
}

namespace {

// A forward-only reader of the top level of a JSON object (response_id_of_malformed).
struct Scanner {
  std::string_view text;
  std::size_t at = 0;

  bool done() const { return at >= text.size(); }
  void skip_space() {
    while (!done() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
      ++at;
  }
  bool take(char c) {
    skip_space();
    if (done() || text[at] != c) return false;
    ++at;
    return true;
  }
  // A string's raw bytes between its quotes (escapes left as they are); nullopt when unclosed.
  std::optional<std::string_view> string() {
    if (!take('"')) return std::nullopt;
    const std::size_t from = at;
    for (; !done(); ++at) {
      if (text[at] == '\\') {
        ++at;  // the escaped byte is never the closing quote
      } else if (text[at] == '"') {
        return text.substr(from, at++ - from);
      }
    }
    return std::nullopt;
  }
  // Past one value of any depth, counting brackets outside strings; false when the text breaks
  // (ends, or closes more than it opened) before the value does.
  bool skip_value() {
    skip_space();
    std::size_t depth = 0;
    for (; !done(); ++at) {
      const char c = text[at];
      if (c == '"') {
        if (!string()) return false;
        --at;  // the loop steps past the closing quote
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return true;  // the enclosing object's end: a scalar ended here
        if (--depth == 0) {
          ++at;
          return true;
        }
      } else if (c == ',' && depth == 0) {
        return true;
      }
    }
    return depth == 0;
  }
};

}  // namespace

std::optional<RequestId> response_id_of_malformed(std::string_view text) {
  Scanner scan{text};
  if (!scan.take('{')) return std::nullopt;
  std::optional<RequestId> id;
  bool answer = false;
  while (true) {
    const auto key = scan.string();
    if (!key || !scan.take(':')) break;
    if (*key == "method") return std::nullopt;  // a request or a notification answers no call
    if (*key == "result" || *key == "error") answer = true;
    if (*key == "id") {
      scan.skip_space();
      if (scan.done()) break;
      if (scan.text[scan.at] == '"') {
        const auto value = scan.string();
        if (!value || value->find('\\') != std::string_view::npos) break;
        id = RequestId(std::string(*value));
      } else {
        const std::size_t from = scan.at;
        while (!scan.done() && (scan.text[scan.at] == '-' ||
                                (scan.text[scan.at] >= '0' && scan.text[scan.at] <= '9'))) {
          ++scan.at;
        }
        std::int64_t number = 0;
        const auto [end, error] =
            std::from_chars(text.data() + from, text.data() + scan.at, number);
        if (error != std::errc() || end != text.data() + scan.at) break;
        id = RequestId(number);
      }
    } else if (!scan.skip_value()) {
      break;
    }
    if (!scan.take(',')) break;
  }
  if (!answer) return std::nullopt;
  return id;
}

std::string request(const RequestId& id, std::string_view method, const Json& params) {
  Json out{{"jsonrpc", "2.0"}, {"id", to_json(id)}, {"method", method}};
  if (!params.is_null()) out["params"] = params;
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string notification(std::string_view method, const Json& params) {
  Json out{{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) out["params"] = params;
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string result(const RequestId& id, const Json& result) {
  return Json{{"jsonrpc", "2.0"}, {"id", to_json(id)}, {"result", result}}.dump(
      -1, ' ', false, Json::error_handler_t::replace);
}

std::string error_response(const std::optional<RequestId>& id, int code, std::string_view message) {
  return Json{{"jsonrpc", "2.0"},
              {"id", id ? to_json(*id) : Json()},
              {"error", {{"code", code}, {"message", message}}}}
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace reliant::mcp
