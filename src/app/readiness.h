// Readiness probes shared by the server commands (spec S1.3: /ready checks the store and the
// bus). Each writes an empty string when ready, or what is wrong.
#pragma once

#include <string>

#include "runtime/executor.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant {

// Queries the store every 2 s.
Task<void> watch_store(Store& store, Executor& executor, std::string* status);

}  // namespace reliant
