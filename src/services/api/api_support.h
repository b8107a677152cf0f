// What the api's two faces — REST (ApiServer) and gRPC (GrpcApi) — share beyond ChatService:
// personal-access-token authentication and the reads that are not a chat's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/bearer_verifier.h"
#include "runtime/env.h"
#include "services/storage/daemons.h"

namespace reliant::api {

// The token of an `Authorization: Bearer <token>` value; empty when it is not one.
std::string bearer_token(std::string_view authorization);

// The id of the user a bearer token belongs to. A personal access token (rlnt_pat_…) is looked
// up in the store; anything else is a JWT from the identity provider, checked by `jwt` (when
// configured) — its subject is the user's id, and a user seen for the first time is created.
// Fails with unauthenticated when the token is empty, unknown, revoked, expired or invalid, or
// with the store's error.
Task<Result<std::string>> authenticate(Env& env, const BearerVerifier* jwt, std::string token);

// The user's daemons, oldest first.
Task<Result<std::vector<DaemonRecord>>> load_daemons(Env& env, std::string user_id);

}  // namespace reliant::api
