// Daemon command answers (command_answers.h).
#include "services/daemon/command_answers.h"

namespace reliant::daemon {

v1::DaemonCommandResult command_answered(const v1::DaemonCommand& command,
                                         const nlohmann::json& output) {
  v1::DaemonCommandResult result;
  result.set_command_id(command.command_id());
  result.set_ok(true);
  // Tool and file names may hold invalid UTF-8: replaced, never thrown on.
  result.set_output_json(output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return result;
}

v1::DaemonCommandResult command_refused(const v1::DaemonCommand& command, const Error& error) {
  v1::DaemonCommandResult result;
  result.set_command_id(command.command_id());
  result.set_ok(false);
  result.set_output_json(nlohmann::json{{"code", std::string(to_string(error.code))}}.dump());
  result.set_error_message(error.message);
  result.set_error_code(std::string(to_string(error.code)));
  return result;
}

}  // namespace reliant::daemon
