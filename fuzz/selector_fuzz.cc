// Fuzz target: any JSON text given as a workflow's `daemon:` field parses to a selector or a
// precise error, never a crash; an accepted selector survives its own round trip and matching
// it against a daemon is total.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "base/json_parse.h"
#include "core/daemon_selection.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // As every entry point that takes a selector parses it: depth-bounded.
  const auto json = reliant::parse_json_or_discarded(text);
  if (json.is_discarded()) return 0;
  auto source = reliant::parse_selector_source(json);
  if (!source) {
    RELIANT_ASSERT(!source.error().message.empty());
    return 0;
  }
  if (const auto* selector = std::get_if<reliant::DaemonSelector>(&*source)) {
    auto again = reliant::parse_daemon_selector(reliant::to_json(*selector));
    RELIANT_ASSERT(again.has_value());
    RELIANT_ASSERT(*again == *selector);
    reliant::DaemonCandidate daemon;
    daemon.id = "d1";
    daemon.user_id = "u1";
    daemon.name = "laptop";
    daemon.labels = {{"env", "dev"}};
    (void)reliant::matches(*selector, daemon);
  }
  return 0;
}
