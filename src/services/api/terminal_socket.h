// TerminalSocket: the session behind the api's WebSocket /api/v2/terminal/ws — a browser's (or
// any client's) terminal on one of the user's daemons, over the daemon's typed terminal calls
// (TerminalService and the pages of daemon_pages.proto) through the DaemonRouter, so through
// whichever gateway holds the daemon.
//
// Framing. Text frames are JSON control messages; binary frames are terminal bytes.
//   client → server
//     {"type":"auth","token":T}          first, unless the upgrade request carried
//                                        `Authorization: Bearer T` (browsers cannot set it)
//     {"type":"open","daemon_id":D,"rows":R,"cols":C}     a new terminal (rows/cols optional)
//     {"type":"attach","daemon_id":D,"terminal_id":T,"offset":N}
//                                        an open one, its output replayed from byte N (default 0,
//                                        as far as the scrollback reaches): a reloaded page
//                                        resumes with no gap and no duplicate
//     binary frame, or {"type":"input","data":S}           what is typed
//     {"type":"resize","rows":R,"cols":C}
//     {"type":"close"}                   closes the terminal (its shell is killed), then the socket
//   server → client
//     {"type":"ready","user_id":U}       after authentication
//     {"type":"opened","terminal":VIEW}  after open or attach (VIEW: the TerminalSession in
//                                        protobuf's JSON mapping: id, rows, cols, outputBytes, …)
//     binary frames                      the terminal's output, in order, from the offset asked
//     {"type":"output","offset":N}       before the first output frame: the byte offset it
//                                        starts at (what to attach from after a reload is this
//                                        plus every byte received since)
//     {"type":"dropped","bytes":N}       output the scrollback no longer held
//     {"type":"exit","exit_code":N}      the shell ended; the socket then closes
//     {"type":"error","code":C,"message":M}  a refused message; fatal ones close the socket
// A socket that leaves without "close" leaves the terminal open for a later attach (the
// daemon's idle timeout closes it eventually). The socket lives no longer than the credential
// that opened it: once that token is revoked (a browser's sign-out revokes its session token)
// or expires, the server sends {"type":"error","code":"unauthenticated",…}, closes the socket
// and runs nothing more the client sends (CredentialWatches, on every api replica).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/env.h"
#include "runtime/scope.h"
#include "runtime/websocket.h"
#include "services/api/credential_watch.h"
#include "services/routing/daemon_router.h"

namespace reliant::api {

// A token's credential, for the socket's auth message (the same check every request gets).
using TokenAuthenticator = std::function<Task<Result<Credential>>(std::string token)>;

struct TerminalSocketLimits {
  Duration auth_timeout = seconds(10);  // the auth message must come this soon
  Duration read_wait = seconds(2);      // one long-poll of the terminal's output
  int read_failures_max = 5;            // in a row, before the socket gives up on the daemon
  Duration read_retry_delay = milliseconds(500);
};

class TerminalSocket final : public WebSocketSession {
 public:
  // `credential` set: authenticated by the upgrade request already. `watches` outlives the
  // socket's run.
  TerminalSocket(Env& env, routing::DaemonRouter& router, CredentialWatches& watches,
                 TokenAuthenticator authenticate, std::optional<Credential> credential,
                 TerminalSocketLimits limits = {});
  Task<void> run(WebSocket& socket) override;

 private:
  Task<bool> authenticate(WebSocket& socket);
  // Opens or attaches; false when refused (the error was sent).
  Task<bool> start(WebSocket& socket, nlohmann::json message);
  Task<void> pump(WebSocket* socket, std::uint64_t offset);
  // Forwards an input, resize or close message; the daemon's refusal, if any.
  Task<Result<void>> forward(const std::string& type, const WebSocketMessage& message,
                             const nlohmann::json& parsed);
  static Task<void> send_error(WebSocket& socket, Error error);

  // The credential ended: tells the client, closes the socket, and runs nothing more.
  void credential_ended(WebSocket& socket, const std::string& why);

  Env& env_;
  routing::DaemonRouter& router_;
  CredentialWatches& watches_;
  TokenAuthenticator authenticate_;
  std::optional<Credential> credential_;
  Scope telling_;  // the message that says why the socket closes
  TerminalSocketLimits limits_;
  std::string daemon_id_;
  std::string terminal_id_;
  bool ended_ = false;  // the shell ended or the socket is done
};

}  // namespace reliant::api
