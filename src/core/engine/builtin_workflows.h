// Built-in workflows for tests, the simulator and benchmarks: a chain of echo activities, a
// durable sleep, and a wait for a signal.
#pragma once

#include "core/engine/workflow.h"

namespace reliant::engine {

// "echo_chain": input {"steps": N (1..10000), "payload": any}. Runs N `echo` activities one after
// another; the result is {"steps": N, "outputs": [each activity's result]}. Optional knobs:
// delay_ms and fail_attempts (passed to each echo), start_to_close_ms, heartbeat_timeout_ms,
// max_attempts (the activities' options).
// "sleep": input {"seconds": S (0..31536000)}. Starts one durable timer; result {"slept_ms": …}.
// "await_signal": input {"signal": NAME, "timeout_seconds": T (optional)}. Completes with the
// payload of the first signal NAME; fails when the timeout fires first.
void register_builtin_workflows(WorkflowRegistry& registry);

}  // namespace reliant::engine
