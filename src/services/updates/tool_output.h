// The preview a running tool's output becomes on its user's update stream ("tool_output"): what
// the gateway announces for a remote daemon and the monolith for its embedded one. Announced,
// never stored; the tool's result carries all of the output.
#pragma once

#include <cstdint>
#include <string>

#include "services/updates/user_events.h"

namespace reliant::updates {

inline UserEvent tool_output_event(const std::string& user_id, const std::string& daemon_id,
                                   const std::string& request_id, std::uint64_t offset,
                                   const std::string& data, std::int64_t now_ms) {
  return UserEvent{
      user_id,
      0,
      "tool_output",
      "",
      {{"request_id", request_id}, {"daemon_id", daemon_id}, {"offset", offset}, {"data", data}},
      now_ms};
}

}  // namespace reliant::updates
