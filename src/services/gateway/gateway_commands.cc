// The gateway's control commands to the daemons it holds: kill a background process, reload the
// configuration, and the daemon commands the api's services send, each relayed down the stream
// and its answer published to the caller's inbox.
#include "services/gateway/gateway.h"

#include <algorithm>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "services/gateway/gateway_connection.h"
#include "services/gateway/legacy_daemon_calls.h"

namespace reliant::gateway {

// One gateway of the queue group hears a reload: it sends it down the daemon's stream, or hands
// it to the gateway holding the daemon. Nobody waits for the daemon's answer.
void Gateway::on_reload(const BusMessage& message) {
  auto user = subjects::user_of(message.subject, "daemon.reload");
  auto request = protocol::from_json<v1::DaemonCommand>(message.data);
  if (!user || !request || request->command() != "reload_config" || request->user_id() != *user) {
    ++stats_.rejected_messages;
    return;
  }
  request->set_command_id(ids_.next());
  v1::GatewayFrame frame;
  *frame.mutable_command() = *request;
  if (Connection* connection = holder(request->daemon_id(), *user)) {
    send(*connection, frame);
    return;
  }
  const std::string daemon_id = request->daemon_id();
  if (subjects::check_token("daemon id", daemon_id)) {
    (void)env_.bus->publish(subjects::gateway_deliver(daemon_id), protocol::to_json(frame));
  }
}

void Gateway::on_daemon_command(const BusMessage& message) {
  relay_command<v1::DaemonCommand>(message, "daemon.command", &v1::GatewayFrame::mutable_command);
}

template <class Request>
void Gateway::relay_command(const BusMessage& message, std::string_view prefix,
                            Request* (v1::GatewayFrame::*slot)()) {
  auto user = subjects::user_of(message.subject, prefix);
  auto request = protocol::from_json<Request>(message.data);
  if (!user || !request || message.reply_to.empty()) return;
  Connection* connection = holder(request->daemon_id(), *user);
  if (connection == nullptr) return;  // another gateway's daemon, or nobody's
  if (request->command_id().empty()) request->set_command_id(ids_.next());
  // Relayed while draining too, until the daemon is sent elsewhere: commands are short (a long
  // poll waits 2 s at most), and one unanswered would fail its caller.
  PendingCommand pending{message.reply_to,
                         connection->daemon_id,
                         connection->session_id,
                         env_.executor.steady_now() + config_.sync_request_ttl,
                         {}};
  if constexpr (std::is_same_v<Request, v1::DaemonCommand>) {
    if (!request->method().empty()) {
      if (Result<void> ready = prepare_call(*connection, *request, pending); !ready) {
        // Refused here, at once: the daemon would not understand it.
        v1::DaemonCommandResult refused;
        refused.set_command_id(request->command_id());
        refused.set_error_code(std::string(to_string(ready.error().code)));
        refused.set_error_message(ready.error().message);
        (void)env_.bus->publish(message.reply_to, protocol::to_json(refused));
        return;
      }
    }
  }
  if (pending_commands_.size() >= config_.pending_commands_max &&
      !pending_commands_.count(request->command_id())) {
    ++stats_.over_bounds;  // dropped: the caller's request times out
    return;
  }
  pending_commands_[request->command_id()] = std::move(pending);
  RELIANT_ASSERT(pending_commands_.size() <= config_.pending_commands_max);
  v1::GatewayFrame frame;
  *(frame.*slot)() = std::move(*request);
  send(*connection, frame);
}

Result<void> Gateway::prepare_call(const Connection& connection, v1::DaemonCommand& command,
                                   PendingCommand& pending) const {
  if (connection.protocol_version >= 1) {
    if (std::binary_search(connection.methods.begin(), connection.methods.end(),
                           command.method())) {
      return {};
    }
    return fail(ErrorCode::unimplemented,
                "daemon " + connection.daemon_id + " does not implement " + command.method() +
                    " (it speaks daemon protocol " + std::to_string(connection.protocol_version) +
                    "): upgrade the daemon");
  }
  Result<LegacyCall> call = legacy_call(command.method(), command.request());
  if (!call) return fail(call.error());
  command.set_command(std::move(call->command));
  command.set_args_json(call->args.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  command.clear_method();
  command.clear_request();
  pending.legacy_respond = std::move(call->respond);
  return {};
}

void Gateway::answer_command(const std::string& command_id,
                             const google::protobuf::Message& result) {
  const auto it = pending_commands_.find(command_id);
  if (it == pending_commands_.end()) return;
  (void)env_.bus->publish(it->second.inbox, protocol::to_json(result));
  pending_commands_.erase(it);
  drain_changed();
}

void Gateway::answer_daemon_command(const Connection& connection,
                                    const v1::DaemonCommandResult& result) {
  const auto it = pending_commands_.find(result.command_id());
  // Only the daemon the command went to answers it: ids are guessable, and another daemon's
  // answer would reach its caller as this daemon's (a forged listing, a forged file).
  if (it != pending_commands_.end() && it->second.daemon_id != connection.daemon_id) {
    ++stats_.rejected_messages;
    return;
  }
  if (it == pending_commands_.end() || !it->second.legacy_respond) {
    answer_command(result.command_id(), result);
    return;
  }
  answer_command(result.command_id(), legacy_answer(result, it->second.legacy_respond));
}

}  // namespace reliant::gateway
