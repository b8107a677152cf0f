// Fuzz target: any text an MCP server sends as a line is one JSON-RPC message or a precise
// error, never a crash; a message read survives being written again and read back; the id of
// one that does not read is looked for without a crash either.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "core/mcp/jsonrpc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reliant::mcp;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Whatever the bytes, reading the id of a broken answer ends, in one pass.
  (void)response_id_of_malformed(text);
  auto message = parse_message(text);
  if (!message) {
    RELIANT_ASSERT(!message.error().message.empty());
    return 0;
  }
  std::string again;
  switch (message->kind) {
    case Message::Kind::request:
      again = request(*message->id, message->method, message->params);
      break;
    case Message::Kind::notification:
      again = notification(message->method, message->params);
      break;
    case Message::Kind::result:
      again = result(*message->id, message->result);
      break;
    case Message::Kind::error:
      again = error_response(message->id, message->error.code, message->error.message);
      break;
  }
  auto reread = parse_message(again);
  RELIANT_ASSERT_MSG(reread.has_value(), "a message written is read back");
  RELIANT_ASSERT(reread->kind == message->kind);
  RELIANT_ASSERT(reread->id == message->id);
  RELIANT_ASSERT(reread->method == message->method);
  return 0;
}
