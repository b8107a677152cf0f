// Fuzz target: any bytes given to the wire decoders — a stream frame in either direction, or a
// bus payload in JSON — yield a message or an invalid_argument error, never a crash; and what
// decodes re-encodes to bytes that decode to the same message (the simulator hashes encodings).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace {

namespace v1 = reliant::daemon::v1;

template <class M>
void binary_round_trip(std::string_view bytes) {
  auto decoded = reliant::protocol::decode<M>(bytes);
  if (!decoded) {
    RELIANT_ASSERT(decoded.error().code == reliant::ErrorCode::invalid_argument);
    return;
  }
  const std::string once = reliant::protocol::encode(*decoded);
  auto again = reliant::protocol::decode<M>(once);
  RELIANT_ASSERT(again.has_value());
  RELIANT_ASSERT(reliant::protocol::encode(*again) == once);
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  binary_round_trip<v1::DaemonFrame>(bytes);
  binary_round_trip<v1::GatewayFrame>(bytes);
  json_round_trip<v1::ToolRequest>(bytes);
  json_round_trip<v1::GatewayFrame>(bytes);
  json_round_trip<v1::ToolResponse>(bytes);
  return 0;
}
