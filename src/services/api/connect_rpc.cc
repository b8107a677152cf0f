// Connect framing and codecs around the RpcHandler: messages are converted between JSON and
// binary protobuf with the method's descriptors from the generated pool.
#include "services/api/connect_rpc.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "protocol/codec.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;
namespace pb = google::protobuf;

constexpr std::string_view kReliantServicePrefix = "/reliant.";
constexpr std::uint8_t kCompressedFlag = 0x01;
constexpr std::uint8_t kEndStreamFlag = 0x02;

struct ConnectCode {
  std::string_view name;
  int http_status;
};

// The Connect code and HTTP status for an error of ours (the protocol's table).
ConnectCode connect_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return {"invalid_argument", 400};
    case ErrorCode::not_found:
      return {"not_found", 404};
    case ErrorCode::already_exists:
      return {"already_exists", 409};
    case ErrorCode::unavailable:
    case ErrorCode::no_responders:
    case ErrorCode::closed:
      return {"unavailable", 503};
    case ErrorCode::timeout:
      return {"deadline_exceeded", 504};
    case ErrorCode::cancelled:
      return {"canceled", 499};
    case ErrorCode::unauthenticated:
      return {"unauthenticated", 401};
    case ErrorCode::permission_denied:
      return {"permission_denied", 403};
    case ErrorCode::resource_exhausted:
      return {"resource_exhausted", 429};
    case ErrorCode::failed_precondition:
      return {"failed_precondition", 400};
    case ErrorCode::outcome_unknown:
      return {"unknown", 500};
    case ErrorCode::internal:
      return {"internal", 500};
    case ErrorCode::unimplemented:
      return {"unimplemented", 501};
  }
  return {"unknown", 500};
}

Json error_json(std::string_view code, const std::string& message) {
  return {{"code", std::string(code)}, {"message", message}};
}

HttpResponse unary_error(int status, std::string_view code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = error_json(code, message).dump(-1, ' ', false, Json::error_handler_t::replace);
  return response;
}

// With the message a client may see; the full error goes to the server's log (log_note).
HttpResponse unary_error(const Error& error) {
  const ConnectCode code = connect_code(error.code);
  const std::string shown = client_message(error);
  HttpResponse response = unary_error(code.http_status, code.name, shown);
  if (shown != error.message) response.log_note = error.describe();
  return response;
}

// The method's request or response type, or null when the method is not in the pool.
const pb::Descriptor* message_type(std::string_view path, bool input) {
  // "/reliant.api.v1.ChatService/CreateChat" → "reliant.api.v1.ChatService.CreateChat"
  std::string name(path.substr(1));
  const auto slash = name.find('/');
  if (slash == std::string::npos) return nullptr;
  name[slash] = '.';
  const pb::MethodDescriptor* method = pb::DescriptorPool::generated_pool()->FindMethodByName(name);
  if (method == nullptr) return nullptr;
  return input ? method->input_type() : method->output_type();
}

std::unique_ptr<pb::Message> new_message(const pb::Descriptor* type) {
  const pb::Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(type);
  return std::unique_ptr<pb::Message>(prototype->New());
}

// JSON → serialized protobuf of `type`.
Result<std::string> json_to_binary(std::string_view json, const pb::Descriptor* type) {
  auto message = new_message(type);
  if (auto parsed = protocol::from_json_into(json.empty() ? "{}" : json, *message); !parsed) {
    return fail(ErrorCode::invalid_argument,
                "malformed " + type->full_name() + " JSON: " + parsed.error().message);
  }
  return protocol::encode(*message);
}

// Serialized protobuf of `type` → JSON (the proto3 JSON mapping).
Result<std::string> binary_to_json(std::string_view bytes, const pb::Descriptor* type) {
  auto message = new_message(type);
  if (auto decoded = protocol::decode_into(bytes, *message); !decoded) return fail(decoded.error());
  return protocol::to_json(*message);
}

std::string envelope(std::uint8_t flags, std::string_view payload) {
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>(flags));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(payload);
  return out;
}

// The one request envelope of a server-streaming call.
Result<std::string> single_envelope(std::string_view body) {
  if (body.size() < 5)
    return fail(ErrorCode::invalid_argument, "the request envelope is cut short");
  const auto flags = static_cast<std::uint8_t>(body[0]);
  std::uint32_t size = 0;
  for (int i = 1; i <= 4; ++i) size = (size << 8) | static_cast<std::uint8_t>(body[i]);
  if (flags & kCompressedFlag)
    return fail(ErrorCode::invalid_argument, "compressed messages are not supported");
  if (body.size() - 5 != size) {
    return fail(ErrorCode::invalid_argument,
                "the request envelope says " + std::to_string(size) + " bytes but holds " +
                    std::to_string(body.size() - 5) + " (one message expected)");
  }
  return std::string(body.substr(5));
}

// Writes each streamed message as an envelope, converted to JSON for the JSON codec.
class EnvelopeWriter final : public RpcWriter {
 public:
  EnvelopeWriter(HttpBodyWriter& out, const pb::Descriptor* json_type)
      : out_(out), json_type_(json_type) {}

  Task<bool> write(std::string message_bytes) override {
    std::string payload = std::move(message_bytes);
    if (json_type_ != nullptr) {
      auto json = binary_to_json(payload, json_type_);
      if (!json) co_return false;
      payload = std::move(*json);
    }
    Task<bool> writing = out_.write(envelope(0, payload));
    co_return co_await writing;
  }

 private:
  HttpBodyWriter& out_;
  const pb::Descriptor* json_type_;  // null: binary
};

// The streamed body: the handler's messages, then the end-of-stream message (always JSON).
class ConnectStream final : public HttpBodyStream {
 public:
  ConnectStream(RpcHandler& rpc, RpcCall call, const pb::Descriptor* json_type)
      : rpc_(rpc), call_(std::move(call)), json_type_(json_type) {}

  Task<void> run(HttpBodyWriter& out) override {
    EnvelopeWriter writer(out, json_type_);
    Task<Result<void>> streaming = rpc_.server_stream(std::move(call_), writer);
    Result<void> ended = co_await streaming;
    Json end = Json::object();
    if (!ended) {
      const ConnectCode code = connect_code(ended.error().code);
      end["error"] = error_json(code.name, client_message(ended.error()));
    }
    Task<bool> finishing = out.write(
        envelope(kEndStreamFlag, end.dump(-1, ' ', false, Json::error_handler_t::replace)));
    (void)co_await finishing;
  }

 private:
  RpcHandler& rpc_;
  RpcCall call_;
  const pb::Descriptor* json_type_;
};

}  // namespace

bool ConnectRpc::handles(const HttpRequest& request) {
  return request.path.starts_with(kReliantServicePrefix);
}

Task<HttpResponse> ConnectRpc::handle(HttpRequest request) {
  const std::string& path = request.path;
  if (request.method != "POST") {
    HttpResponse refused = unary_error(405, "unimplemented", "Connect calls are POST requests");
    refused.headers.emplace_back("Allow", "POST");
    co_return refused;
  }
  if (!rpc_.knows(path)) co_return unary_error(501, "unimplemented", "no method " + path);
  std::string content_type = request.header("content-type");
  content_type = content_type.substr(0, content_type.find(';'));
  const bool streaming = rpc_.is_server_streaming(path);
  const std::string json_type = streaming ? "application/connect+json" : "application/json";
  const std::string proto_type = streaming ? "application/connect+proto" : "application/proto";
  if (content_type != json_type && content_type != proto_type) {
    co_return unary_error(
        415, "unimplemented",
        path + " takes " + json_type + " or " + proto_type + ", not '" + content_type + "'");
  }
  const bool json = content_type == json_type;
  const pb::Descriptor* input = message_type(path, true);
  const pb::Descriptor* output = message_type(path, false);
  if (json && (input == nullptr || output == nullptr)) {
    co_return unary_error(501, "unimplemented", "no message types for " + path);
  }

  RpcCall call;
  call.method = path;
  call.metadata = request.headers;  // Connect sends metadata as headers
  call.peer = request.remote_address;
  call.authenticated = request.authenticated;  // the call's credential is the connection's

  if (streaming) {
    auto payload = single_envelope(request.body);
    Result<std::string> message = payload && json ? json_to_binary(*payload, input) : payload;
    HttpResponse response;
    response.status = 200;
    response.content_type = content_type;
    if (!message) {
      // Errors of a streaming call travel in the end-of-stream message.
      const ConnectCode code = connect_code(message.error().code);
      response.body =
          envelope(kEndStreamFlag,
                   Json{{"error", error_json(code.name, client_message(message.error()))}}.dump(
                       -1, ' ', false, Json::error_handler_t::replace));
      co_return response;
    }
    call.request = std::move(*message);
    response.stream =
        std::make_shared<ConnectStream>(rpc_, std::move(call), json ? output : nullptr);
    co_return response;
  }

  if (json) {
    auto binary = json_to_binary(request.body, input);
    if (!binary) co_return unary_error(binary.error());
    call.request = std::move(*binary);
  } else {
    call.request = std::move(request.body);
  }
  Task<Result<std::string>> calling = rpc_.unary(std::move(call));
  Result<std::string> answer = co_await calling;
  if (!answer) co_return unary_error(answer.error());
  HttpResponse response;
  response.status = 200;
  response.content_type = content_type;
  if (json) {
    auto text = binary_to_json(*answer, output);
    if (!text) co_return unary_error({ErrorCode::internal, text.error().message});
    response.body = std::move(*text);
  } else {
    response.body = std::move(*answer);
  }
  co_return response;
}

}  // namespace reliant::api
