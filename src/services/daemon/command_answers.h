// How a daemon command is answered (tool_runner.h's answer_daemon_command and the services it
// serves): ok with its output as JSON, or refused with the error's message and, in output_json,
// {"code": the ErrorCode's name}, so a caller across the bus can tell not_found from the rest.
#pragma once

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::daemon {

v1::DaemonCommandResult command_answered(const v1::DaemonCommand& command,
                                         const nlohmann::json& output);
v1::DaemonCommandResult command_refused(const v1::DaemonCommand& command, const Error& error);

// A refused command's Error, as a server reads it: its error_code, or a daemon of protocol 0's
// {"code"} in output_json. Only the codes a daemon may report pass (a daemon cannot make a
// caller look unauthenticated, say); anything else is failed_precondition.
Error command_refusal(const v1::DaemonCommandResult& result);

}  // namespace reliant::daemon
