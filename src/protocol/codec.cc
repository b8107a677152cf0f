// Deterministic binary and canonical JSON codecs for the wire messages.
#include "protocol/codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>
#include <nlohmann/json.hpp>

#include <unordered_map>

#include "base/assert.h"
#include "base/json_parse.h"
#include "protocol/plain_json.h"

namespace reliant::protocol {

namespace {

std::string too_large(const google::protobuf::Message& message, std::size_t size,
                      std::size_t limit) {
  return message.GetTypeName() + " of " + std::to_string(size) + " bytes exceeds the limit of " +
         std::to_string(limit) + " bytes";
}

// Whether a message of this type can hold a map field (the only source of nondeterministic
// JSON), directly or in a nested message. Remembered per type and thread.
bool may_hold_maps(const google::protobuf::Descriptor* type) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*, bool> known;
  if (const auto it = known.find(type); it != known.end()) return it->second;
  known[type] = false;  // a recursive type reaches itself: assume no until shown otherwise
  bool maps = false;
  for (int i = 0; i < type->field_count() && !maps; ++i) {
    const auto* field = type->field(i);
    maps = field->is_map() ||
           (field->message_type() != nullptr && may_hold_maps(field->message_type()));
  }
  known[type] = maps;
  return maps;
}

// Writes `message`, whose ByteSizeLong() was `size` just now, to `out`, deterministically: into a
// buffer sized once. (A StringOutputStream grew its string from 16 bytes by doubling, zero-filling
// every step: about half of what encoding a tool call's frames cost the gateway.)
void write_with_cached_sizes(const google::protobuf::Message& message, char* out,
                             std::size_t size) {
  if (size == 0) return;  // a message of defaults only: no bytes
  google::protobuf::io::ArrayOutputStream stream(out, static_cast<int>(size));
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeWithCachedSizes(&coded);
  RELIANT_ASSERT(!coded.HadError() && static_cast<std::size_t>(coded.ByteCount()) == size);
}

}  // namespace

std::string encode(const google::protobuf::Message& message) {
  const std::size_t size = message.ByteSizeLong();  // caches the sizes the write below uses
  std::string out(size, '\0');
  write_with_cached_sizes(message, out.data(), size);
  return out;
}

std::string encode_as_field(int field_number, const google::protobuf::Message& message) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  const std::uint32_t tag =
      WireFormatLite::MakeTag(field_number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  const std::size_t size = message.ByteSizeLong();
  const std::size_t head = CodedOutputStream::VarintSize32(tag) +
                           CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(size));
  std::string out(head + size, '\0');
  auto* at = reinterpret_cast<std::uint8_t*>(out.data());
  at = CodedOutputStream::WriteVarint32ToArray(tag, at);
  CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(size), at);
  write_with_cached_sizes(message, out.data() + head, size);
  return out;
}

Result<void> decode_into(std::string_view bytes, google::protobuf::Message& message) {
  if (bytes.size() > kFrameBytesMax) {
    return fail(ErrorCode::invalid_argument, too_large(message, bytes.size(), kFrameBytesMax));
  }
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(ErrorCode::invalid_argument, "malformed " + message.GetTypeName() + " (" +
                                                 std::to_string(bytes.size()) + " bytes)");
  }
  return {};
}

std::string to_json(const google::protobuf::Message& message) {
  if (auto printed = print_plain_json(message)) return std::move(*printed);
  std::string raw;
  google::protobuf::util::JsonPrintOptions options;
  // The status of a message that only holds defaults still prints as "{}"; conversion of a
  // well-formed message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(message, &raw, options);
  // Fields print in field-number order; only map entries come out in a per-process order, so
  // only messages that can hold maps go through nlohmann, whose objects keep keys sorted.
  if (!may_hold_maps(message.GetDescriptor())) return raw;
  return nlohmann::json::parse(raw).dump();
}

Result<void> from_json_into(std::string_view json, google::protobuf::Message& message) {
  if (json.size() > kBusPayloadBytesMax) {
    return fail(ErrorCode::invalid_argument, too_large(message, json.size(), kBusPayloadBytesMax));
  }
  if (parse_plain_json(json, message)) return {};  // bounds its own depth (plain_json.cc)
  message.Clear();                                 // what a declined parse left
  // protobuf's parser refuses objects nested deeper than 100 but not arrays, whose levels reach
  // its object writer one by one; refuse deep JSON before it gets there.
  if (auto shallow = check_json_depth(json); !shallow) {
    return fail(ErrorCode::invalid_argument,
                "invalid " + message.GetTypeName() + " JSON: " + shallow.error().message);
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &message, options);
  if (!status.ok()) {
    return fail(ErrorCode::invalid_argument,
                "invalid " + message.GetTypeName() + " JSON: " + std::string(status.message()));
  }
  return {};
}

std::string encode_body(const google::protobuf::Message& message, BusEncoding encoding) {
  return encoding == BusEncoding::binary ? encode(message) : to_json(message);
}

Result<void> decode_body_into(std::string_view body, BusEncoding encoding,
                              google::protobuf::Message& message) {
  if (encoding == BusEncoding::json) return from_json_into(body, message);
  if (body.size() > kBusPayloadBytesMax) {
    return fail(ErrorCode::invalid_argument, too_large(message, body.size(), kBusPayloadBytesMax));
  }
  return decode_into(body, message);
}

}  // namespace reliant::protocol
