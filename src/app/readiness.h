// Readiness probes shared by the server commands (spec S1.3: /ready checks the store and the
// bus). Each writes an empty string when ready, or what is wrong.
#pragma once

#include <string>

#include "runtime/executor.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant {

// Queries the store every 10 s while it answers, every 2 s while it does not (so that recovery
// shows soon). Every probe is a transaction: on an idle cluster of a dozen processes, probing
// every 2 s would be most of the database's work.
Task<void> watch_store(Store& store, Executor& executor, std::string* status);

}  // namespace reliant
