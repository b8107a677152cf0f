// Fuzz target: parse_json's two readers agree. Wherever simdjson's path answers, nlohmann's
// reads the same value with the same number types; where nlohmann refuses, simdjson's path does
// not answer; and parse_json gives nlohmann's value or its exact error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "base/json_parse.h"
#include "base/json_parse_paths.h"
#include "base/json_same.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reliant;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The small bound makes depth refusals reachable with short inputs; the stored bound is the
  // one history replays use.
  for (const std::size_t depth_max : {std::size_t{4}, kStoredJsonDepthMax}) {
    const auto fast = json_paths::parse_fast(text, depth_max);
    const auto exact = json_paths::parse_exact(text, depth_max);
    if (fast) {
      RELIANT_ASSERT_MSG(exact.has_value(), "simdjson accepted what nlohmann refuses");
      RELIANT_ASSERT_MSG(same_json(*fast, *exact), "the two readers disagree on a value");
    }
    const auto parsed = parse_json(text, depth_max);
    RELIANT_ASSERT(parsed.has_value() == exact.has_value());
    if (parsed) {
      RELIANT_ASSERT(same_json(*parsed, *exact));
    } else {
      RELIANT_ASSERT(parsed.error().message == exact.error().message);
    }
  }
  return 0;
}
