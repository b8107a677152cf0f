// The terminal WebSocket's session (terminal_socket.h): authentication, open or attach, input
// and resize as typed calls to the daemon, and a pump that long-polls the terminal's output.
#include "services/api/terminal_socket.h"

#include <limits>

#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon_pages.pb.h"
#include "runtime/future.h"
#include "runtime/sleep.h"
#include "services/api/daemon_routes.h"
#include "services/api/daemon_services_rpc.h"
#include "services/routing/daemon_calls.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;
namespace pages = reliant::daemon::v1;

// Error messages may quote what a client sent, which need not be UTF-8: replaced, never thrown
// on.
WebSocketMessage text(const Json& message) {
  return {message.dump(-1, ' ', false, Json::error_handler_t::replace), false};
}

// A terminal size's rows or cols from a control message: absent is 0 (the daemon's default, or
// refused where both are needed), else a whole number that the daemon bounds.
Result<std::int32_t> cells(const Json& message, const char* key) {
  if (!message.contains(key)) return 0;
  const Json& value = message[key];
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
      value.get<std::int64_t>() > std::numeric_limits<std::int32_t>::max()) {
    return fail(ErrorCode::invalid_argument,
                std::string(key) + " is a whole number of cells, not " + value.dump());
  }
  return value.get<std::int32_t>();
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
  Result<v1::TerminalSession> view = fail(ErrorCode::internal, "unreachable");
  const Result<std::int32_t> rows = cells(message, "rows");
  const Result<std::int32_t> cols = cells(message, "cols");
  const Json id = message.contains("terminal_id") ? message["terminal_id"] : Json();
  if (!owned) {
    view = fail(owned.error());
  } else if (!rows || !cols) {
    view = fail(rows ? cols.error() : rows.error());
  } else if (type == "open") {
    daemon_id_ = daemon.get<std::string>();
    Task<Result<v1::TerminalSession>> opening =
        open_terminal(router_, credential_->user_id, daemon_id_, *rows, *cols);
    view = co_await opening;
  } else if (!id.is_string()) {
    view = fail(ErrorCode::invalid_argument, "attach needs \"terminal_id\"");
  } else {
    daemon_id_ = daemon.get<std::string>();
    Task<Result<v1::TerminalSession>> finding =
        find_terminal(router_, credential_->user_id, daemon_id_, id.get<std::string>());
    view = co_await finding;
  }
  if (!view) {
    Task<void> sending = send_error(socket, view.error());
    co_await sending;
    co_return false;
  }
  terminal_id_ = view->id();
  Task<bool> sending =
      socket.write(text({{"type", "opened"}, {"terminal", Json::parse(protocol::to_json(*view))}}));
  co_return co_await sending;
}

Task<void> TerminalSocket::pump(WebSocket* socket, std::uint64_t offset) {
  bool announced = false;
  int failures = 0;
  while (!ended_) {
    pages::ReadTerminalRequest asked;
    asked.set_daemon_id(daemon_id_);
    asked.set_session_id(terminal_id_);
    asked.set_offset(offset);
    asked.set_wait_ms(to_ms(limits_.read_wait));
    Task<Result<pages::TerminalOutputPage>> reading =
        routing::call_daemon<pages::TerminalOutputPage>(router_, credential_->user_id, daemon_id_,
                                                        routing::kReadTerminal, asked);
    Result<pages::TerminalOutputPage> read = co_await reading;
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
    if (read->dropped() > 0) {
      Task<bool> telling = socket->write(text({{"type", "dropped"}, {"bytes", read->dropped()}}));
      if (!co_await telling) co_return;
    }
    if (!announced) {
      announced = true;
      Task<bool> telling = socket->write(text({{"type", "output"}, {"offset", read->offset()}}));
      if (!co_await telling) co_return;
    }
    if (!read->data().empty()) {
      Task<bool> writing = socket->write({read->data(), true});
      if (!co_await writing) co_return;
    }
    offset = read->next();
    const v1::TerminalSession& terminal = read->terminal();
    if (!terminal.running() && offset >= terminal.output_bytes()) {
      Task<bool> telling = socket->write(text(
          {{"type", "exit"}, {"exit_code", terminal.has_exit_code() ? terminal.exit_code() : -1}}));
      (void)co_await telling;
      ended_ = true;
      socket->close("the shell ended");
      co_return;
    }
  }
}

// What an input, resize or close message asks of the daemon; its refusal, if any.
Task<Result<void>> TerminalSocket::forward(const std::string& type, const WebSocketMessage& message,
                                           const Json& parsed) {
  Result<v1::TerminalSession> done = fail(ErrorCode::invalid_argument, "unreachable");
  if (type == "input") {
    pages::WriteTerminalRequest write;
    write.set_daemon_id(daemon_id_);
    write.set_session_id(terminal_id_);
    if (message.binary) {
      write.set_data(message.data);
    } else if (parsed.contains("data") && parsed["data"].is_string()) {
      write.set_data(parsed["data"].get<std::string>());
    } else {
      co_return fail(ErrorCode::invalid_argument, "input needs \"data\" (text)");
    }
    Task<Result<v1::TerminalSession>> typing = routing::call_daemon<v1::TerminalSession>(
        router_, credential_->user_id, daemon_id_, routing::kWriteTerminal, write);
    done = co_await typing;
  } else if (type == "resize") {
    const Result<std::int32_t> rows = cells(parsed, "rows");
    const Result<std::int32_t> cols = cells(parsed, "cols");
    if (!rows || !cols) co_return fail(rows ? cols.error() : rows.error());
    pages::ResizeTerminalRequest resize;
    resize.set_daemon_id(daemon_id_);
    resize.set_session_id(terminal_id_);
    resize.set_rows(*rows);
    resize.set_cols(*cols);
    Task<Result<v1::TerminalSession>> resizing = routing::call_daemon<v1::TerminalSession>(
        router_, credential_->user_id, daemon_id_, routing::kResizeTerminal, resize);
    done = co_await resizing;
  } else if (type == "close") {
    v1::CloseTerminalSessionRequest close;
    close.set_daemon_id(daemon_id_);
    close.set_session_id(terminal_id_);
    ended_ = true;
    Task<Result<v1::TerminalSession>> closing = routing::call_daemon<v1::TerminalSession>(
        router_, credential_->user_id, daemon_id_, routing::kCloseTerminalSession, close);
    done = co_await closing;
  } else {
    co_return fail(ErrorCode::invalid_argument,
                   "unknown message type \"" + type + "\" (input, resize or close)");
  }
  if (!done) co_return fail(done.error());
  co_return Result<void>{};
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
    Task<Result<void>> forwarding = forward(type, *message, parsed);
    Result<void> done = co_await forwarding;
    if (!done) {
      Task<void> sending = send_error(socket, done.error());
      co_await sending;
    }
  }
  ended_ = true;
  socket.close("");
}

}  // namespace reliant::api
