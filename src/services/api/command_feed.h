// The daemon's side of the Commands protocol over HTTP, served by the api role (the monolith's
// listener too), authenticated by the daemon's commands token rather than a user's credential:
//   GET  /api/v1/daemon-commands/next?wait_s=N → 200 {command: {id, name, args, deliveries}}, or
//        204 when none came within N seconds (at most 60)
//   POST /api/v1/daemon-commands/{id}/result {ok, result | error} → 200 {recorded}
// A daemon that no gateway can dial still reaches it: the daemon makes the connection.
#pragma once

#include "runtime/http.h"
#include "services/control_plane/command_queue.h"

namespace reliant::api {

bool is_command_feed(const HttpRequest& request);
Task<HttpResponse> serve_command_feed(control_plane::CommandQueue& queue, HttpRequest request);

}  // namespace reliant::api
