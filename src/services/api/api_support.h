// What the api's two faces — REST (ApiServer) and gRPC (GrpcApi) — share beyond ChatService:
// JSON responses and bodies, bearer authentication and the reads that are not a chat's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/bearer_token.h"
#include "core/workflow/loader.h"
#include "runtime/bearer_verifier.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "services/api/credential_watch.h"
#include "services/storage/chats.h"
#include "services/storage/daemons.h"

namespace reliant::api {

using Json = nlohmann::json;

// A JSON response. Invalid UTF-8 in `body` (error messages echo request bytes) is replaced
// rather than thrown on, so a client's mistake never becomes a 500.
HttpResponse json_response(int status, const Json& body);
// The request body as a JSON object ({} when empty); invalid_argument otherwise, also when it
// nests deeper than kJsonDepthMax (base/json_parse.h).
Result<Json> parse_json_body(const HttpRequest& request);
// Whether a header's name is `lower_case_name`, in any case (handlers write names as they like).
bool header_name_is(std::string_view name, std::string_view lower_case_name);
// "/api/v1/chats/abc/messages" → {api, v1, chats, abc, messages}.
std::vector<std::string> path_segments(const std::string& path);

// A YAML file's mistakes as the API reports them: each {line, column, message, text} put in
// *diagnostics (when given), and an invalid_argument error naming the first ("f:3:5: …") and
// how many more.
Error diagnosed(std::string_view file, const std::vector<workflow::Diagnostic>& mistakes,
                Json* diagnostics);
// The REST answer for an operation's result: `status` with its JSON, or the error, listing
// every mistake of a file that did not load when there are `diagnostics`.
HttpResponse respond_diagnosed(const Result<Json>& out, int status, const Json& diagnostics);

// A transaction body that returns the JSON to answer with.
using JsonTransactionBody = std::function<Result<Json>(SqlTransaction&)>;

// A query's non-negative integer (since_seq, limit …); empty is 0. `what` names it in errors.
Result<std::int64_t> parse_seq(const std::string& text, const std::string& what);
// Runs `body` in a transaction; then answers `status` with the JSON it returned, or the error.
Task<HttpResponse> transact_and_respond(Env& env, JsonTransactionBody body, int status);

// Whose a bearer token is, which token it was and when it expires (what a long-lived stream
// watches, CredentialWatches). A personal access token (rlnt_pat_…) is looked up in the store;
// anything else is a JWT from the identity provider, checked by `jwt` (when configured) — its
// subject is the user's id, and a user seen for the first time is created. Fails with
// unauthenticated when the token is empty, unknown, revoked, expired or invalid, with
// already_exists when a new JWT user's email belongs to an account made another way, or with
// the store's error.
Task<Result<Credential>> authenticate_credential(Env& env, const BearerVerifier* jwt,
                                                 std::string token);

// The user's daemons, oldest first.
Task<Result<std::vector<DaemonRecord>>> load_daemons(Env& env, std::string user_id);

// Paging of a chat's messages (REST GET /chats/{id}, gRPC GetChat): a long chat is tens of
// megabytes, so it comes a page at a time. The page asked for, from its parts (0: not given):
// `limit` defaults to kMessagePageDefault and is capped at kMessagePageMax; `after` and `before`
// are message ordinals, the page starting after the one or ending before the other. Fails with
// invalid_argument for a negative value or both cursors at once.
Result<MessagePageQuery> message_page_query(std::int64_t limit, std::int64_t after,
                                            std::int64_t before);

}  // namespace reliant::api
