// Fuzz target: any bytes given to the wire decoders — a stream frame in either direction, or a
// bus payload in JSON or binary — yield a message or an invalid_argument error, never a crash; and
// what decodes re-encodes to bytes that decode to the same message (the simulator hashes
// encodings), the very bytes protobuf's own deterministic serializer writes.
// The JSON fast path for plain messages (protocol/plain_json.h) must agree with protobuf's util:
// it accepts only what protobuf accepts, as the same message, and prints the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "base/assert.h"
#include "protocol/codec.h"
#include "protocol/plain_json.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace {

namespace v1 = reliant::daemon::v1;

// What protobuf's own deterministic serializer writes, into a string it grows.
std::string serialized(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

template <class M>
void binary_round_trip(std::string_view bytes) {
  auto decoded = reliant::protocol::decode<M>(bytes);
  if (!decoded) {
    RELIANT_ASSERT(decoded.error().code == reliant::ErrorCode::invalid_argument);
    return;
  }
  const std::string once = reliant::protocol::encode(*decoded);
  RELIANT_ASSERT(once == serialized(*decoded));
  auto again = reliant::protocol::decode<M>(once);
  RELIANT_ASSERT(again.has_value());
  RELIANT_ASSERT(reliant::protocol::encode(*again) == once);
}

// A bus body in binary: the same bytes as the frame codec's; and a frame holding it encodes as
// encode_as_field says.
template <class M, class Frame>
void binary_body_round_trip(std::string_view bytes, int frame_field) {
  auto decoded = reliant::protocol::decode_body<M>(bytes, reliant::protocol::BusEncoding::binary);
  if (!decoded) {
    RELIANT_ASSERT(decoded.error().code == reliant::ErrorCode::invalid_argument);
    return;
  }
  RELIANT_ASSERT(reliant::protocol::encode_body(*decoded, reliant::protocol::BusEncoding::binary) ==
                 serialized(*decoded));
  Frame holder;
  const auto* field = holder.GetDescriptor()->FindFieldByNumber(frame_field);
  RELIANT_ASSERT(field != nullptr && field->message_type() == decoded->GetDescriptor());
  holder.GetReflection()->MutableMessage(&holder, field)->CopyFrom(*decoded);
  RELIANT_ASSERT(reliant::protocol::encode_as_field(frame_field, *decoded) == serialized(holder));
}

template <class M>
void json_round_trip(std::string_view text) {
  auto decoded = reliant::protocol::from_json<M>(text);
  if (!decoded) {
    RELIANT_ASSERT(decoded.error().code == reliant::ErrorCode::invalid_argument);
    return;
  }
  const std::string once = reliant::protocol::to_json(*decoded);
  auto again = reliant::protocol::from_json<M>(once);
  RELIANT_ASSERT(again.has_value());
  RELIANT_ASSERT(reliant::protocol::to_json(*again) == once);
}

template <class M>
void plain_json_agrees_with_protobuf(std::string_view text) {
  M fast;
  if (!reliant::protocol::parse_plain_json(text, fast)) return;
  M theirs;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &theirs);
  RELIANT_ASSERT_MSG(status.ok(), "the fast path accepted JSON protobuf rejects");
  RELIANT_ASSERT(google::protobuf::util::MessageDifferencer::Equals(fast, theirs));
  std::string printed;
  (void)google::protobuf::util::MessageToJsonString(fast, &printed);
  const auto ours = reliant::protocol::print_plain_json(fast);
  RELIANT_ASSERT(!ours || *ours == printed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  binary_round_trip<v1::DaemonFrame>(bytes);
  binary_round_trip<v1::GatewayFrame>(bytes);
  binary_body_round_trip<v1::ToolRequest, v1::GatewayFrame>(
      bytes, v1::GatewayFrame::kToolRequestFieldNumber);
  binary_body_round_trip<v1::ToolResponse, v1::DaemonFrame>(
      bytes, v1::DaemonFrame::kToolResponseFieldNumber);
  json_round_trip<v1::ToolRequest>(bytes);
  json_round_trip<v1::GatewayFrame>(bytes);
  json_round_trip<v1::ToolResponse>(bytes);
  plain_json_agrees_with_protobuf<v1::ToolRequest>(bytes);
  plain_json_agrees_with_protobuf<v1::ToolResponse>(bytes);
  return 0;
}
