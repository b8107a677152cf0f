// Fuzz target: any bytes given to the scenario parser yield a Scenario or a located error,
// never a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/assert.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto scenario = reliant::sim::parse_scenario(text, "fuzz.yaml");
  if (scenario) {
    // What parsing accepts must satisfy the validation the runner relies on.
    RELIANT_ASSERT(!scenario->topology.empty());
    RELIANT_ASSERT(scenario->heal_at < scenario->duration);
    RELIANT_ASSERT(scenario->latency.min <= scenario->latency.max);
    for (const auto& fault : scenario->plan) RELIANT_ASSERT(fault.at < scenario->heal_at);
  } else {
    RELIANT_ASSERT(scenario.error().message.rfind("fuzz.yaml", 0) == 0);
  }
  return 0;
}
