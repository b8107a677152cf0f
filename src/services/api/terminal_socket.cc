// The terminal WebSocket's session (terminal_socket.h): authentication, open or attach, input
// and resize as daemon commands, and a pump that long-polls the terminal's output.
#include "services/api/terminal_socket.h"

#include "services/daemon/command_answers.h"

#include "base/base64url.h"
#include "base/json_parse.h"
#include "runtime/future.h"
#include "runtime/sleep.h"
#include "services/api/daemon_routes.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

// Error messages may quote what a client sent, which need not be UTF-8: replaced, never thrown
// on.
WebSocketMessage text(const Json& message) {
  return {message.dump(-1, ' ', false, Json::error_handler_t::replace), false};
}

}  // namespace

TerminalSocket::TerminalSocket(Env& env, routing::DaemonRouter& router, CredentialWatches& watches,
                               TokenAuthenticator authenticate,
                               std::optional<Credential> credential, TerminalSocketLimits limits)
    : env_(env),
      router_(router),
      watches_(watches),
      authenticate_(std::move(authenticate)),
      credential_(std::move(credential)),
      telling_(env.executor),
      limits_(limits) {}

void TerminalSocket::credential_ended(WebSocket& socket, const std::string& why) {
  if (ended_) return;
  ended_ = true;
  const std::string message = "the credential that opened this terminal was " + why;
  telling_.spawn([](WebSocket* socket, std::string message) -> Task<void> {
    Task<void> sending = send_error(*socket, {ErrorCode::unauthenticated, message});
    co_await sending;
    socket->close(message);
  }(&socket, message));
}

Task<void> TerminalSocket::send_error(WebSocket& socket, Error error) {
  Task<bool> sending = socket.write(text({{"type", "error"},
                                          {"code", std::string(to_string(error.code))},
                                          {"message", error.message}}));
  (void)co_await sending;
}

Task<bool> TerminalSocket::authenticate(WebSocket& socket) {
  // The first message, within the timeout: a silent client holds no connection for long.
  auto [arrived, arrival] = make_promise<Result<WebSocketMessage>>(env_.executor);
  Scope reading(env_.executor);
  reading.spawn([](WebSocket* socket, Promise<Result<WebSocketMessage>> arrived) -> Task<void> {
    Task<Result<WebSocketMessage>> next = socket->read();
    arrived.set(co_await next);
  }(&socket, arrived));
  ScopedTimer deadline(env_.executor,
                       env_.executor.after(limits_.auth_timeout, [arrived = arrived] {
                         arrived.set(fail(ErrorCode::timeout, "no auth message"));
                       }));
  Result<WebSocketMessage> first = co_await arrival;
  if (!first) {
    if (first.error().code == ErrorCode::timeout) {
      Task<void> sending = send_error(
          socket,
          {ErrorCode::unauthenticated, "send {\"type\":\"auth\",\"token\":TOKEN} first (within " +
                                           format_duration(limits_.auth_timeout) + ")"});
      co_await sending;
    }
    co_return false;
  }
  const Json message = first->binary ? Json() : parse_json_or_discarded(first->data);
  if (!message.is_object() || text_field(message, "type") != "auth" ||
      !message.value("token", Json()).is_string()) {
    Task<void> sending = send_error(
        socket,
        {ErrorCode::unauthenticated, "the first message is {\"type\":\"auth\",\"token\":TOKEN}"});
    co_await sending;
    co_return false;
  }
  Task<Result<Credential>> checking = authenticate_(message["token"].get<std::string>());
  Result<Credential> credential = co_await checking;
  if (!credential) {
    Task<void> sending = send_error(socket, credential.error());
    co_await sending;
    co_return false;
  }
  credential_ = std::move(*credential);
  co_return true;
}

Task<Result<Json>> TerminalSocket::command(std::string name, Json args) {
  Task<Result<routing::v1::DaemonCommandResult>> asking =
      router_.daemon_command(credential_->user_id, daemon_id_, std::move(name), args.dump());
  Result<routing::v1::DaemonCommandResult> answer = co_await asking;
  if (!answer) co_return fail(answer.error());
  if (!answer->ok()) co_return fail(daemon::command_refusal(*answer));
  co_return parse_json_or_discarded(answer->output_json());
}

Task<bool> TerminalSocket::start(WebSocket& socket, Json message) {
  const std::string type = text_field(message, "type");
  const Json daemon = message.contains("daemon_id") ? message["daemon_id"] : Json();
  if (!daemon.is_string()) {
    Task<void> sending =
        send_error(socket, {ErrorCode::invalid_argument, type + " needs \"daemon_id\""});
    co_await sending;
    co_return false;
  }
  Task<Result<void>> checking =
      check_daemon_owner(env_, credential_->user_id, daemon.get<std::string>());
  Result<void> owned = co_await checking;
  Result<Json> view = fail(ErrorCode::internal, "unreachable");
  if (!owned) {
    view = fail(owned.error());
  } else {
    daemon_id_ = daemon.get<std::string>();
    if (type == "open") {
      Json args = Json::object();
      for (const char* key : {"rows", "cols"}) {
        if (message.contains(key)) args[key] = message[key];
      }
      Task<Result<Json>> opening = command("term_open", args);
      view = co_await opening;
    } else {
      const Json id = message.contains("terminal_id") ? message["terminal_id"] : Json();
      Task<Result<Json>> listing = command("term_list", Json::object());
      Result<Json> listed = co_await listing;
      view = fail(ErrorCode::not_found, "no terminal " +
                                            (id.is_string() ? id.get<std::string>() : "") +
                                            " on daemon " + daemon_id_);
      if (!listed) view = fail(listed.error());
      for (const auto& terminal : listed ? *listed : Json::array()) {
        if (id.is_string() && text_field(terminal, "id") == id.get<std::string>()) view = terminal;
      }
    }
  }
  if (!view) {
    Task<void> sending = send_error(socket, view.error());
    co_await sending;
    co_return false;
  }
  terminal_id_ = text_field(*view, "id");
  Task<bool> sending = socket.write(text({{"type", "opened"}, {"terminal", *view}}));
  co_return co_await sending;
}

Task<void> TerminalSocket::pump(WebSocket* socket, std::uint64_t offset) {
  bool announced = false;
  int failures = 0;
  while (!ended_) {
    Task<Result<Json>> reading =
        command("term_read",
                {{"id", terminal_id_}, {"offset", offset}, {"wait_ms", to_ms(limits_.read_wait)}});
    Result<Json> read = co_await reading;
    if (!read) {
      // A closed terminal, or a daemon out of reach for too long, ends the socket.
      if (read.error().code == ErrorCode::not_found || ++failures >= limits_.read_failures_max) {
        Task<void> sending = send_error(*socket, read.error());
        co_await sending;
        socket->close(read.error().message);
        co_return;
      }
      Sleep pausing = sleep(env_.executor, limits_.read_retry_delay);
      co_await pausing;
      continue;
    }
    failures = 0;
    const auto data = base64url_decode(text_field(*read, "data_base64url"));
    const std::uint64_t dropped = unsigned_field(*read, "dropped");
    if (dropped > 0) {
      Task<bool> telling = socket->write(text({{"type", "dropped"}, {"bytes", dropped}}));
      if (!co_await telling) co_return;
    }
    if (!announced) {
      announced = true;
      Task<bool> telling = socket->write(
          text({{"type", "output"}, {"offset", unsigned_field(*read, "offset", offset)}}));
      if (!co_await telling) co_return;
    }
    if (data && !data->empty()) {
      Task<bool> writing = socket->write({*data, true});
      if (!co_await writing) co_return;
    }
    offset = unsigned_field(*read, "next", offset);
    const Json terminal = read->contains("terminal") ? (*read)["terminal"] : Json::object();
    if (!bool_field(terminal, "running", true) &&
        offset >= unsigned_field(terminal, "output_bytes", offset)) {
      Task<bool> telling = socket->write(
          text({{"type", "exit"}, {"exit_code", integer_field(terminal, "exit_code", -1)}}));
      (void)co_await telling;
      ended_ = true;
      socket->close("the shell ended");
      co_return;
    }
  }
}

Task<void> TerminalSocket::run(WebSocket& socket) {
  if (!credential_) {
    Task<bool> authenticating = authenticate(socket);
    if (!co_await authenticating) {
      socket.close("unauthenticated");
      co_return;
    }
  }
  // Watched for as long as the socket runs: the watch, and its callback, go with this frame.
  auto watched = std::make_shared<const CredentialWatch*>(nullptr);
  auto watch = watches_.watch(*credential_, [this, &socket, watched] {
    credential_ended(socket, *watched != nullptr ? (*watched)->why() : "revoked");
  });
  if (watch) *watched = watch->get();
  if (!watch) {
    Task<void> sending = send_error(socket, watch.error());
    co_await sending;
    socket.close(watch.error().message);
    co_return;
  }
  Task<bool> greeting = socket.write(text({{"type", "ready"}, {"user_id", credential_->user_id}}));
  if (!co_await greeting) co_return;
  Scope pumps(env_.executor);  // destroyed first on the way out: the pump stops
  while (!ended_) {
    Task<Result<WebSocketMessage>> next = socket.read();
    Result<WebSocketMessage> message = co_await next;
    if (!message) break;  // the client left (the terminal stays, for a later attach)
    if (ended_) break;    // the credential ended while the message came: it runs nothing
    Json parsed = message->binary ? Json() : parse_json_or_discarded(message->data);
    if (!message->binary && !parsed.is_object()) {
      Task<void> sending = send_error(
          socket, {ErrorCode::invalid_argument, "a text frame is a JSON object with a \"type\""});
      co_await sending;
      continue;
    }
    const std::string type = message->binary ? "input" : text_field(parsed, "type");
    if (type == "open" || type == "attach") {
      if (!terminal_id_.empty()) {
        Task<void> sending = send_error(
            socket, {ErrorCode::failed_precondition, "this socket has a terminal already"});
        co_await sending;
        continue;
      }
      const Json offset = parsed.contains("offset") ? parsed["offset"] : Json(std::uint64_t{0});
      if (!offset.is_number_unsigned()) {
        Task<void> sending =
            send_error(socket, {ErrorCode::invalid_argument, "offset is a byte count (>= 0)"});
        co_await sending;
        continue;
      }
      Task<bool> starting = start(socket, parsed);
      if (co_await starting) pumps.spawn(pump(&socket, offset.get<std::uint64_t>()));
      continue;
    }
    if (terminal_id_.empty()) {
      Task<void> sending =
          send_error(socket, {ErrorCode::failed_precondition, "open or attach a terminal first"});
      co_await sending;
      continue;
    }
    Result<Json> done = fail(ErrorCode::invalid_argument,
                             "unknown message type \"" + type + "\" (input, resize or close)");
    if (type == "input") {
      Json args{{"id", terminal_id_}};
      if (message->binary) {
        args["data_base64url"] = base64url_encode(message->data);
      } else {
        args["data"] = parsed.contains("data") ? parsed["data"] : Json();
      }
      Task<Result<Json>> typing = command("term_input", args);
      done = co_await typing;
    } else if (type == "resize") {
      Task<Result<Json>> resizing =
          command("term_resize", {{"id", terminal_id_},
                                  {"rows", parsed.contains("rows") ? parsed["rows"] : Json()},
                                  {"cols", parsed.contains("cols") ? parsed["cols"] : Json()}});
      done = co_await resizing;
    } else if (type == "close") {
      Task<Result<Json>> closing = command("term_close", {{"id", terminal_id_}});
      done = co_await closing;
      ended_ = true;
    }
    if (!done) {
      Task<void> sending = send_error(socket, done.error());
      co_await sending;
    }
  }
  ended_ = true;
  socket.close("");
}

}  // namespace reliant::api
