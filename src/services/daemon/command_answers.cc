// Daemon command answers (command_answers.h).
#include "services/daemon/command_answers.h"

#include "base/json_parse.h"

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

Error command_refusal(const v1::DaemonCommandResult& result) {
  std::string name = result.error_code();
  if (name.empty()) {
    const nlohmann::json detail = parse_json_or_discarded(result.output_json());
    // What the daemon sent: a "code" that is not text is no code (value() would throw).
    name = text_field(detail, "code");
  }
  const std::optional<ErrorCode> code = error_code_named(name);
  for (ErrorCode passed :
       {ErrorCode::not_found, ErrorCode::invalid_argument, ErrorCode::failed_precondition,
        ErrorCode::already_exists, ErrorCode::timeout, ErrorCode::permission_denied,
        ErrorCode::resource_exhausted, ErrorCode::unimplemented}) {
    if (code == passed) return {passed, result.error_message()};
  }
  return {ErrorCode::failed_precondition, result.error_message()};
}

}  // namespace reliant::daemon
