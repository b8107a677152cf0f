// DaemonRoutes: a daemon's own services over REST, reached through the DaemonRouter (the bus in
// the distributed deployment, the embedded daemon in the monolith): its MCPService
//   GET  /api/v1/daemons/{id}/mcp                           the servers and their status
//   GET  /api/v1/daemons/{id}/mcp/tools[?server=NAME]       their tools
//   POST /api/v1/daemons/{id}/mcp/{server}/enable|disable|restart
//   POST /api/v1/daemons/{id}/mcp/reload                    reads mcp.json again (202, not awaited)
// and its BackgroundService (the processes its bash tool runs in the background):
//   GET  /api/v1/daemons/{id}/processes                     each one's command and state
//   GET  /api/v1/daemons/{id}/processes/{pid}/output        its output since the last read
//   GET  /api/v1/daemons/{id}/processes/{pid}/follow?offset=N&wait_ms=M
//                                                           its output from byte N, waiting up
//                                                           to M ms for more while it runs
//   POST /api/v1/daemons/{id}/processes/{pid}/kill
// and its FileSystemService (daemon/file_service.h; the workspace roots confine every path):
//   GET  /api/v1/daemons/{id}/files?path=P                 the entries under a directory
//   GET  /api/v1/daemons/{id}/files/tree?path=P&depth=N    a tree, bounded
//   GET  /api/v1/daemons/{id}/files/stat?path=P
//   GET  /api/v1/daemons/{id}/files/search?path=P&query=RE[&glob=G&ignore_case=true]
//   GET  /api/v1/daemons/{id}/files/content?path=P         the file (utf-8, else base64url)
//   PUT  /api/v1/daemons/{id}/files/content?path=P         {"content"}: replaces it
//   POST /api/v1/daemons/{id}/files                        {path, type: file|directory,
//                                                           content?}: creates it (201)
//   DELETE /api/v1/daemons/{id}/files?path=P[&recursive=true]
//   POST /api/v1/daemons/{id}/files/move                   {path, to}
//   POST /api/v1/daemons/{id}/files/copy                   {path, to}
// and its TerminalService (daemon/terminal_service.h; the WebSocket /api/v2/terminal/ws streams
// the same terminals):
//   GET    /api/v1/daemons/{id}/terminals                   the open terminals
//   POST   /api/v1/daemons/{id}/terminals                   {rows?, cols?}: opens one (201)
//   POST   /api/v1/daemons/{id}/terminals/{t}/input         {data | data_base64url}
//   POST   /api/v1/daemons/{id}/terminals/{t}/resize        {rows, cols}
//   GET    /api/v1/daemons/{id}/terminals/{t}/output?offset=N&wait_ms=M
//   DELETE /api/v1/daemons/{id}/terminals/{t}               closes it (its shell is killed)
// Another user's daemon is a 404, like one that does not exist; an unreachable one is a 503.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/http.h"
#include "services/routing/daemon_router.h"

namespace reliant::api {

// Succeeds when `daemon_id` is one of `user_id`'s daemons; `not_found` otherwise (another
// user's daemon is told apart from no daemon by nobody).
Task<Result<void>> check_daemon_owner(Env& env, std::string user_id, std::string daemon_id);

class DaemonRoutes {
 public:
  // `router` null: these routes answer 503 (a deployment whose api reaches no daemon).
  DaemonRoutes(Env& env, routing::DaemonRouter* router);

  // The response for /api/v1/daemons/{id}/…; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

 private:
  Env& env_;
  routing::DaemonRouter* router_;
};

}  // namespace reliant::api
