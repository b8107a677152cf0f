// Settings of the engine workload's roles, as scenario files give them (no engine headers here:
// the scenario parser must build without the engine).
#pragma once

#include <cstdint>

#include "base/time.h"

namespace reliant::sim {

struct EngineClientConfig {
  std::int64_t runs = 10;
  Duration interval = seconds(1);
  std::int64_t steps_min = 1;
  std::int64_t steps_max = 5;
  Duration step_delay_min{};
  Duration step_delay_max = milliseconds(200);
  Duration heartbeat_timeout = seconds(2);
  Duration start_to_close = seconds(30);
  std::int64_t attempts_max = 10;
};

struct EngineWorkerSettings {
  Duration poll_interval = seconds(1);
  Duration reap_interval = seconds(1);
  Duration decision_lease = seconds(5);
  std::int64_t batch = 8;
};

}  // namespace reliant::sim
