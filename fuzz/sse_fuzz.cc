// Fuzz target: any bytes given to the SSE parser yield events or a clean error, never a crash;
// and the events do not depend on how the bytes were cut into feeds (in one piece, at two
// data-derived points with an empty feed between, or byte by byte), since a socket may split
// a stream anywhere: mid-field, mid-BOM, or between the \r and \n of a CRLF.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "core/sse.h"

namespace {

using reliant::SseEvent;
using reliant::SseParser;

struct Outcome {
  std::vector<SseEvent> events;
  bool partial = false;
};

// Feeds `bytes` cut at the given offsets (ascending, each at most bytes.size()).
Outcome parse_in_pieces(std::string_view bytes, const std::vector<std::size_t>& cuts) {
  SseParser parser;
  Outcome outcome;
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    RELIANT_ASSERT(parser.feed(bytes.substr(start, cut - start), outcome.events).has_value());
    start = cut;
  }
  RELIANT_ASSERT(parser.feed(bytes.substr(start), outcome.events).has_value());
  outcome.partial = parser.has_partial_event();
  return outcome;
}

bool same_events(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].event != b[i].event || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  }
  return true;
}

// FNV-1a: split points that follow the data, so the fuzzer can steer them.
std::uint64_t digest(std::string_view bytes) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // Far below kEventBytesMax: every feed must succeed, whatever the bytes.
  if (bytes.size() > (1u << 16)) return 0;

  const Outcome whole = parse_in_pieces(bytes, {});
  for (const SseEvent& event : whole.events) {
    // Lines end at \r or \n, so no field can hold one; only data joins its lines with \n.
    RELIANT_ASSERT(event.event.find_first_of("\r\n") == std::string::npos);
    RELIANT_ASSERT(event.id.find_first_of("\r\n") == std::string::npos);
    RELIANT_ASSERT(event.id.find('\0') == std::string::npos);
    RELIANT_ASSERT(event.data.find('\r') == std::string::npos);
    RELIANT_ASSERT(!event.event.empty());
  }

  const std::uint64_t h = digest(bytes);
  std::size_t first = size == 0 ? 0 : h % (size + 1);
  std::size_t second = size == 0 ? 0 : (h >> 32) % (size + 1);
  if (first > second) std::swap(first, second);
  const Outcome split = parse_in_pieces(bytes, {first, first, second});
  RELIANT_ASSERT(same_events(whole.events, split.events));
  RELIANT_ASSERT(whole.partial == split.partial);

  std::vector<std::size_t> every_byte;
  for (std::size_t i = 1; i < size; ++i) every_byte.push_back(i);
  const Outcome bytewise = parse_in_pieces(bytes, every_byte);
  RELIANT_ASSERT(same_events(whole.events, bytewise.events));
  RELIANT_ASSERT(whole.partial == bytewise.partial);
  return 0;
}
