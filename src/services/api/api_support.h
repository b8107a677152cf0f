// What the api's two faces — REST (ApiServer) and gRPC (GrpcApi) — share beyond ChatService:
// personal-access-token authentication and the reads that are not a chat's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/env.h"
#include "services/storage/daemons.h"

namespace reliant::api {

// The token of an `Authorization: Bearer <token>` value; empty when it is not one.
std::string bearer_token(std::string_view authorization);

// The id of the user `token` (a personal access token) belongs to. Fails with unauthenticated
// when the token is empty, unknown, revoked or expired, or with the store's error.
Task<Result<std::string>> authenticate_pat(Env& env, std::string token);

// The user's daemons, oldest first.
Task<Result<std::vector<DaemonRecord>>> load_daemons(Env& env, std::string user_id);

}  // namespace reliant::api
