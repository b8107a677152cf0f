// request() built from publish + subscribe + a timer: shared by buses whose broker has no native
// request primitive (the in-process and simulated buses; nats.c has its own).
#pragma once

#include <string>

#include "runtime/bus.h"
#include "runtime/executor.h"

namespace reliant {

Task<Result<BusMessage>> request_over_inbox(Bus& bus, Executor& executor, std::string subject,
                                            std::string data, Duration timeout);

}  // namespace reliant
