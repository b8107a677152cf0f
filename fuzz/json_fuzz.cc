// Fuzz target: parse_json's two readers agree (json_paths::disagreement) on any text, at a small
// depth bound, which makes refusals reachable with short inputs, and at the stored bound that
// history replays use.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "base/json_parse.h"
#include "base/json_parse_paths.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reliant;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::size_t depth_max : {std::size_t{4}, kStoredJsonDepthMax}) {
    const auto disagreement = json_paths::disagreement(text, depth_max);
    RELIANT_ASSERT_MSG(!disagreement, disagreement->c_str());
  }
  return 0;
}
