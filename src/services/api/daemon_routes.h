// DaemonRoutes: a daemon's own services over REST, reached through the DaemonRouter (the bus in
// the distributed deployment, the embedded daemon in the monolith). Each route is a typed call
// (reliant/api/v1/daemon_services.proto, and the pages of daemon/v1/daemon_pages.proto) in
// protobuf's JSON mapping: the request message is read from the path's captures, the query
// (a field per parameter; an unknown one is a 400 naming those there are) and the posted object;
// the answer is the response message, fields in lowerCamelCase, 64-bit integers as strings,
// bytes in base64, defaults left out. {id} below is the daemon's.
// Its FileSystemService (the workspace roots confine every path):
//   GET    /api/v1/daemons/{id}/files?path=P                  ListDirectory
//   GET    /api/v1/daemons/{id}/files/tree?path=P&depth=N     GetFileTree
//   GET    /api/v1/daemons/{id}/files/stat?path=P             GetFileMetadata
//   GET    /api/v1/daemons/{id}/files/search?path=P&query=RE[&glob=G&ignore_case=true]
//   GET    /api/v1/daemons/{id}/files/content?path=P          GetFileContent
//   PUT    /api/v1/daemons/{id}/files/content?path=P          SaveFileContent {content}
//   POST   /api/v1/daemons/{id}/files                         CreateFileOrFolder {path, kind,
//                                                             content} (201)
//   DELETE /api/v1/daemons/{id}/files?path=P[&recursive=true] DeleteFileOrFolder
//   POST   /api/v1/daemons/{id}/files/move                    MoveFile {path, to}
//   POST   /api/v1/daemons/{id}/files/copy                    CopyFile {path, to}
// its TerminalService (the WebSocket /api/v2/terminal/ws streams the same terminals):
//   GET    /api/v1/daemons/{id}/terminals                     ListSessions
//   POST   /api/v1/daemons/{id}/terminals                     OpenTerminal {rows, cols} (201)
//   POST   /api/v1/daemons/{id}/terminals/{t}/input           WriteTerminal {data: base64}
//   POST   /api/v1/daemons/{id}/terminals/{t}/resize          ResizeTerminal {rows, cols}
//   GET    /api/v1/daemons/{id}/terminals/{t}/output?offset=N&wait_ms=M   ReadTerminal
//   DELETE /api/v1/daemons/{id}/terminals/{t}                 CloseSession (its shell is killed)
// its BackgroundService (the processes its bash tool runs in the background):
//   GET    /api/v1/daemons/{id}/processes                     ListProcesses
//   GET    /api/v1/daemons/{id}/processes/{p}/output          GetProcessOutput (since last read)
//   GET    /api/v1/daemons/{id}/processes/{p}/follow?offset=N&wait_ms=M   FollowProcessOutput
//   POST   /api/v1/daemons/{id}/processes/{p}/kill            KillProcess
// and its MCPService:
//   GET    /api/v1/daemons/{id}/mcp                           ListServers
//   GET    /api/v1/daemons/{id}/mcp/tools[?server=NAME]       GetServerTools
//   POST   /api/v1/daemons/{id}/mcp/{server}/enable|disable   SetServerEnabled
//   POST   /api/v1/daemons/{id}/mcp/{server}/restart          RestartServer
//   GET    /api/v1/daemons/{id}/mcp/files                     ListConfigFiles
//   POST   /api/v1/daemons/{id}/mcp/files/approve             ApproveConfigFile {file, sha256}
//   POST   /api/v1/daemons/{id}/mcp/reload                    reads mcp.json again (202, not
//                                                             awaited)
// Another user's daemon is a 404, like one that does not exist; an unreachable one is a 503; a
// daemon of an older release that lacks a call, a 501 naming it.
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
