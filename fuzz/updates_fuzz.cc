// Fuzz target: any bytes received on updates.user.<id> decode to user events or an
// invalid_argument error, never a crash; and what decodes survives the announcement path —
// encoded as `announce` encodes it (to_proto, then the bus JSON), it decodes to the same events,
// field by field; and each decoded event prints as the update stream prints it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "protocol/codec.h"
#include "reliant/api/v1/updates.pb.h"
#include "services/updates/user_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  auto decoded = reliant::updates::decode_announcement(payload);
  if (!decoded) {
    RELIANT_ASSERT(decoded.error().code == reliant::ErrorCode::invalid_argument);
    RELIANT_ASSERT(!decoded.error().message.empty());
    return 0;
  }
  // The update stream prints each event as JSON (api_server.cc's sse_frame): that must not
  // throw, whatever strings the bus delivered.
  for (const auto& event : *decoded) (void)reliant::updates::to_json(event).dump();
  reliant::api::v1::UserUpdates message;
  for (const auto& event : *decoded) reliant::updates::to_proto(event, *message.add_updates());
  const std::string encoded = reliant::protocol::to_json(message);
  auto again = reliant::updates::decode_announcement(encoded);
  RELIANT_ASSERT(again.has_value());
  RELIANT_ASSERT(again->size() == decoded->size());
  for (std::size_t i = 0; i < decoded->size(); ++i) {
    const auto& x = (*decoded)[i];
    const auto& y = (*again)[i];
    RELIANT_ASSERT(y.user_id == x.user_id);
    RELIANT_ASSERT(y.seq == x.seq);
    RELIANT_ASSERT(y.kind == x.kind);
    RELIANT_ASSERT(y.chat_id == x.chat_id);
    RELIANT_ASSERT(y.body == x.body);
    RELIANT_ASSERT(y.created_at_ms == x.created_at_ms);
  }
  return 0;
}
