// Codecs for the wire messages: binary frames on streams, protobuf's JSON mapping on the bus
// (for plain messages — most bus payloads — done by plain_json.h, with the same bytes), and the
// binary encoding for the bus bodies that go binary (BusEncoding below).
//
// Both encoders are deterministic (docs/architecture.md §11: protobuf map fields otherwise
// serialize in a different order in every process), so the simulator can hash what it sends.
// Decoders never throw: malformed input is an `invalid_argument` error naming the message type,
// and so is JSON nested deeper than kJsonDepthMax (base/json_parse.h).
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "base/result.h"

namespace reliant::protocol {

// Largest stream frame accepted: gRPC's message limit as the gRPC transport sets it.
inline constexpr std::size_t kFrameBytesMax = 4 << 20;
// Largest bus payload accepted (NATS's default max_payload is 1 MiB).
inline constexpr std::size_t kBusPayloadBytesMax = 1 << 20;

std::string encode(const google::protobuf::Message& message);
// The encoding of a message whose only field set is `message`, in field `field_number` (a
// oneof's member: DaemonFrame's tool_response, say): the same bytes as setting it in the holder
// and encoding that, without the copy into the holder.
std::string encode_as_field(int field_number, const google::protobuf::Message& message);
Result<void> decode_into(std::string_view bytes, google::protobuf::Message& message);

// Canonical JSON: protobuf's JSON mapping with object keys sorted.
std::string to_json(const google::protobuf::Message& message);
Result<void> from_json_into(std::string_view json, google::protobuf::Message& message);

// How a bus body is written: protobuf's JSON mapping, which any client can write and read, or its
// binary encoding, for the platform's own callers where a call's cost matters (tools.call.<user>:
// nothing to escape, print or parse). The answer to a request goes in the request's encoding.
enum class BusEncoding { json, binary };
std::string encode_body(const google::protobuf::Message& message, BusEncoding encoding);
// Binary bodies are bounded by kBusPayloadBytesMax, as JSON ones are.
Result<void> decode_body_into(std::string_view body, BusEncoding encoding,
                              google::protobuf::Message& message);

template <class M>
Result<M> decode(std::string_view bytes) {
  M message;
  if (auto ok = decode_into(bytes, message); !ok) return fail(ok.error());
  return message;
}

template <class M>
Result<M> from_json(std::string_view json) {
  M message;
  if (auto ok = from_json_into(json, message); !ok) return fail(ok.error());
  return message;
}

template <class M>
Result<M> decode_body(std::string_view body, BusEncoding encoding) {
  M message;
  if (auto ok = decode_body_into(body, encoding, message); !ok) return fail(ok.error());
  return message;
}

}  // namespace reliant::protocol
