// A replica's default name: its host and process id. The host part keeps replicas in containers,
// where every process is pid 1, apart.
#pragma once

#include <string>

namespace reliant {

// "HOST-PID", e.g. "reliant-gateway-7d9f-1".
std::string host_and_pid();

}  // namespace reliant
