// The DaemonRouter's two ways of asking a daemon something, on its one way of sending it.
#include "services/routing/daemon_router.h"

#include "services/daemon/command_answers.h"

namespace reliant::routing {

Task<Result<v1::DaemonCommandResult>> DaemonRouter::daemon_command(std::string user_id,
                                                                   std::string daemon_id,
                                                                   std::string command,
                                                                   std::string args_json) {
  v1::DaemonCommand request;
  request.set_user_id(std::move(user_id));
  request.set_daemon_id(std::move(daemon_id));
  request.set_command(std::move(command));
  request.set_args_json(std::move(args_json));
  Task<Result<v1::DaemonCommandResult>> sending = send_command(std::move(request));
  co_return co_await sending;
}

Task<Result<std::string>> DaemonRouter::daemon_call(std::string user_id, std::string daemon_id,
                                                    std::string method, std::string request) {
  v1::DaemonCommand call;
  call.set_user_id(std::move(user_id));
  call.set_daemon_id(std::move(daemon_id));
  call.set_method(std::move(method));
  call.set_request(std::move(request));
  Task<Result<v1::DaemonCommandResult>> sending = send_command(std::move(call));
  Result<v1::DaemonCommandResult> answer = co_await sending;
  if (!answer) co_return fail(answer.error());
  if (!answer->ok()) co_return fail(daemon::command_refusal(*answer));
  co_return std::move(*answer->mutable_response());
}

}  // namespace reliant::routing
